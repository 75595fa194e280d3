from django.conf import settings
from django.db import models


class Customer(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="billing")
    stripe_id = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField(auto_now_add=True)
