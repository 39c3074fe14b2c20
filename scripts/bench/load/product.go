package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"

	"greenchannel/internal/config"
	"greenchannel/internal/identity"
	"greenchannel/internal/inspection"
	"greenchannel/internal/oversight"
	"greenchannel/internal/platform/clock"
	"greenchannel/internal/platform/pg"
	"greenchannel/internal/platform/workcal"
	"greenchannel/internal/sla"
)

// product holds the product's own services, wired as internal/app wires
// them but on the bench database and a fake clock, so Go-level timings
// measure the product's functions and not a re-implementation.
type product struct {
	db         *bun.DB
	clock      *clock.Fake
	sla        *sla.Service
	inspection *inspection.Service
	oversight  *oversight.Service
	capture    *capture
}

func openProduct(ctx context.Context, url string) (*product, error) {
	if url == "" {
		return nil, errors.New("no database URL (-db or GC_DATABASE_URL)")
	}
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	if err := benchOnly(cfg.Database); err != nil {
		return nil, err
	}
	c := &capture{}
	db, err := pg.OpenTraced(ctx, url, c)
	if err != nil {
		return nil, err
	}
	appCfg, err := config.Parse(func(name string) string {
		if name == "GC_ENV" && os.Getenv(name) == "" {
			return "dev"
		}
		return os.Getenv(name)
	})
	if err != nil {
		return nil, err
	}
	p := &product{clock: clock.NewFake(time.Now()), capture: c}
	db = db.WithQueryHook(c)
	p.db = db
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	p.sla = sla.NewService(db, p.clock, log)
	secrets := make([][]byte, len(appCfg.SecretKeys))
	for i, k := range appCfg.SecretKeys {
		secrets[i] = k.Secret
	}
	working := func(ctx context.Context) (*workcal.Calendar, error) { return p.sla.CalendarByCode(ctx, "working") }
	p.inspection = inspection.NewService(db, p.clock, log, secrets, appCfg.PublicURL, working)
	p.oversight = oversight.NewService(db, p.clock, log, working)
	return p, nil
}

// signingKey is the key the bench serve signs inspection codes with
// (GC_SECRET_KEYS, or the dev key with GC_ENV=dev).
func signingKey() ([]byte, error) {
	cfg, err := config.Parse(func(name string) string {
		if name == "GC_ENV" && os.Getenv(name) == "" {
			return "dev"
		}
		return os.Getenv(name)
	})
	if err != nil {
		return nil, err
	}
	if len(cfg.SecretKeys) == 0 {
		return nil, errors.New("no signing key")
	}
	return cfg.SecretKeys[0].Secret, nil
}

// capture records the SQL the product sends while on, exactly as bun sends
// it (simple protocol, values inline): the same text the server's statement
// log shows. The product's prepared statements (pg.Prepared) bypass bun; as
// a pgx tracer the capture sees them with their arguments and writes the
// values in. The statements become the pgbench baseline script of a
// Go-level figure.
type capture struct {
	mu       sync.Mutex
	on       bool
	sqls     []string
	prepared map[string]string // batch statements' names and texts
}

func (c *capture) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (c *capture) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.on {
		c.sqls = append(c.sqls, e.Query)
	}
}

// TraceQueryStart records a prepared statement: one that asks pgx for an
// exec mode (bun's statements, which it records, do not).
func (c *capture) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	args, prepared := data.Args, false
options: // pgx's options come first: result formats, exec mode
	for len(args) > 0 {
		switch args[0].(type) {
		case pgx.QueryExecMode:
			prepared = true
		case pgx.QueryResultFormats, pgx.QueryResultFormatsByOID:
		default:
			break options
		}
		args = args[1:]
	}
	if !prepared {
		return ctx
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.on {
		c.sqls = append(c.sqls, inlineArgs(data.SQL, args))
	}
	return ctx
}

func (c *capture) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// TraceBatchQuery records each statement of a batch (pg.Batch), in order;
// pgbench then sends them one by one. A batch runs its statements by the
// names they were prepared under; the script gets their texts.
func (c *capture) TraceBatchQuery(_ context.Context, _ *pgx.Conn, data pgx.TraceBatchQueryData) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.on {
		return
	}
	sql := data.SQL
	if name, ok := strings.CutPrefix(sql, "EXECUTE "); ok {
		name, _, _ = strings.Cut(name, "(")
		if text, ok := c.prepared[name]; ok {
			sql = text
		}
	}
	c.sqls = append(c.sqls, inlineArgs(sql, data.Args))
}

// TracePrepareStart learns the texts of the batches' named statements.
func (c *capture) TracePrepareStart(ctx context.Context, _ *pgx.Conn, data pgx.TracePrepareStartData) context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.prepared == nil {
		c.prepared = map[string]string{}
	}
	c.prepared[data.Name] = data.SQL
	return ctx
}

func (c *capture) TracePrepareEnd(context.Context, *pgx.Conn, pgx.TracePrepareEndData) {}

func (c *capture) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}

func (c *capture) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// inlineArgs writes each $n of a statement as the SQL literal of its value.
func inlineArgs(sql string, args []any) string {
	for n := len(args); n >= 1; n-- { // $10 before $1
		sql = strings.ReplaceAll(sql, fmt.Sprintf("$%d", n), literal(args[n-1]))
	}
	return sql
}

func literal(v any) string {
	quote := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
	if v == nil {
		return "NULL"
	}
	switch x := v.(type) {
	case string:
		return quote(x)
	case time.Time:
		return quote(x.Format(time.RFC3339Nano))
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer:
		if rv.IsNil() {
			return "NULL"
		}
		return literal(rv.Elem().Interface())
	case reflect.String: // a named string type (a status, a role)
		return quote(rv.String())
	case reflect.Slice: // an array literal; its SQL casts it ($1::bigint[])
		el := make([]string, rv.Len())
		for i := range el {
			el[i] = arrayElement(rv.Index(i))
		}
		return quote("{" + strings.Join(el, ",") + "}")
	}
	return fmt.Sprint(v)
}

// arrayElement writes one element of an array literal: NULL or a quoted text.
func arrayElement(e reflect.Value) string {
	if e.Kind() == reflect.Pointer {
		if e.IsNil() {
			return "NULL"
		}
		e = e.Elem()
	}
	s := fmt.Sprint(e.Interface())
	if t, ok := e.Interface().(time.Time); ok {
		s = t.Format(time.RFC3339Nano)
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// record runs fn with capturing on and returns the statements it sent.
func (c *capture) record(fn func() error) ([]string, error) {
	c.mu.Lock()
	c.on, c.sqls = true, nil
	c.mu.Unlock()
	err := fn()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.on = false
	return slices.Clone(c.sqls), err
}

// pgbenchScript writes statements as a pgbench script, every statement
// ended by ';', wrapped in one transaction when tx (for statements the
// product ran in one whose BEGIN and COMMIT the capture does not show).
// pgbench would read ":word" as a variable, so a statement holding one is
// refused rather than silently changed.
func pgbenchScript(path string, sqls []string, tx bool) error {
	var b strings.Builder
	if tx {
		b.WriteString("BEGIN;\n")
	}
	for _, q := range sqls {
		q = strings.TrimSpace(q)
		if hasPgbenchVar(q) {
			return fmt.Errorf("statement holds a pgbench variable reference: %.200s", q)
		}
		b.WriteString(strings.TrimSuffix(q, ";"))
		b.WriteString(";\n")
	}
	if tx {
		b.WriteString("COMMIT;\n")
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// hasPgbenchVar reports a ":name" that pgbench would replace: it replaces
// only variables that are set (the scripts here set r and id; pgbench sets
// client_id, default_seed, random_seed and scale) and leaves others alone.
func hasPgbenchVar(q string) bool {
	for _, v := range []string{"r", "id", "client_id", "default_seed", "random_seed", "scale"} {
		for i := 0; ; {
			k := strings.Index(q[i:], ":"+v)
			if k < 0 {
				break
			}
			at, end := i+k, i+k+1+len(v)
			if (at == 0 || q[at-1] != ':') && (end == len(q) || !isIdentChar(q[end])) {
				return true
			}
			i = end
		}
	}
	return false
}

func isIdentChar(b byte) bool {
	return b == '_' || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9')
}

// timeRuns calls fn n times and returns each duration.
func timeRuns(n int, fn func(i int) error) ([]time.Duration, error) {
	out := make([]time.Duration, 0, n)
	for i := range n {
		t0 := time.Now()
		if err := fn(i); err != nil {
			return out, err
		}
		out = append(out, time.Since(t0))
	}
	return out, nil
}

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o644) }

// office is an oversight user, the actor the reports run as.
func (p *product) office(ctx context.Context) (identity.Actor, error) {
	var id int64
	if err := p.db.NewRaw(`SELECT id FROM users WHERE role = 'oversight' ORDER BY id LIMIT 1`).Scan(ctx, &id); err != nil {
		return identity.Actor{}, fmt.Errorf("an oversight user: %w", err)
	}
	return identity.Actor{UserID: id, Role: identity.RoleOversight}, nil
}
