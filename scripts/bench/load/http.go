package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// client is an HTTP client of the API with a token per user. Access tokens
// live 15 minutes; a token older than 12 is replaced before use.
type client struct {
	base     string
	password string
	hc       *http.Client

	mu     sync.Mutex
	tokens map[string]token
}

type token struct {
	access string
	at     time.Time
}

func newClient(base, password string, conns int) *client {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns * 2,
		MaxIdleConnsPerHost: conns * 2,
		MaxConnsPerHost:     0,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	return &client{base: strings.TrimRight(base, "/"), password: password, tokens: map[string]token{},
		hc: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

func (c *client) token(ctx context.Context, user string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.tokens[user]; ok && time.Since(t.at) < 12*time.Minute {
		return t.access, nil
	}
	body, _ := json.Marshal(map[string]string{"username": user, "password": c.password})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/api/v1/auth/token", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("login %s: %s: %s", user, resp.Status, raw)
	}
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || out.AccessToken == "" {
		return "", fmt.Errorf("login %s: no access_token in %s", user, raw)
	}
	c.tokens[user] = token{access: out.AccessToken, at: time.Now()}
	return out.AccessToken, nil
}

// do sends one request and returns the status and body.
func (c *client) do(ctx context.Context, user, method, path string, body []byte) (int, []byte, error) {
	tok, err := c.token(ctx, user)
	if err != nil {
		return 0, nil, err
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, raw, err
}

// createBody is a new request for the create benchmarks.
func createBody(g *textGen, category string, n int64) []byte {
	b, _ := json.Marshal(map[string]string{
		"category":    category,
		"title":       g.title(category) + " #" + strconv.FormatInt(n, 10),
		"description": g.description(category),
	})
	return b
}

func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// rssSampler polls /proc/<pid>/status.
type rssSampler struct {
	pid     int
	maxRSS  atomic.Int64 // kB
	samples atomic.Int64
}

func procStatusKB(pid int, field string) (int64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			v = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB"))
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

func (s *rssSampler) run(ctx context.Context) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		if kb, err := procStatusKB(s.pid, "VmRSS"); err == nil {
			s.samples.Add(1)
			if kb > s.maxRSS.Load() {
				s.maxRSS.Store(kb)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func runHTTP(args []string) error {
	fs := flag.NewFlagSet("http", flag.ExitOnError)
	base := baseFlag(fs)
	name := fs.String("name", "http", "figure key prefix in the results")
	conc := fs.Int("c", 32, "concurrent clients")
	dur := fs.Duration("d", 30*time.Second, "measured duration")
	warm := fs.Duration("warmup", 2*time.Second, "unmeasured warm-up before the measured window")
	users := fs.String("users", "ent1", "comma-separated usernames; client i signs in as users[i % n]")
	password := fs.String("password", "demo12345", "password of every user")
	mode := fs.String("mode", "get", "create (POST /api/v1/requests) or get")
	path := fs.String("path", "/api/v1/requests?limit=50", "GET path with query (mode get)")
	page2 := fs.Bool("page2", false, "fetch -path once, then load its next page (next_cursor)")
	category := fs.String("category", "security_protection", "category of created requests (mode create)")
	label := fs.String("label", "", "describe the figure in the report")
	rssPid := fs.Int("rss-pid", 0, "sample VmRSS of this pid during the run; VmHWM at the end")
	results := resultsFlag(fs)
	_ = fs.Parse(args)

	us := splitList(*users)
	if len(us) == 0 {
		return errors.New("no users")
	}
	c := newClient(*base, *password, *conc)
	ctx := context.Background()
	for _, u := range us {
		if _, err := c.token(ctx, u); err != nil {
			return err
		}
	}
	target := *path
	if *page2 {
		code, raw, err := c.do(ctx, us[0], http.MethodGet, *path, nil)
		if err != nil || code != http.StatusOK {
			return fmt.Errorf("page 1 of %s: %d %v %s", *path, code, err, raw)
		}
		var p struct {
			Items      []json.RawMessage `json:"items"`
			NextCursor *string           `json:"next_cursor"`
		}
		if err := json.Unmarshal(raw, &p); err != nil {
			return err
		}
		if p.NextCursor == nil || *p.NextCursor == "" {
			fmt.Printf("  %s: skipped: page 1 of %s has no next_cursor (%d items)\n", *name, *path, len(p.Items))
			return nil
		}
		target = *path + "&cursor=" + url.QueryEscape(*p.NextCursor)
	}
	if *mode != "create" && *mode != "get" {
		return fmt.Errorf("unknown -mode %q", *mode)
	}
	// Check one request before loading, so a broken setup fails loudly.
	if *mode == "get" {
		code, raw, err := c.do(ctx, us[0], http.MethodGet, target, nil)
		if err != nil || code != http.StatusOK {
			return fmt.Errorf("GET %s: %d %v %s", target, code, err, raw)
		}
		var p struct {
			Items []json.RawMessage `json:"items"`
		}
		_ = json.Unmarshal(raw, &p)
		fmt.Printf("  %s: GET %s -> %d items per page\n", *name, target, len(p.Items))
	}

	var sampler *rssSampler
	sctx, stopSampler := context.WithCancel(ctx)
	defer stopSampler()
	if *rssPid > 0 {
		sampler = &rssSampler{pid: *rssPid}
		go sampler.run(sctx)
	}

	var seq atomic.Int64
	var errCount atomic.Int64
	var firstErr atomic.Value
	start := time.Now()
	measureFrom := start.Add(*warm)
	measureTo := measureFrom.Add(*dur)
	lat := make([][]time.Duration, *conc)
	var wg sync.WaitGroup
	for i := range *conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			user := us[i%len(us)]
			g := newTextGen(uint64(time.Now().UnixNano()) + uint64(i))
			for {
				var body []byte
				method, p := http.MethodGet, target
				if *mode == "create" {
					method, p = http.MethodPost, "/api/v1/requests"
					body = createBody(g, *category, seq.Add(1))
				}
				t0 := time.Now()
				if !t0.Before(measureTo) {
					return
				}
				code, raw, err := c.do(ctx, user, method, p, body)
				t1 := time.Now()
				ok := err == nil && code >= 200 && code < 300
				// A request counts if it ends inside the measured window
				// (or after it, when it started inside): a request slower
				// than the warm-up still shows up.
				if t1.Before(measureFrom) {
					continue
				}
				if !ok {
					if errCount.Add(1) == 1 {
						firstErr.Store(fmt.Sprintf("%d %v %.300s", code, err, raw))
					}
					continue
				}
				lat[i] = append(lat[i], t1.Sub(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := max(time.Since(measureFrom), *dur)
	stopSampler()

	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	s := summarize(all)
	rps := float64(s.N) / elapsed.Seconds()
	fmt.Printf("  %s: %d ok, %d errors in %.1fs (%d clients): %.0f req/s  %s\n",
		*name, s.N, errCount.Load(), elapsed.Seconds(), *conc, rps, s)
	if v := firstErr.Load(); v != nil {
		fmt.Printf("  %s: first error: %s\n", *name, v)
	}
	recs := []record{
		{*name + ".rps", rps, "req/s"}, {*name + ".p50", ms(s.P50), "ms"}, {*name + ".p90", ms(s.P90), "ms"},
		{*name + ".p99", ms(s.P99), "ms"}, {*name + ".max", ms(s.Max), "ms"}, {*name + ".errors", float64(errCount.Load()), ""},
	}
	if sampler != nil {
		hwm, _ := procStatusKB(sampler.pid, "VmHWM")
		fmt.Printf("  %s: serve RSS max %.1f MB over %d samples, VmHWM %.1f MB\n", *name,
			float64(sampler.maxRSS.Load())/1024, sampler.samples.Load(), float64(hwm)/1024)
		recs = append(recs, record{*name + ".rss_max", float64(sampler.maxRSS.Load()) / 1024, "MB"},
			record{*name + ".hwm", float64(hwm) / 1024, "MB"})
	}
	if s.N == 0 {
		return errors.New("no successful requests")
	}
	if *label != "" {
		if err := emitLabel(*results, *name+".label", *label); err != nil {
			return err
		}
	}
	return emit(*results, recs...)
}
