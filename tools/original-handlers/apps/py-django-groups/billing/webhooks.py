import stripe
from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest
from django.views.decorators.csrf import csrf_exempt

from billing.access import grant_pro_group, revoke_pro_group
from billing.models import Customer


@csrf_exempt
def stripe_events(request):
    sig = request.headers.get("Stripe-Signature", "")
    try:
        event = stripe.Webhook.construct_event(request.body, sig, settings.STRIPE_ENDPOINT_SECRET)
    except stripe.error.SignatureVerificationError:
        return HttpResponseBadRequest("bad signature")

    obj = event.data.object
    match event.type:
        case "customer.subscription.created" | "customer.subscription.updated":
            customer = Customer.objects.select_related("user").get(stripe_id=obj.customer)
            if obj.status in ("active", "trialing"):
                grant_pro_group(customer.user)
            else:
                revoke_pro_group(customer.user)
        case "customer.subscription.deleted":
            customer = Customer.objects.select_related("user").get(stripe_id=obj.customer)
            revoke_pro_group(customer.user)
        case _:
            pass
    return HttpResponse(status=200)
