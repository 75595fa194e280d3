package main

import (
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/stripe/stripe-go/v78"
	"github.com/stripe/stripe-go/v78/webhook"
)

type app struct {
	db *sql.DB
}

func (a *app) stripeWebhook(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	ev, err := webhook.ConstructEvent(body, r.Header.Get("Stripe-Signature"), os.Getenv("STRIPE_WEBHOOK_SECRET"))
	if err != nil {
		http.Error(w, "signature", http.StatusBadRequest)
		return
	}
	ctx := r.Context()
	if seen, _ := alreadyProcessed(ctx, a.db, ev.ID); seen {
		w.WriteHeader(http.StatusOK)
		return
	}

	if ev.Type == stripe.EventTypeInvoicePaid {
		var inv stripe.Invoice
		json.Unmarshal(ev.Data.Raw, &inv)
		until := time.Unix(inv.Lines.Data[0].Period.End, 0)
		_, err = a.db.ExecContext(ctx, "UPDATE users SET pro_until = $1 WHERE stripe_customer_id = $2", until, inv.Customer.ID)
	} else if ev.Type == stripe.EventTypeCustomerSubscriptionDeleted {
		var sub stripe.Subscription
		json.Unmarshal(ev.Data.Raw, &sub)
		_, err = a.db.ExecContext(ctx, "UPDATE users SET pro_until = NULL WHERE stripe_customer_id = $1", sub.Customer.ID)
	}
	if err != nil {
		http.Error(w, "db", http.StatusInternalServerError)
		return
	}
	if err := markProcessed(ctx, a.db, ev.ID); err != nil {
		http.Error(w, "db", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
}
