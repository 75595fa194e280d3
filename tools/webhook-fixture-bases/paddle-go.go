package billing

import (
	"database/sql"
	"encoding/json"
	"log"
	"net/http"
	"os"

	paddle "github.com/PaddleHQ/paddle-go-sdk/v4"
)

type paddleEvent struct {
	EventID   string          `json:"event_id"`
	EventType string          `json:"event_type"`
	Data      json.RawMessage `json:"data"`
}

type paddleSubscription struct {
	ID         string `json:"id"`
	Status     string `json:"status"`
	CustomerID string `json:"customer_id"`
}

// PaddleWebhook handles POST /webhooks/paddle.
func PaddleWebhook(db *sql.DB) http.HandlerFunc {
	verifier := paddle.NewWebhookVerifier(os.Getenv("PADDLE_WEBHOOK_SECRET"))
	return func(w http.ResponseWriter, r *http.Request) {
		ok, err := verifier.Verify(r)
		if err != nil || !ok {
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		var event paddleEvent
		if err := json.NewDecoder(r.Body).Decode(&event); err != nil {
			http.Error(w, "bad payload", http.StatusBadRequest)
			return
		}
		var sub paddleSubscription
		_ = json.Unmarshal(event.Data, &sub)
		switch event.EventType {
		case "subscription.activated", "subscription.updated":
			entitled := sub.Status == "active" || sub.Status == "trialing"
			_, err = db.ExecContext(r.Context(), `UPDATE accounts SET has_paid_access = $1 WHERE paddle_customer_id = $2`, entitled, sub.CustomerID)
		case "subscription.canceled":
			_, err = db.ExecContext(r.Context(), `UPDATE accounts SET has_paid_access = false, plan = 'free' WHERE paddle_customer_id = $1`, sub.CustomerID)
		default:
			log.Printf("paddle webhook: ignoring %s", event.EventType)
		}
		if err != nil {
			log.Printf("paddle webhook %s failed: %v", event.EventID, err)
			http.Error(w, "processing failed", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	}
}
