from django.conf import settings
from django.db import models
from django.utils import timezone


class Profile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    stripe_customer_id = models.CharField(max_length=64, blank=True, db_index=True)
    pro_until = models.DateTimeField(null=True, blank=True)

    @property
    def is_pro(self) -> bool:
        return self.pro_until is not None and self.pro_until > timezone.now()
