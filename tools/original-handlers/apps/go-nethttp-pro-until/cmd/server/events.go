package main

import (
	"context"
	"database/sql"
)

func alreadyProcessed(ctx context.Context, db *sql.DB, eventID string) (bool, error) {
	var n int
	err := db.QueryRowContext(ctx, "SELECT count(*) FROM processed_events WHERE id = $1", eventID).Scan(&n)
	return n > 0, err
}

func markProcessed(ctx context.Context, db *sql.DB, eventID string) error {
	_, err := db.ExecContext(ctx, "INSERT INTO processed_events (id) VALUES ($1) ON CONFLICT DO NOTHING", eventID)
	return err
}
