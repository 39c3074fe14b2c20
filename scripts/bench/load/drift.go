package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os/exec"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// runDrift checks that the pgbench baseline still does what the product
// does: it files n requests over HTTP, then runs the pgbench script n times,
// and compares how many rows each added to every table. The product changes
// under the benchmark; when it starts writing somewhere new, the baseline
// script must follow, and this says so.
//
//	load drift -n 5 -users bench.ent01 -- /path/to/pgbench -M prepared -D… -f create.sql
func runDrift(args []string) error {
	fs := flag.NewFlagSet("drift", flag.ExitOnError)
	db := dbFlag(fs)
	base := baseFlag(fs)
	n := fs.Int("n", 5, "requests each way")
	users := fs.String("users", "bench.ent01", "users")
	category := fs.String("category", "security_protection", "category")
	_ = fs.Parse(args)
	pgb := fs.Args()
	if len(pgb) == 0 {
		return fmt.Errorf("usage: load drift [flags] -- pgbench args (without -c/-t and the database)")
	}
	ctx := context.Background()
	pool, err := connect(ctx, *db, 2)
	if err != nil {
		return err
	}
	defer pool.Close()
	us := splitList(*users)
	c := newClient(*base, "demo12345", 2)
	for _, u := range us {
		if _, err := c.token(ctx, u); err != nil { // sign-in writes rows too: before the count
			return err
		}
	}
	before, err := tableCounts(ctx, pool)
	if err != nil {
		return err
	}
	g := newTextGen(1)
	for i := range *n {
		code, raw, err := c.do(ctx, us[i%len(us)], http.MethodPost, "/api/v1/requests", createBody(g, *category, int64(i)))
		if err != nil || code != http.StatusCreated {
			return fmt.Errorf("create: %d %v %.300s", code, err, raw)
		}
	}
	mid, err := tableCounts(ctx, pool)
	if err != nil {
		return err
	}
	cmd := exec.Command(pgb[0], append(pgb[1:], "-n", "-c", "1", "-t", fmt.Sprint(*n), *db)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pgbench: %v\n%s", err, out)
	}
	after, err := tableCounts(ctx, pool)
	if err != nil {
		return err
	}
	var names []string
	for t := range after {
		names = append(names, t)
	}
	slices.Sort(names)
	var httpRows, pgbRows, diff []string
	for _, t := range names {
		h, p := mid[t]-before[t], after[t]-mid[t]
		if h != 0 {
			httpRows = append(httpRows, fmt.Sprintf("%s %+.3g", t, float64(h)/float64(*n)))
		}
		if p != 0 {
			pgbRows = append(pgbRows, fmt.Sprintf("%s %+.3g", t, float64(p)/float64(*n)))
		}
		if h != p {
			diff = append(diff, fmt.Sprintf("%s (HTTP %+.3g, pgbench %+.3g per request)", t, float64(h)/float64(*n), float64(p)/float64(*n)))
		}
	}
	fmt.Printf("  rows added per create: HTTP: %s\n", strings.Join(httpRows, ", "))
	fmt.Printf("  rows added per create: pgbench script: %s\n", strings.Join(pgbRows, ", "))
	if len(diff) > 0 {
		fmt.Printf("  WARNING: the pgbench baseline no longer matches the product (update scripts/bench/pgbench/create.sql): %s\n",
			strings.Join(diff, "; "))
		return nil
	}
	fmt.Println("  the pgbench script writes the same rows as the product: baseline up to date")
	return nil
}

// tableCounts counts the rows of every table of the public schema.
func tableCounts(ctx context.Context, pool *pgxpool.Pool) (map[string]int64, error) {
	rows, err := pool.Query(ctx, `SELECT relname FROM pg_stat_user_tables WHERE schemaname = 'public'`)
	if err != nil {
		return nil, err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, t := range names {
		var n int64
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{t}.Sanitize()).Scan(&n); err != nil {
			return nil, err
		}
		out[t] = n
	}
	return out, nil
}
