package billing

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"os"

	"github.com/stripe/stripe-go/v82"
	"github.com/stripe/stripe-go/v82/webhook"
)

var planByPrice = map[string]string{
	"price_1PqBasicMonthly": "basic",
	"price_1PqProMonthly":   "pro",
}

// WebhookHandler receives Stripe events at POST /webhooks/stripe.
type WebhookHandler struct {
	DB     *sql.DB
	Stripe *stripe.Client
}

func (h *WebhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	payload, err := io.ReadAll(io.LimitReader(r.Body, 65536))
	if err != nil {
		http.Error(w, "cannot read body", http.StatusServiceUnavailable)
		return
	}
	event, err := webhook.ConstructEvent(payload, r.Header.Get("Stripe-Signature"), os.Getenv("STRIPE_WEBHOOK_SECRET"))
	if err != nil {
		log.Printf("stripe webhook: signature verification failed: %v", err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}

	tx, err := h.DB.BeginTx(ctx, nil)
	if err != nil {
		http.Error(w, "database unavailable", http.StatusServiceUnavailable)
		return
	}
	defer tx.Rollback()

	switch event.Type {
	case stripe.EventTypeCheckoutSessionCompleted:
		err = h.onCheckoutCompleted(ctx, tx, event)
	case stripe.EventTypeCustomerSubscriptionCreated, stripe.EventTypeCustomerSubscriptionUpdated:
		err = h.onSubscriptionChanged(ctx, tx, event)
	case stripe.EventTypeCustomerSubscriptionDeleted:
		err = h.onSubscriptionDeleted(ctx, tx, event)
	case stripe.EventTypeInvoicePaymentFailed:
		err = h.onPaymentFailed(ctx, tx, event)
	default:
		log.Printf("stripe webhook: ignoring %s", event.Type)
	}
	if err != nil {
		log.Printf("stripe webhook %s failed: %v", event.ID, err)
		http.Error(w, "processing failed", http.StatusInternalServerError)
		return
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO processed_events (event_id, type) VALUES ($1, $2) ON CONFLICT DO NOTHING`, event.ID, event.Type); err != nil {
		http.Error(w, "processing failed", http.StatusInternalServerError)
		return
	}
	if err := tx.Commit(); err != nil {
		http.Error(w, "processing failed", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (h *WebhookHandler) onCheckoutCompleted(ctx context.Context, tx *sql.Tx, event stripe.Event) error {
	var session stripe.CheckoutSession
	if err := json.Unmarshal(event.Data.Raw, &session); err != nil {
		return err
	}
	if session.PaymentStatus != stripe.CheckoutSessionPaymentStatusPaid {
		return nil
	}
	_, err := tx.ExecContext(ctx,
		`UPDATE accounts SET stripe_customer_id = $1, has_paid_access = true, plan = $2 WHERE id = $3`,
		session.Customer.ID, planByPrice[session.Metadata["price_id"]], session.ClientReferenceID)
	return err
}

func (h *WebhookHandler) onSubscriptionChanged(ctx context.Context, tx *sql.Tx, event stripe.Event) error {
	var sub stripe.Subscription
	if err := json.Unmarshal(event.Data.Raw, &sub); err != nil {
		return err
	}
	fresh, err := h.Stripe.V1Subscriptions.Retrieve(ctx, sub.ID, nil)
	if err != nil {
		return err
	}
	paying := fresh.Status == stripe.SubscriptionStatusActive || fresh.Status == stripe.SubscriptionStatusTrialing
	_, err = tx.ExecContext(ctx, `UPDATE accounts SET has_paid_access = $1 WHERE stripe_customer_id = $2`, paying, fresh.Customer.ID)
	return err
}

func (h *WebhookHandler) onSubscriptionDeleted(ctx context.Context, tx *sql.Tx, event stripe.Event) error {
	var sub stripe.Subscription
	if err := json.Unmarshal(event.Data.Raw, &sub); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE accounts SET has_paid_access = false, plan = 'free' WHERE stripe_customer_id = $1`, sub.Customer.ID)
	return err
}

func (h *WebhookHandler) onPaymentFailed(ctx context.Context, tx *sql.Tx, event stripe.Event) error {
	var invoice stripe.Invoice
	if err := json.Unmarshal(event.Data.Raw, &invoice); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE accounts SET payment_failed_at = now() WHERE stripe_customer_id = $1`, invoice.Customer.ID)
	return err
}
