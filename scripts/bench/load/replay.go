package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// A routing run changes the burst's rows and adds new ones. To route the same
// burst again, the bench puts the database back to the state right after the
// burst was filed: a snapshot then records, for every table with an id, the
// last id before the burst (from), the last id after it (to) and a digest of
// the rows in (from, to]; the reset deletes every row above to, puts the rows
// routing changes back, and proves it by comparing the digests.

type tableMark struct {
	From   int64  `json:"from"`
	To     int64  `json:"to"`
	Digest string `json:"digest,omitempty"`
}

type snapshot map[string]tableMark

func idTables(ctx context.Context, pool *pgxpool.Pool) ([]string, error) {
	rows, err := pool.Query(ctx, `SELECT c.table_name FROM information_schema.columns c
		JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE c.table_schema = 'public' AND c.column_name = 'id' AND c.data_type = 'bigint'
		  AND t.table_type = 'BASE TABLE' AND c.table_name NOT LIKE 'bench%' ORDER BY 1`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

func digest(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, table string, from, to int64) (string, error) {
	var d *string
	id := pgx.Identifier{table}.Sanitize()
	err := q.QueryRow(ctx, fmt.Sprintf(`SELECT md5(string_agg(t::text, '|' ORDER BY t.id)) FROM %s t WHERE t.id > $1 AND t.id <= $2`, id),
		from, to).Scan(&d)
	if d == nil {
		return "", err
	}
	return *d, err
}

// runSnapshot: without -from it records the last ids (before the burst);
// with -from it records the burst's rows (after the burst) and saves the
// officers' routing state.
func runSnapshot(args []string) error {
	fs := flag.NewFlagSet("snapshot", flag.ExitOnError)
	db := dbFlag(fs)
	from := fs.String("from", "", "snapshot taken before the burst")
	out := fs.String("out", "", "write the snapshot here")
	_ = fs.Parse(args)
	ctx := context.Background()
	pool, err := connect(ctx, *db, 1)
	if err != nil {
		return err
	}
	defer pool.Close()
	var before snapshot
	if *from != "" {
		raw, err := os.ReadFile(*from)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(raw, &before); err != nil {
			return err
		}
	}
	tables, err := idTables(ctx, pool)
	if err != nil {
		return err
	}
	snap := snapshot{}
	for _, t := range tables {
		var last int64
		if err := pool.QueryRow(ctx, fmt.Sprintf(`SELECT coalesce(max(id), 0) FROM %s`, pgx.Identifier{t}.Sanitize())).Scan(&last); err != nil {
			return err
		}
		m := tableMark{From: last, To: last}
		if b, ok := before[t]; ok {
			m.From = b.From
			if m.Digest, err = digest(ctx, pool, t, m.From, m.To); err != nil {
				return err
			}
		}
		snap[t] = m
	}
	if *from != "" {
		if _, err := pool.Exec(ctx, `DROP TABLE IF EXISTS bench_officer_state;
			CREATE TABLE bench_officer_state AS SELECT user_id, last_assigned_at FROM officer_profiles`); err != nil {
			return err
		}
	}
	raw, _ := json.MarshalIndent(snap, "", " ")
	return os.WriteFile(*out, raw, 0o644)
}

// runReplay puts the database back to the snapshot taken after the burst.
func runReplay(args []string) error {
	fs := flag.NewFlagSet("replay", flag.ExitOnError)
	db := dbFlag(fs)
	from := fs.String("snapshot", "", "snapshot taken after the burst")
	_ = fs.Parse(args)
	ctx := context.Background()
	raw, err := os.ReadFile(*from)
	if err != nil {
		return err
	}
	var snap snapshot
	if err := json.Unmarshal(raw, &snap); err != nil {
		return err
	}
	pool, err := connect(ctx, *db, 1)
	if err != nil {
		return err
	}
	defer pool.Close()
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(ctx) }() // a no-op after Commit
	// Rows are removed children and parents alike; skip the FK triggers.
	if _, err := tx.Exec(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
		return err
	}
	req, ok := snap["requests"]
	if !ok {
		return errors.New("snapshot has no requests")
	}
	for t, m := range snap {
		if _, err := tx.Exec(ctx, fmt.Sprintf(`DELETE FROM %s WHERE id > $1`, pgx.Identifier{t}.Sanitize()), m.To); err != nil {
			return err
		}
	}
	ob := snap["outbox"]
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`DELETE FROM request_declines WHERE request_id > $1`, []any{req.From}},
		{`UPDATE requests SET status = 'submitted', agency_id = NULL, assignee_id = NULL, offered_at = NULL,
		   pool_reason = NULL, offer_misses = 0, version = 1, accepted_at = NULL, resolved_at = NULL, closed_at = NULL,
		   updated_at = created_at WHERE id > $1`, []any{req.From}},
		{`UPDATE outbox SET dispatched_at = NULL, attempts = 0, last_error = NULL WHERE id > $1 AND id <= $2`, []any{ob.From, ob.To}},
		{`UPDATE officer_profiles p SET last_assigned_at = s.last_assigned_at FROM bench_officer_state s
		   WHERE s.user_id = p.user_id AND p.last_assigned_at IS DISTINCT FROM s.last_assigned_at`, nil},
	} {
		if _, err := tx.Exec(ctx, q.sql, q.args...); err != nil {
			return fmt.Errorf("%s: %w", strings.Fields(q.sql)[0], err)
		}
	}
	var bad []string
	names := make([]string, 0, len(snap))
	for t := range snap {
		names = append(names, t)
	}
	slices.Sort(names)
	for _, t := range names {
		m := snap[t]
		d, err := digest(ctx, tx, t, m.From, m.To)
		if err != nil {
			return err
		}
		if d != m.Digest {
			bad = append(bad, t)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	for _, t := range []string{"requests", "request_events", "outbox", "notifications", "officer_profiles"} {
		if _, err := pool.Exec(ctx, "VACUUM ANALYZE "+pgx.Identifier{t}.Sanitize()); err != nil {
			return err
		}
	}
	if len(bad) > 0 {
		fmt.Printf("  WARNING: replay could not restore the burst's rows of %s (routing now changes them; see scripts/bench/load/replay.go)\n",
			strings.Join(bad, ", "))
	}
	return nil
}
