package webhooks

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"

	"github.com/stripe/stripe-go/v78"
	"github.com/stripe/stripe-go/v78/webhook"

	"github.com/acme/guild/internal/db"
)

type eventFunc func(ctx context.Context, q *db.Queries, raw json.RawMessage) error

var handlers = map[stripe.EventType]eventFunc{
	"invoice.paid":                  onInvoicePaid,
	"customer.subscription.deleted": onSubscriptionDeleted,
}

func Stripe(q *db.Queries) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		evt, err := webhook.ConstructEvent(body, r.Header.Get("Stripe-Signature"), os.Getenv("STRIPE_WEBHOOK_SECRET"))
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if fn, ok := handlers[evt.Type]; ok {
			if err := fn(r.Context(), q, evt.Data.Raw); err != nil {
				w.WriteHeader(http.StatusInternalServerError)
				return
			}
		}
		w.WriteHeader(http.StatusOK)
	}
}

func onInvoicePaid(ctx context.Context, q *db.Queries, raw json.RawMessage) error {
	var inv stripe.Invoice
	if err := json.Unmarshal(raw, &inv); err != nil {
		return err
	}
	return q.ActivateMembership(ctx, inv.Customer.ID)
}

func onSubscriptionDeleted(ctx context.Context, q *db.Queries, raw json.RawMessage) error {
	var sub stripe.Subscription
	if err := json.Unmarshal(raw, &sub); err != nil {
		return err
	}
	return q.DeactivateMembership(ctx, sub.Customer.ID)
}
