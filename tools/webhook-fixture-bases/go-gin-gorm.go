package handlers

import (
	"encoding/json"
	"net/http"
	"os"

	"github.com/gin-gonic/gin"
	"github.com/stripe/stripe-go/v82"
	"github.com/stripe/stripe-go/v82/webhook"
	"gorm.io/gorm"
)

type Account struct {
	ID               uint
	StripeCustomerID string
	HasPaidAccess    bool
	Plan             string
}

// StripeWebhook is mounted at POST /webhooks/stripe.
func StripeWebhook(db *gorm.DB) gin.HandlerFunc {
	secret := os.Getenv("STRIPE_WEBHOOK_SECRET")
	return func(c *gin.Context) {
		payload, err := c.GetRawData()
		if err != nil {
			c.AbortWithStatus(http.StatusServiceUnavailable)
			return
		}
		event, err := webhook.ConstructEvent(payload, c.GetHeader("Stripe-Signature"), secret)
		if err != nil {
			c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{"error": "invalid signature"})
			return
		}

		var sub stripe.Subscription
		switch event.Type {
		case stripe.EventTypeCustomerSubscriptionUpdated:
			if err = json.Unmarshal(event.Data.Raw, &sub); err == nil {
				active := sub.Status == stripe.SubscriptionStatusActive || sub.Status == stripe.SubscriptionStatusTrialing
				err = db.Model(&Account{}).Where("stripe_customer_id = ?", sub.Customer.ID).Update("has_paid_access", active).Error
			}
		case stripe.EventTypeCustomerSubscriptionDeleted:
			if err = json.Unmarshal(event.Data.Raw, &sub); err == nil {
				err = db.Model(&Account{}).Where("stripe_customer_id = ?", sub.Customer.ID).
					Updates(map[string]any{"has_paid_access": false, "plan": "free"}).Error
			}
		default:
			c.JSON(http.StatusOK, gin.H{"ignored": event.Type})
			return
		}
		if err != nil {
			c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"error": "processing failed"})
			return
		}
		c.JSON(http.StatusOK, gin.H{"received": true})
	}
}
