package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite" // driver "sqlite", read-only here
)

// storageTables are the tables that grow with the load: tokens, and the
// journal's entries and their personal details (migrations 00004 and
// 00011 of both stores).
var storageTables = []string{"oauth_tokens", "journal_entries", "journal_details"}

// tableSize is what one table holds and takes on disk, indexes included.
type tableSize struct {
	table string
	rows  int64
	bytes int64
}

// printStorage prints, for each table of storageTables, its rows, its
// bytes with its indexes, and bytes per row, read from the server's store
// (-db) after the runs.
func printStorage(ctx context.Context, dsn string, out io.Writer) error {
	var sizes []tableSize
	var err error
	store := "PostgreSQL"
	if path, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
		store = "SQLite"
		sizes, err = sqliteSizes(ctx, strings.TrimPrefix(path, "//"))
	} else {
		sizes, err = postgresSizes(ctx, dsn)
	}
	if err != nil {
		return fmt.Errorf("-db: %w", err)
	}
	fmt.Fprintf(out, "storage (%s)\n\n", store)
	fmt.Fprintln(out, row([]string{"table", "rows", "bytes with indexes", "bytes/row"}))
	fmt.Fprintln(out, row([]string{"---", "---:", "---:", "---:"}))
	for _, s := range sizes {
		perRow := none
		if s.rows > 0 {
			perRow = fmt.Sprintf("%.0f", float64(s.bytes)/float64(s.rows))
		}
		fmt.Fprintln(out, row([]string{s.table, fmt.Sprint(s.rows), fmt.Sprint(s.bytes), perRow}))
	}
	return nil
}

func postgresSizes(ctx context.Context, dsn string) ([]tableSize, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var sizes []tableSize
	for _, t := range storageTables {
		s := tableSize{table: t}
		q := "SELECT count(*), pg_total_relation_size($1::regclass) FROM " + pgx.Identifier{t}.Sanitize()
		if err := conn.QueryRow(ctx, q, t).Scan(&s.rows, &s.bytes); err != nil {
			return nil, fmt.Errorf("%s: %w", t, err)
		}
		sizes = append(sizes, s)
	}
	return sizes, nil
}

// sqliteSizes counts the pages of each table and of its indexes in the
// dbstat virtual table, which modernc.org/sqlite compiles in; a build
// without it is said, not guessed around.
func sqliteSizes(ctx context.Context, path string) ([]tableSize, error) {
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	// pragma_module_list names the virtual tables compiled in.
	var dbstat int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pragma_module_list WHERE name = 'dbstat'`).Scan(&dbstat); err != nil {
		return nil, err
	}
	if dbstat == 0 {
		return nil, errors.New("this SQLite has no dbstat table (SQLITE_ENABLE_DBSTAT_VTAB): table sizes are not measured")
	}
	var sizes []tableSize
	for _, t := range storageTables {
		s := tableSize{table: t}
		// The name comes from storageTables, never from input.
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM "`+t+`"`).Scan(&s.rows); err != nil {
			return nil, fmt.Errorf("%s: %w", t, err)
		}
		var bytes sql.NullInt64
		err := db.QueryRowContext(ctx, `SELECT sum(pgsize) FROM dbstat
			WHERE name = ?1 OR name IN (SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?1)`, t).Scan(&bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: dbstat: %w", t, err)
		}
		s.bytes = bytes.Int64
		sizes = append(sizes, s)
	}
	return sizes, nil
}
