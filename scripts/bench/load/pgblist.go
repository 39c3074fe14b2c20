package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"unicode"

	"greenchannel/internal/casework"
)

// runPgbenchList prints the pgbench script of one GET /api/v1/requests
// query from scripts/bench/pgbench/list.sql: the caller's lookup, the
// statement casework.List sends (the WHERE clause bun builds, values inline)
// and the SLA clocks of the page. With -explain it prints only the list
// statement under EXPLAIN ANALYZE.
func runPgbenchList(args []string) error {
	fs := flag.NewFlagSet("pgbench-list", flag.ExitOnError)
	db := dbFlag(fs)
	tmpl := fs.String("template", "scripts/bench/pgbench/list.sql", "script template")
	user := fs.String("user", "oversight1", "the caller (oversight sees all; an officer its agency)")
	before := fs.Int64("before", 0, "cursor: id < before")
	status := fs.String("status", "", "status filter")
	category := fs.String("category", "", "category filter")
	q := fs.String("q", "", "search query")
	limit := fs.Int("limit", 50, "page size")
	explain := fs.Bool("explain", false, "print EXPLAIN (ANALYZE, BUFFERS) of the list statement only")
	_ = fs.Parse(args)
	raw, err := os.ReadFile(*tmpl)
	if err != nil {
		return err
	}
	ctx := context.Background()
	pool, err := connect(ctx, *db, 1)
	if err != nil {
		return err
	}
	defer pool.Close()
	var uid int64
	var role string
	var agency *int64
	if err := pool.QueryRow(ctx, `SELECT id, role, agency_id FROM users WHERE username = $1`, *user).Scan(&uid, &role, &agency); err != nil {
		return fmt.Errorf("user %s: %w", *user, err)
	}

	lit := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
	var where []string
	switch role {
	case "officer", "agency_lead":
		where = append(where, fmt.Sprintf(`("request".agency_id = %d)`, *agency))
	case "oversight":
	default:
		return fmt.Errorf("role %s does not list requests this way", role)
	}
	if *before != 0 {
		where = append(where, fmt.Sprintf(`("request".id < %d)`, *before))
	}
	if *status != "" {
		where = append(where, fmt.Sprintf(`("request".status IN (%s))`, lit(*status)))
	}
	if *category != "" {
		where = append(where, fmt.Sprintf(`("request".category = %s)`, lit(*category)))
	}
	if terms := queryTerms(*q); len(terms) > 0 {
		// The first window of casework's search: the newest SearchWindow/5
		// ids, terms checked row by row (see searchNewestFirst).
		var hi int64
		if err := pool.QueryRow(ctx, `SELECT coalesce(max(id), 0) + 1 FROM requests`).Scan(&hi); err != nil {
			return err
		}
		lo := max(hi-casework.DefaultLimits.SearchWindow/5, 0)
		// Han terms as substrings of the title or description, the others in
		// the terms array (casework's matchRowByRow).
		var other []string
		for _, t := range terms {
			if strings.IndexFunc(t, func(r rune) bool { return !unicode.Is(unicode.Han, r) }) >= 0 {
				other = append(other, t)
				continue
			}
			where = append(where, fmt.Sprintf(`(strpos("request".title, %s) > 0 OR strpos("request".description, %s) > 0)`, lit(t), lit(t)))
		}
		if len(other) > 0 {
			where = append(where, fmt.Sprintf(`(("request".search_terms || '{}'::text[]) @> %s)`, lit(pgArray(other))))
		}
		where = append(where, fmt.Sprintf(`("request".id < %d AND "request".id >= %d)`, hi, lo))
	}
	wh := ""
	if len(where) > 0 {
		wh = "WHERE " + strings.Join(where, " AND ")
	}

	// Split the template into statements: caller, list, clocks.
	var body []string
	for _, l := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(l, "--") {
			body = append(body, l)
		}
	}
	stmts := strings.SplitAfter(strings.TrimSpace(strings.Join(body, "\n")), ";")
	if len(stmts) < 3 {
		return errors.New("template: want three statements")
	}
	fill := func(s, ids string) string {
		return strings.NewReplacer("{{uid}}", strconv.FormatInt(uid, 10), "{{where}}", wh,
			"{{limit}}", strconv.Itoa(*limit+1), "{{ids}}", ids).Replace(strings.TrimSpace(s))
	}
	list := fill(stmts[1], "")
	if *explain {
		fmt.Println("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + list)
		return nil
	}
	rows, err := pool.Query(ctx, strings.TrimSuffix(list, ";"))
	if err != nil {
		return fmt.Errorf("list statement: %w", err)
	}
	var ids []string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return err
		}
		ids = append(ids, fmt.Sprint(vals[0]))
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(ids) > *limit {
		ids = ids[:*limit]
	}
	if len(ids) == 0 {
		ids = []string{"0"}
	}
	fmt.Println(fill(stmts[0], ""))
	fmt.Println(list)
	fmt.Println(fill(stmts[2], strings.Join(ids, ", ")))
	return nil
}
