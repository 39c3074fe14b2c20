package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"greenchannel/internal/identity"
	"greenchannel/internal/inspection"
	"greenchannel/internal/platform/clock"
)

// issueWorld is what an inspector needs to ask for codes: the bench
// inspectors (each with a partner of the same agency), their agencies'
// items and a sample of enterprises' credit codes.
type issueWorld struct {
	inspectors []benchInspector
	usccs      []string
}

type benchInspector struct {
	name              string
	id, partner, agID int64
	items             []string
}

func loadIssueWorld(ctx context.Context, url string, n int) (*issueWorld, error) {
	pool, err := connect(ctx, url, 2)
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	ag, err := loadInspAgencies(ctx, pool)
	if err != nil {
		return nil, err
	}
	w := &issueWorld{}
	var names = map[int64]string{}
	if err := scanAll(ctx, pool, `SELECT id, username FROM users WHERE username LIKE '`+benchInspectorPrefix+`%'`, func(r pgx.Rows) error {
		var id int64
		var name string
		err := r.Scan(&id, &name)
		names[id] = name
		return err
	}); err != nil {
		return nil, err
	}
	// Round-robin over the agencies, so every agency has inspectors at work.
	for k := 0; len(w.inspectors) < n; k++ {
		a := ag.list[k%len(ag.list)]
		i := k / len(ag.list) * 2
		if i+1 >= len(a.inspectors) {
			if k > n*len(ag.list) {
				return nil, fmt.Errorf("not enough bench inspectors for %d clients", n)
			}
			continue
		}
		w.inspectors = append(w.inspectors, benchInspector{name: names[a.inspectors[i]], id: a.inspectors[i], partner: a.inspectors[i+1],
			agID: a.id, items: a.items})
	}
	if err := scanAll(ctx, pool, `SELECT uscc FROM enterprises TABLESAMPLE BERNOULLI (10) WHERE id > 1000 LIMIT 20000`, func(r pgx.Rows) error {
		var u string
		err := r.Scan(&u)
		w.usccs = append(w.usccs, strings.TrimSpace(u))
		return err
	}); err != nil {
		return nil, err
	}
	if len(w.usccs) == 0 {
		return nil, errors.New("no enterprises loaded (run `load inspload`)")
	}
	return w, nil
}

// issueInput is one realistic code request: a routine visit (three in
// ten triggered by a hotline complaint) to a random enterprise in the next
// two weeks, one or two of the agency's items, the inspector and a partner.
func (w *issueWorld) issueInput(g *rand.Rand, in benchInspector) inspection.IssueInput {
	d := time.Now().In(clock.Shanghai).AddDate(0, 0, 1+g.IntN(14))
	from := time.Date(d.Year(), d.Month(), d.Day(), 9, 0, 0, 0, clock.Shanghai)
	x := inspection.IssueInput{USCC: w.usccs[g.IntN(len(w.usccs))], Items: pickN(g, in.items, 1+g.IntN(2)), Mode: "onsite", Kind: "routine",
		From: from, To: from.Add(2*24*time.Hour - 30*time.Minute), Inspectors: []int64{in.id, in.partner}}
	if g.IntN(10) < 3 {
		x.Kind, x.Trigger, x.TriggerRef = "triggered", "hotline_12345", fmt.Sprintf("12345-%08d", g.IntN(1e8))
	}
	return x
}

func issueBody(x inspection.IssueInput) []byte {
	m := map[string]any{"uscc": x.USCC, "items": x.Items, "mode": x.Mode, "kind": x.Kind,
		"window_from": x.From.Format(time.RFC3339), "window_to": x.To.Format(time.RFC3339), "inspectors": x.Inspectors}
	if x.Kind == "triggered" {
		m["trigger"], m["trigger_ref"] = x.Trigger, x.TriggerRef
	}
	b, _ := json.Marshal(m)
	return b
}

// runIssue drives POST /api/v1/inspections as c inspectors at once, each
// asking for a code, reading the answer and, with -think, pausing for a
// random time (exponential, that mean) before the next, as people at
// work do; -think 0 is a closed loop. A 201 (issued) and a 422 that lists
// the blocking checks both ran every pre-check and count; anything else
// is an error.
func runIssue(args []string) error {
	fs := flag.NewFlagSet("issue", flag.ExitOnError)
	db := dbFlag(fs)
	base := baseFlag(fs)
	name := fs.String("name", "D.issue", "figure key prefix")
	conc := fs.Int("c", 50, "concurrent inspectors")
	dur := fs.Duration("d", 15*time.Second, "measured duration")
	warm := fs.Duration("warmup", 2*time.Second, "unmeasured warm-up")
	think := fs.Duration("think", 0, "mean pause between an inspector's requests (0: closed loop)")
	results := resultsFlag(fs)
	_ = fs.Parse(args)
	ctx := context.Background()
	w, err := loadIssueWorld(ctx, *db, *conc)
	if err != nil {
		return err
	}
	c := newClient(*base, "demo12345", *conc)
	for _, in := range w.inspectors {
		if _, err := c.token(ctx, in.name); err != nil {
			return err
		}
	}
	start := time.Now()
	from, to := start.Add(*warm), start.Add(*warm+*dur)
	var issued, blocked, errs atomic.Int64
	var firstErr atomic.Value
	lat := make([][]time.Duration, *conc)
	var wg sync.WaitGroup
	for i := range *conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(i)))
			in := w.inspectors[i]
			for {
				t0 := time.Now()
				if !t0.Before(to) {
					return
				}
				code, raw, err := c.do(ctx, in.name, http.MethodPost, "/api/v1/inspections", issueBody(w.issueInput(g, in)))
				t1 := time.Now()
				if !t1.Before(from) {
					switch {
					case err == nil && code == http.StatusCreated:
						issued.Add(1)
						lat[i] = append(lat[i], t1.Sub(t0))
					case err == nil && code == http.StatusUnprocessableEntity && bytes.Contains(raw, []byte(`"checks"`)):
						blocked.Add(1)
						lat[i] = append(lat[i], t1.Sub(t0))
					default:
						if errs.Add(1) == 1 {
							firstErr.Store(fmt.Sprintf("%d %v %.300s", code, err, raw))
						}
					}
				}
				if *think > 0 {
					// Not past the end: a last pause running on would
					// lengthen the run the rate is divided by.
					time.Sleep(min(time.Duration(g.ExpFloat64()*float64(*think)), time.Until(to)))
				}
			}
		}()
	}
	wg.Wait()
	elapsed := max(time.Since(from), *dur)
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	s := summarize(all)
	rps := float64(s.N) / elapsed.Seconds()
	fmt.Printf("  %s: %d inspectors, think %s: %d codes issued, %d refused by a pre-check, %d errors in %.1fs: %.0f req/s  %s\n",
		*name, *conc, *think, issued.Load(), blocked.Load(), errs.Load(), elapsed.Seconds(), rps, s)
	if v := firstErr.Load(); v != nil {
		fmt.Printf("  %s: first error: %s\n", *name, v)
	}
	if s.N == 0 {
		return errors.New("no request completed")
	}
	return emit(*results, record{*name + ".rps", rps, "req/s"}, record{*name + ".p50", ms(s.P50), "ms"},
		record{*name + ".p99", ms(s.P99), "ms"}, record{*name + ".errors", float64(errs.Load()), ""},
		record{*name + ".blocked_share", float64(blocked.Load()) / float64(s.N), ""})
}

// runIssueScript issues codes through the product's own
// inspection.Service.Issue, each for another enterprise, records the SQL
// each sends and writes it as a pgbench script: the new inspection's id is
// taken with \gset and the code made unique per transaction, everything
// else is the statements as sent. Issuing locks the enterprise's row, so a
// single script replayed by every client would queue them all on one row
// (and pile its inspections onto one enterprise): pgbench picks one of the
// scripts per transaction, as inspectors pick enterprises.
func runIssueScript(args []string) error {
	fs := flag.NewFlagSet("issue-script", flag.ExitOnError)
	db := dbFlag(fs)
	prefix := fs.String("out", "issue", "scripts to write: <out>-1.sql … <out>-<n>.sql")
	n := fs.Int("n", 100, "scripts, each for another enterprise (pgbench takes at most 128)")
	_ = fs.Parse(args)
	ctx := context.Background()
	w, err := loadIssueWorld(ctx, *db, 1)
	if err != nil {
		return err
	}
	p, err := openProduct(ctx, *db)
	if err != nil {
		return err
	}
	defer p.db.Close()
	in := w.inspectors[0]
	actor := identity.Actor{UserID: in.id, Role: identity.RoleInspector, AgencyID: in.agID, AgencyKind: identity.AgencyKind("inspection")}
	g := rand.New(rand.NewPCG(5, 6))
	written, statements := 0, 0
	for try := 0; written < *n; try++ {
		if try == 50**n {
			return fmt.Errorf("%d of %d code requests were refused by the pre-checks", try-written, try)
		}
		x := w.issueInput(g, in)
		x.Kind = "routine"
		var got inspection.Inspection
		sqls, err := p.capture.record(func() error { var err error; got, err = p.inspection.Issue(ctx, actor, x); return err })
		if err != nil {
			continue // refused by a pre-check: try another enterprise
		}
		if inserts := slices.IndexFunc(sqls, func(q string) bool { return isInspectionInsert(q) }); inserts < 0 ||
			slices.ContainsFunc(sqls[inserts+1:], func(q string) bool { return isInspectionInsert(q) }) {
			continue // its first code was taken (about one in a thousand) and it drew another: take a plain one
		}
		script, err := issueScript(sqls, got.ID, got.Code)
		if err != nil {
			return err
		}
		written++
		statements = len(sqls)
		if err := writeFile(fmt.Sprintf("%s-%d.sql", *prefix, written), script); err != nil {
			return err
		}
	}
	fmt.Printf("  issue-script: %d codes issued through inspection.Service.Issue, each for another enterprise (%d statements each) -> %s-*.sql\n",
		written, statements, *prefix)
	return nil
}

// isInspectionInsert tells the statement that writes an issued code (with
// its inspectors and first event).
func isInspectionInsert(q string) bool {
	return strings.HasPrefix(strings.TrimSpace(q), "WITH inspection AS (")
}

// isIDDraw tells the statement that draws the new inspection's id.
func isIDDraw(q string) bool {
	return strings.HasPrefix(strings.TrimSpace(q), "SELECT nextval(pg_get_serial_sequence('inspections'")
}

func issueScript(sqls []string, id int64, code string) (string, error) {
	idRe := regexp.MustCompile(`\b` + fmt.Sprint(id) + `\b`)
	var b strings.Builder
	b.WriteString("\\set r random(1, 2000000000)\n")
	drawn, inserted := false, false
	for _, q := range sqls {
		q = strings.TrimSuffix(strings.TrimSpace(q), ";")
		if hasPgbenchVar(q) {
			return "", fmt.Errorf("statement holds a pgbench variable reference: %.200s", q)
		}
		if !drawn && isIDDraw(q) {
			b.WriteString(q + " AS id \\gset\n")
			drawn = true
			continue
		}
		if drawn && !inserted && isInspectionInsert(q) {
			if !strings.Contains(q, "'"+code+"'") {
				return "", errors.New("the inspection insert does not hold its code")
			}
			q = strings.Replace(q, "'"+code+"'", "('PGB' || :client_id || '-' || :r)", 1)
			inserted = true
		}
		if drawn {
			q = withID(q, idRe)
		}
		b.WriteString(q + ";\n")
	}
	if !inserted {
		return "", errors.New("no id drawn before the inspection insert")
	}
	return b.String(), nil
}

// withID puts pgbench's :id where the captured id stands. pgbench does not
// look inside '…' nor after "::", so a literal holding the id (a task key,
// a JSON payload, an array of them) becomes a concatenation, cast back to
// jsonb when it is JSON.
func withID(q string, idRe *regexp.Regexp) string {
	var b strings.Builder
	for len(q) > 0 {
		open := strings.IndexByte(q, '\'')
		if open < 0 {
			b.WriteString(idRe.ReplaceAllString(q, ":id"))
			break
		}
		b.WriteString(idRe.ReplaceAllString(q[:open], ":id"))
		end := open + 1
		for end < len(q) && (q[end] != '\'' || (end+1 < len(q) && q[end+1] == '\'')) {
			if q[end] == '\'' {
				end++
			}
			end++
		}
		lit := q[open : end+1]
		if idRe.MatchString(lit) {
			body := lit[1 : len(lit)-1]
			parts := idRe.Split(body, -1)
			expr := "('" + strings.Join(parts, "' || :id || '") + "')"
			// JSON is cast back to jsonb, unless the statement casts the
			// literal itself (an array: '{…}'::text[]).
			if (strings.HasPrefix(body, "{") || strings.HasPrefix(body, "[")) && !strings.HasPrefix(q[end+1:], "::") {
				expr += "::jsonb"
			}
			lit = expr
		}
		b.WriteString(lit)
		q = q[min(end+1, len(q)):]
	}
	return b.String()
}

// runVerifyScript writes pgbench scripts of the SQL one public verify sends
// when the code's page is not kept in the server's memory: n scripts, each
// for another random loaded code (pgbench picks one at random per
// transaction), so the baseline reads codes spread as D.verify's are.
func runVerifyScript(args []string) error {
	fs := flag.NewFlagSet("verify-script", flag.ExitOnError)
	db := dbFlag(fs)
	prefix := fs.String("out", "verify", "scripts to write: <out>-1.sql … <out>-<n>.sql")
	n := fs.Int("n", 100, "scripts, each for another code (pgbench takes at most 128)")
	_ = fs.Parse(args)
	ctx := context.Background()
	p, err := openProduct(ctx, *db)
	if err != nil {
		return err
	}
	defer p.db.Close()
	var codes []string
	if err := p.db.NewRaw("SELECT code FROM inspections TABLESAMPLE BERNOULLI (0.01) WHERE code NOT LIKE 'PGB%' LIMIT ?", *n).Scan(ctx, &codes); err != nil {
		return err
	}
	for i, code := range codes {
		sqls, err := p.capture.record(func() error {
			v, err := p.inspection.Verify(ctx, code)
			if err == nil && (v.Inspection == nil || v.Inspection.Code != code) {
				err = fmt.Errorf("verify %s: %s", code, v.Reason)
			}
			return err
		})
		if err != nil {
			return err
		}
		if len(sqls) != 1 {
			return fmt.Errorf("verify sent %d statements, want the one of a page not kept", len(sqls))
		}
		if err := pgbenchScript(fmt.Sprintf("%s-%d.sql", *prefix, i+1), sqls, false); err != nil {
			return err
		}
	}
	fmt.Printf("  verify-script: %d codes verified through inspection.Service.Verify -> %s-*.sql\n", len(codes), *prefix)
	return nil
}

// scanEach asks for the page of every code once, with conc clients.
func scanEach(ctx context.Context, hc *http.Client, base string, codes []string, conc int) error {
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(len(codes)); i = next.Add(1) - 1 {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/inspection-codes/"+codes[i], nil)
				resp, err := hc.Do(req)
				if err != nil {
					failed.Store(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		return fmt.Errorf("scanning each code once: %w", err)
	}
	return nil
}

// runVerify loads GET /api/v1/inspection-codes/{code} with c closed-loop
// clients, each request a random loaded code from another phone (client
// address), or with -healthz the same server's /healthz as the baseline.
func runVerify(args []string) error {
	fs := flag.NewFlagSet("verify", flag.ExitOnError)
	db := dbFlag(fs)
	base := baseFlag(fs)
	name := fs.String("name", "D.verify", "figure key prefix")
	conc := fs.Int("c", 32, "concurrent clients")
	dur := fs.Duration("d", 8*time.Second, "measured duration")
	warm := fs.Duration("warmup", 1*time.Second, "unmeasured warm-up")
	healthz := fs.Bool("healthz", false, "load /healthz instead (the baseline)")
	today := fs.Bool("today", false, "scan the codes of today's inspections (as phones at the door do, each a few times, after each was scanned once), not any loaded code")
	results := resultsFlag(fs)
	_ = fs.Parse(args)
	ctx := context.Background()
	var codes []string
	if !*healthz {
		pool, err := connect(ctx, *db, 1)
		if err != nil {
			return err
		}
		q := `SELECT code FROM inspections TABLESAMPLE SYSTEM (2) LIMIT 20000`
		if *today {
			q = `SELECT code FROM inspections WHERE status <> 'cancelled'
				AND (window_from AT TIME ZONE 'Asia/Shanghai')::date = (now() AT TIME ZONE 'Asia/Shanghai')::date`
		}
		err = scanAll(ctx, pool, q, func(r pgx.Rows) error {
			var c string
			err := r.Scan(&c)
			codes = append(codes, c)
			return err
		})
		pool.Close()
		if err != nil {
			return err
		}
		if len(codes) == 0 {
			return errors.New("no inspections loaded")
		}
	}
	// Every scan is a phone of its own: a new connection from its own
	// address (127.0.0.0/8 is all loopback), as the server's per-address
	// limit sees real scans. The same for /healthz, so both pay the same
	// connection cost.
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		Proxy: nil, DisableKeepAlives: true, DisableCompression: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			src := &net.TCPAddr{IP: net.IPv4(127, byte(1+rand.IntN(254)), byte(rand.IntN(256)), byte(1+rand.IntN(254)))}
			return (&net.Dialer{Timeout: 5 * time.Second, LocalAddr: src}).DialContext(ctx, network, addr)
		},
	}}
	get := func(g *rand.Rand) (int, error) {
		path := "/healthz"
		if !*healthz {
			path = "/api/v1/inspection-codes/" + codes[g.IntN(len(codes))]
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, *base+path, nil)
		resp, err := hc.Do(req)
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	if code, err := get(rand.New(rand.NewPCG(1, 2))); err != nil || code != http.StatusOK {
		return fmt.Errorf("first request: %d %v", code, err)
	}
	if *today {
		// A server that has been up through the day has seen each of
		// today's codes scanned at the door already; scan each once,
		// unmeasured, so a bench run's fresh server is in that state too.
		if err := scanEach(ctx, hc, *base, codes, *conc); err != nil {
			return err
		}
	}
	start := time.Now()
	from, to := start.Add(*warm), start.Add(*warm+*dur)
	var errs atomic.Int64
	var firstErr atomic.Value
	lat := make([][]time.Duration, *conc)
	var wg sync.WaitGroup
	for i := range *conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(i)))
			for {
				t0 := time.Now()
				if !t0.Before(to) {
					return
				}
				code, err := get(g)
				t1 := time.Now()
				if t1.Before(from) {
					continue
				}
				if err != nil || code != http.StatusOK {
					if errs.Add(1) == 1 {
						firstErr.Store(fmt.Sprintf("%d %v", code, err))
					}
					continue
				}
				lat[i] = append(lat[i], t1.Sub(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := max(time.Since(from), *dur)
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	s := summarize(all)
	rps := float64(s.N) / elapsed.Seconds()
	what := fmt.Sprintf("verify (%d random loaded codes)", len(codes))
	switch {
	case *healthz:
		what = "/healthz"
	case *today:
		what = fmt.Sprintf("verify (the %d codes of today's inspections)", len(codes))
	}
	fmt.Printf("  %s: %s, %d clients: %d ok, %d errors in %.1fs: %.0f req/s  %s\n", *name, what, *conc, s.N, errs.Load(), elapsed.Seconds(), rps, s)
	if v := firstErr.Load(); v != nil {
		fmt.Printf("  %s: first error: %s\n", *name, v)
	}
	return emit(*results, record{*name + ".rps", rps, "req/s"}, record{*name + ".p50", ms(s.P50), "ms"},
		record{*name + ".p99", ms(s.P99), "ms"}, record{*name + ".errors", float64(errs.Load()), ""})
}
