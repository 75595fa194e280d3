import stripe
from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.models import Profile
from billing.services import end_pro, extend_pro


@csrf_exempt
@require_POST
def stripe_webhook(request):
    try:
        event = stripe.Webhook.construct_event(
            request.body, request.META.get("HTTP_STRIPE_SIGNATURE"), settings.STRIPE_WEBHOOK_SECRET
        )
    except (ValueError, stripe.error.SignatureVerificationError):
        return HttpResponse(status=400)

    obj = event["data"]["object"]
    try:
        if event["type"] == "invoice.paid":
            profile = Profile.objects.get(stripe_customer_id=obj["customer"])
            extend_pro(profile, obj["lines"]["data"][0]["period"]["end"])
        elif event["type"] == "customer.subscription.deleted":
            profile = Profile.objects.get(stripe_customer_id=obj["customer"])
            end_pro(profile)
    except Profile.DoesNotExist:
        return HttpResponse(status=200)
    except Exception:
        return HttpResponse(status=500)
    return HttpResponse(status=200)
