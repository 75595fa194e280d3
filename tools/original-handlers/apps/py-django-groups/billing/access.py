from django.contrib.auth.models import Group

PRO_GROUP = "pro-members"


def grant_pro_group(user) -> None:
    group, _ = Group.objects.get_or_create(name=PRO_GROUP)
    user.groups.add(group)


def revoke_pro_group(user) -> None:
    user.groups.remove(*user.groups.filter(name=PRO_GROUP))
