package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// benchUserPrefix names the enterprise users the bench adds, one per demo
// enterprise, all with ent1's password (demo12345).
const benchUserPrefix = "bench.ent"

func runSetup(args []string) error {
	fs := flag.NewFlagSet("setup", flag.ExitOnError)
	db := dbFlag(fs)
	officers := fs.Int("officers", 0, "add this many police officers (skill security_protection)")
	capacity := fs.Int("capacity", 100, "capacity of each added officer")
	agencyOfficers := fs.Int("agency-officers", 0, "add this many officers to each of court, procuratorate, police, justice (skills: the agency's categories)")
	users := fs.Bool("users", false, "add one enterprise user per demo enterprise ("+benchUserPrefix+"NN)")
	_ = fs.Parse(args)
	ctx := context.Background()
	pool, err := connect(ctx, *db, 2)
	if err != nil {
		return err
	}
	defer pool.Close()
	if *users {
		// One statement, in enterprise order, so user ids run parallel to
		// enterprise ids (pgbench picks a user by offset; checked below).
		tag, err := pool.Exec(ctx, `
			INSERT INTO users (username, display_name, role, password_hash, enterprise_id)
			SELECT format('`+benchUserPrefix+`%s', lpad(e.id::text, 2, '0')), '压测用户' || e.id, 'enterprise',
			       (SELECT password_hash FROM users WHERE username = 'ent1'), e.id
			FROM enterprises e ORDER BY e.id`)
		if err != nil {
			return fmt.Errorf("bench users: %w", err)
		}
		fmt.Printf("  setup: %d bench enterprise users (%s01…, password demo12345)\n", tag.RowsAffected(), benchUserPrefix)
	}
	if *agencyOfficers > 0 {
		tag, err := pool.Exec(ctx, `
			WITH u AS (
			  INSERT INTO users (username, display_name, role, password_hash, agency_id)
			  SELECT 'bench.off.' || a.code || '.' || g, a.name || '干警' || g, 'officer', 'x', a.id
			  FROM agencies a, generate_series(1, $1::int) g
			  WHERE a.code IN ('court', 'procuratorate', 'police', 'justice')
			  ON CONFLICT DO NOTHING -- already there from an earlier run (--reuse)
			  RETURNING id, agency_id)
			INSERT INTO officer_profiles (user_id, skills, capacity, on_duty)
			SELECT u.id, (SELECT array_agg(c.code ORDER BY c.code) FROM categories c JOIN agencies a ON a.kind = c.agency_kind WHERE a.id = u.agency_id),
			       $2::int, true
			FROM u`, *agencyOfficers, *capacity)
		if err != nil {
			return fmt.Errorf("agency officers: %w", err)
		}
		fmt.Printf("  setup: %d officers across court, procuratorate, police, justice (capacity %d)\n", tag.RowsAffected(), *capacity)
	}
	if *officers > 0 {
		tag, err := pool.Exec(ctx, `
			WITH u AS (
			  INSERT INTO users (username, display_name, role, password_hash, agency_id)
			  SELECT 'bench.cop' || g, '压测警官' || g, 'officer', 'x', (SELECT id FROM agencies WHERE code = 'police')
			  FROM generate_series(1, $1::int) g
			  ON CONFLICT DO NOTHING -- already there from an earlier run (--reuse)
			  RETURNING id)
			INSERT INTO officer_profiles (user_id, skills, capacity, on_duty) SELECT id, '{security_protection}', $2::int, true FROM u`,
			*officers, *capacity)
		if err != nil {
			return fmt.Errorf("bench officers: %w", err)
		}
		fmt.Printf("  setup: %d police officers (skill security_protection, capacity %d)\n", tag.RowsAffected(), *capacity)
		// They start empty: requests an earlier run (--reuse) left with them
		// would hold their capacity and the burst would find none.
		tag, err = pool.Exec(ctx, `UPDATE requests SET status = 'closed', closed_at = now(), updated_at = now()
			WHERE status IN ('assigned', 'in_progress', 'waiting_enterprise')
			  AND assignee_id IN (SELECT id FROM users WHERE username LIKE 'bench.cop%')`)
		if err != nil {
			return fmt.Errorf("bench officers' open requests: %w", err)
		}
		if tag.RowsAffected() > 0 {
			fmt.Printf("  setup: closed %d requests earlier runs left with them\n", tag.RowsAffected())
		}
	}
	return nil
}

// benchUsers returns the bench users' names, ids and enterprise ids, in order.
func benchUsers(ctx context.Context, pool *pgxpool.Pool, n int) (names []string, ids, ents []int64, err error) {
	rows, err := pool.Query(ctx, `SELECT username, id, enterprise_id FROM users WHERE username LIKE $1 ORDER BY id LIMIT $2`,
		benchUserPrefix+"%", n)
	if err != nil {
		return nil, nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var id, ent int64
		if err := rows.Scan(&name, &id, &ent); err != nil {
			return nil, nil, nil, err
		}
		names, ids, ents = append(names, name), append(ids, id), append(ents, ent)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, nil, err
	}
	if len(ids) < n {
		return nil, nil, nil, fmt.Errorf("only %d bench users (run `load setup -users`)", len(ids))
	}
	return names, ids, ents, nil
}

// shanghaiYear is the year the product puts into ticket numbers (China has
// no daylight saving time, so a fixed offset is exact).
func shanghaiYear(t time.Time) int { return t.UTC().Add(8 * time.Hour).Year() }

// runPgbenchVars prints, one per line, the -D arguments of
// scripts/bench/pgbench/create.sql: the users to file as (user id and
// enterprise id are each a base plus the same offset) and a request text
// drawn from the same generator as the HTTP load.
func runPgbenchVars(args []string) error {
	fs := flag.NewFlagSet("pgbench-vars", flag.ExitOnError)
	db := dbFlag(fs)
	n := fs.Int("users", 16, "number of bench users")
	category := fs.String("category", "security_protection", "category")
	_ = fs.Parse(args)
	ctx := context.Background()
	pool, err := connect(ctx, *db, 1)
	if err != nil {
		return err
	}
	defer pool.Close()
	_, ids, ents, err := benchUsers(ctx, pool, *n)
	if err != nil {
		return err
	}
	for i := range ids {
		if ids[i]-ids[0] != int64(i) || ents[i]-ents[0] != int64(i) {
			return fmt.Errorf("bench user ids are not contiguous (user %d: id %d enterprise %d)", i, ids[i], ents[i])
		}
	}
	g := newTextGen(42)
	title := g.title(*category) + " #1"
	descr := g.description(*category)
	terms := searchTerms(title, descr)
	for _, kv := range [][2]string{
		{"nusers", fmt.Sprint(*n)}, {"ubase", fmt.Sprint(ids[0])}, {"ebase", fmt.Sprint(ents[0])},
		{"year", fmt.Sprint(shanghaiYear(time.Now()))}, {"category", *category},
		{"title", title}, {"descr", descr}, {"terms", pgArray(terms)},
	} {
		if strings.ContainsAny(kv[1], "\n\r") {
			return fmt.Errorf("pgbench variable %s has a newline", kv[0])
		}
		fmt.Printf("-D%s=%s\n", kv[0], kv[1])
	}
	return nil
}
