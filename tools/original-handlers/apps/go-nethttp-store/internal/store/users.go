package store

import (
	"context"
	"database/sql"
)

type Store struct {
	DB *sql.DB
}

func (s *Store) SetUserPlanByCustomerID(ctx context.Context, customerID, plan string) error {
	_, err := s.DB.ExecContext(ctx,
		`UPDATE users SET plan = $1, updated_at = now() WHERE stripe_customer_id = $2`,
		plan, customerID)
	return err
}
