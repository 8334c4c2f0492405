package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// rowsOfRep is what the database holds of one registered representation:
// its rows in representations, and its history rows, journal entries and
// notices of one event type.
type rowsOfRep struct {
	reps, history, journal, notices int
}

// occurrencesOf folds a representation's rows into how many times its
// write was applied: 0 when any part of it is missing (the history row
// and the journal entry are written in the same transaction as the
// representation), more than 1 when any part is doubled. wantNotices is
// how many notices one event queues.
func occurrencesOf(r rowsOfRep, wantNotices int) int {
	switch {
	case r.reps == 0 || r.history == 0 || r.journal == 0 || (wantNotices > 0 && r.notices == 0):
		return 0
	case r.reps > 1 || r.history > 1 || r.journal > 1 || (wantNotices > 0 && r.notices > wantNotices):
		return max(2, r.reps, r.history, r.journal)
	}
	return 1
}

// mode is the most frequent of counts' values (the smallest of equals),
// 0 for none.
func mode(counts []int) int {
	seen := map[int]int{}
	best, bestN := 0, 0
	for _, c := range counts {
		seen[c]++
		if n := seen[c]; n > bestN || (n == bestN && c < best) {
			best, bestN = c, n
		}
	}
	return best
}

// readFound reads the load's writes from the leader's database. workers
// maps each site client's id to its worker. It returns how many notices
// one registration and one end queue.
func readFound(ctx context.Context, dsn string, workers map[string]int) (f found, noticesCreated, noticesEnded int, err error) {
	f = newFound()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return f, 0, 0, fmt.Errorf("connect to the leader: %w", err)
	}
	defer conn.Close(ctx)

	// Registrations by their reference, then ends by representation id.
	perEvent := func(event string, keyOf string) (map[string]rowsOfRep, error) {
		rows, err := conn.Query(ctx, `
			SELECT `+keyOf+`,
				(SELECT count(*) FROM representation_history h WHERE h.representation_id = r.id AND h.type = $1),
				(SELECT count(*) FROM journal_entries j WHERE j.representation_id = r.id::text AND j.type = $1),
				(SELECT count(*) FROM notices n WHERE n.data->>'representation_id' = r.id::text AND n.kind = $1)
			FROM representations r WHERE r.decision_reference LIKE 'RG HA %'`, event)
		if err != nil {
			return nil, err
		}
		out := map[string]rowsOfRep{}
		for rows.Next() {
			var key string
			var h, j, n int
			if err := rows.Scan(&key, &h, &j, &n); err != nil {
				return nil, err
			}
			r := out[key]
			r.reps++
			r.history += h
			r.journal += j
			r.notices += n
			out[key] = r
		}
		return out, rows.Err()
	}
	created, err := perEvent("representation.created", "r.decision_reference")
	if err != nil {
		return f, 0, 0, fmt.Errorf("registrations: %w", err)
	}
	ended, err := perEvent("representation.revoked", "r.id::text")
	if err != nil {
		return f, 0, 0, fmt.Errorf("ends: %w", err)
	}
	var nc, ne []int
	for _, r := range created {
		nc = append(nc, r.notices)
	}
	for _, r := range ended {
		if r.history > 0 {
			ne = append(ne, r.notices)
		}
	}
	noticesCreated, noticesEnded = mode(nc), mode(ne)
	for ref, r := range created {
		f.keyed[kindRegistration][ref] = occurrencesOf(r, noticesCreated)
	}
	for id, r := range ended {
		f.keyed[kindEnd][id] = occurrencesOf(r, noticesEnded)
	}

	timedRows := func(k kind, q string) error {
		rows, err := conn.Query(ctx, q)
		if err != nil {
			return err
		}
		for rows.Next() {
			var client string
			var at time.Time
			if err := rows.Scan(&client, &at); err != nil {
				return err
			}
			if w, ok := workers[client]; ok {
				f.at[k][w] = append(f.at[k][w], at)
			}
		}
		return rows.Err()
	}
	if err := timedRows(kindToken, `SELECT client_id, created_at FROM oauth_tokens WHERE kind = 'access'`); err != nil {
		return f, 0, 0, fmt.Errorf("tokens: %w", err)
	}
	if err := timedRows(kindEvaluation, `SELECT client_id, at FROM journal_entries WHERE type = 'access.evaluated'`); err != nil {
		return f, 0, 0, fmt.Errorf("evaluations: %w", err)
	}
	return f, noticesCreated, noticesEnded, nil
}
