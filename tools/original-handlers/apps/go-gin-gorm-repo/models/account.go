package models

import "time"

type Account struct {
	ID                 uint   `gorm:"primaryKey"`
	Email              string `gorm:"uniqueIndex"`
	StripeCustomerID   string `gorm:"uniqueIndex"`
	SubscriptionStatus string
	CurrentPeriodEnd   time.Time
}

func (a Account) Active() bool {
	return a.SubscriptionStatus == "active" || a.SubscriptionStatus == "trialing"
}
