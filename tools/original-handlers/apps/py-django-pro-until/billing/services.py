from datetime import datetime, timezone

from django.utils import timezone as djtz


def extend_pro(profile, period_end_ts: int) -> None:
    profile.pro_until = datetime.fromtimestamp(period_end_ts, tz=timezone.utc)
    profile.save(update_fields=["pro_until"])


def end_pro(profile) -> None:
    profile.pro_until = djtz.now()
    profile.save(update_fields=["pro_until"])
