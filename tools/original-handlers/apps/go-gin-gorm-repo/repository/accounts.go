package repository

import (
	"time"

	"gorm.io/gorm"

	"github.com/acme/tracker/models"
)

type AccountRepo struct {
	DB *gorm.DB
}

func (r *AccountRepo) UpdateSubscription(customerID, status string, periodEnd int64) error {
	return r.DB.Model(&models.Account{}).
		Where("stripe_customer_id = ?", customerID).
		Updates(map[string]any{
			"subscription_status": status,
			"current_period_end":  time.Unix(periodEnd, 0),
		}).Error
}
