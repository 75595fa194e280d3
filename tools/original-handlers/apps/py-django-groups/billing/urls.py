from django.urls import path

from billing.webhooks import stripe_events

urlpatterns = [path("webhooks/stripe/", stripe_events)]
