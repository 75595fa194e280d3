import logging

import stripe
from django.conf import settings
from django.db import transaction
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.models import Profile
from billing.models import StripeEvent

logger = logging.getLogger(__name__)


def handle_checkout_completed(session):
    if session.payment_status != "paid":
        return
    Profile.objects.filter(user_id=session.metadata["user_id"]).update(
        stripe_customer_id=session.customer,
        has_paid_access=True,
        plan="premium",
    )


def handle_subscription_updated(data):
    subscription = stripe.Subscription.retrieve(data.id)
    paying = subscription.status in ("active", "trialing")
    Profile.objects.filter(stripe_customer_id=subscription.customer).update(has_paid_access=paying)


def handle_subscription_deleted(subscription):
    Profile.objects.filter(stripe_customer_id=subscription.customer).update(
        has_paid_access=False,
        plan="free",
    )


def handle_invoice_paid(invoice):
    if invoice.status != "paid":
        return
    Profile.objects.filter(stripe_customer_id=invoice.customer).update(has_paid_access=True)


HANDLERS = {
    "checkout.session.completed": handle_checkout_completed,
    "customer.subscription.updated": handle_subscription_updated,
    "customer.subscription.deleted": handle_subscription_deleted,
    "invoice.paid": handle_invoice_paid,
}


@csrf_exempt
@require_POST
def stripe_webhook(request):
    payload = request.body
    sig_header = request.META.get("HTTP_STRIPE_SIGNATURE")
    try:
        event = stripe.Webhook.construct_event(payload, sig_header, settings.STRIPE_WEBHOOK_SECRET)
    except (ValueError, stripe.error.SignatureVerificationError):
        logger.warning("rejected stripe webhook with a bad signature")
        return HttpResponse(status=400)

    if StripeEvent.objects.filter(event_id=event.id).exists():
        return HttpResponse(status=200)

    handler = HANDLERS.get(event.type)
    if handler is None:
        logger.info("unhandled stripe event %s", event.type)
        return HttpResponse(status=200)

    try:
        with transaction.atomic():
            handler(event.data.object)
            StripeEvent.objects.create(event_id=event.id, type=event.type)
    except Exception:
        logger.exception("stripe webhook %s failed", event.id)
        return HttpResponse(status=500)
    return HttpResponse(status=200)
