package webhook

import (
	"context"
	"database/sql"
)

type AccessStore struct {
	DB *sql.DB
}

func (s *AccessStore) SetAccess(ctx context.Context, paddleCustomerID string, hasAccess bool) error {
	_, err := s.DB.ExecContext(ctx,
		"UPDATE customers SET has_access = $1 WHERE paddle_customer_id = $2",
		hasAccess, paddleCustomerID)
	return err
}
