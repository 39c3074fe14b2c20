package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

// runPgbenchList writes a pgbench script with the statement casework.List
// sends for one query: the SELECT of scripts/bench/pgbench/list_select.sql
// plus the WHERE clause bun builds (values inline, as the product sends
// them), ORDER BY id DESC and LIMIT limit+1.
func runPgbenchList(args []string) error {
	fs := flag.NewFlagSet("pgbench-list", flag.ExitOnError)
	head := fs.String("select", "scripts/bench/pgbench/list_select.sql", "the SELECT … FROM … JOIN part")
	agency := fs.Int64("agency", 0, "agency scope of an officer (0: oversight, sees all)")
	before := fs.Int64("before", 0, "cursor: id < before")
	status := fs.String("status", "", "status filter")
	category := fs.String("category", "", "category filter")
	q := fs.String("q", "", "search query")
	limit := fs.Int("limit", 50, "page size")
	explain := fs.Bool("explain", false, "prefix EXPLAIN (ANALYZE, BUFFERS) and print plain SQL")
	_ = fs.Parse(args)
	raw, err := os.ReadFile(*head)
	if err != nil {
		return err
	}
	var sel []string
	for _, l := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(l, "--") && strings.TrimSpace(l) != "" {
			sel = append(sel, l)
		}
	}
	lit := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
	var where []string
	if *agency != 0 {
		where = append(where, fmt.Sprintf(`("request".agency_id = %d)`, *agency))
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
		where = append(where, fmt.Sprintf(`("request".search_terms @> %s)`, lit(pgArray(terms))))
	}
	stmt := strings.Join(sel, "\n")
	if len(where) > 0 {
		stmt += "\nWHERE " + strings.Join(where, " AND ")
	}
	stmt += fmt.Sprintf("\nORDER BY \"request\".id DESC LIMIT %d;", *limit+1)
	if *explain {
		stmt = "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + stmt
	}
	fmt.Println(stmt)
	return nil
}
