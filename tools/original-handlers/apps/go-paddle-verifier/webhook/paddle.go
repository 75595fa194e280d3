package webhook

import (
	"encoding/json"
	"io"
	"log"
	"net/http"
	"os"

	paddle "github.com/PaddleHQ/paddle-go-sdk"
)

type payload struct {
	EventType string `json:"event_type"`
	Data      struct {
		ID         string `json:"id"`
		CustomerID string `json:"customer_id"`
		Status     string `json:"status"`
	} `json:"data"`
}

func PaddleHandler(access *AccessStore) http.HandlerFunc {
	verifier := paddle.NewWebhookVerifier(os.Getenv("PADDLE_WEBHOOK_SECRET"))
	return func(w http.ResponseWriter, r *http.Request) {
		ok, err := verifier.Verify(r)
		if err != nil || !ok {
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "read", http.StatusBadRequest)
			return
		}
		var p payload
		if err := json.Unmarshal(body, &p); err != nil {
			http.Error(w, "decode", http.StatusBadRequest)
			return
		}
		switch p.EventType {
		case "subscription.activated":
			err = access.SetAccess(r.Context(), p.Data.CustomerID, true)
		case "subscription.canceled":
			err = access.SetAccess(r.Context(), p.Data.CustomerID, false)
		}
		if err != nil {
			log.Printf("paddle %s: %v", p.EventType, err)
			http.Error(w, "retry", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	}
}
