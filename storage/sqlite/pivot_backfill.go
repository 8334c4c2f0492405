package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/pressly/goose/v3"
)

// pivotBackfill is migration 00029: it writes the pivot key of every person
// recorded before migration 00028 added the column, in batches by id. The
// key is computed in Go (mandates.PivotKey folds accents), so this
// migration cannot be SQL.
var pivotBackfill = goose.NewGoMigration(29, &goose.GoFunc{RunTx: backfillPivots}, &goose.GoFunc{RunTx: forgetPivots})

func backfillPivots(ctx context.Context, tx *sql.Tx) error {
	after := ""
	for {
		rows, err := tx.QueryContext(ctx, `SELECT `+personColumns+` FROM persons WHERE pivot_key IS NULL AND id > ? ORDER BY id LIMIT 500`, after)
		if err != nil {
			return fmt.Errorf("backfill pivot keys: %w", err)
		}
		var keys [][2]any
		for rows.Next() {
			p, err := scanPerson(rows)
			if err != nil {
				rows.Close()
				return fmt.Errorf("backfill pivot keys: %w", err)
			}
			keys = append(keys, [2]any{pivotKey(p), p.ID})
			after = p.ID
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("backfill pivot keys: %w", err)
		}
		if len(keys) == 0 {
			return nil
		}
		for _, k := range keys {
			if _, err := tx.ExecContext(ctx, `UPDATE persons SET pivot_key = ? WHERE id = ?`, k[0], k[1]); err != nil {
				return fmt.Errorf("backfill pivot keys: %w", err)
			}
		}
	}
}

func forgetPivots(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `UPDATE persons SET pivot_key = NULL`)
	return err
}
