package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// record is one figure of one run. Key names the figure ("A.create.rps");
// report takes the median over all records of a key.
type record struct {
	Key   string  `json:"key"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit,omitempty"`
}

// emit appends figures to the results file (if any).
func emit(path string, recs ...record) error {
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	enc := json.NewEncoder(f)
	for _, r := range recs {
		if math.IsNaN(r.Value) || math.IsInf(r.Value, 0) {
			continue
		}
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return nil
}

func resultsFlag(fs *flag.FlagSet) *string {
	return fs.String("results", os.Getenv("BENCH_RESULTS"), "append figures to this JSON-lines file")
}

func dbFlag(fs *flag.FlagSet) *string {
	return fs.String("db", os.Getenv("GC_DATABASE_URL"), "bench database URL")
}

// baseFlag is the server under test: BENCH_BASE_URL (bench.sh exports it)
// or the bench's default port.
func baseFlag(fs *flag.FlagSet) *string {
	base := os.Getenv("BENCH_BASE_URL")
	if base == "" {
		base = "http://127.0.0.1:18080"
	}
	return fs.String("base", base, "server base URL")
}

func connect(ctx context.Context, url string, maxConns int32) (*pgxpool.Pool, error) {
	if url == "" {
		return nil, errors.New("no database URL (-db or GC_DATABASE_URL)")
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	if err := benchOnly(cfg.ConnConfig.Database); err != nil {
		return nil, err
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	return pgxpool.NewWithConfig(ctx, cfg)
}

// benchOnly refuses any database but a bench one: this tool inserts,
// bulk-loads and rewrites rows, which must never happen to dev data.
func benchOnly(database string) error {
	if !strings.Contains(database, "bench") {
		return fmt.Errorf("refusing to work on database %q: not a bench database (-db or GC_DATABASE_URL)", database)
	}
	return nil
}

// latencies summarises a set of durations.
type latencies struct {
	N                       int
	P50, P90, P99, Max, Avg time.Duration
}

func summarize(d []time.Duration) latencies {
	if len(d) == 0 {
		return latencies{}
	}
	slices.Sort(d)
	var sum time.Duration
	for _, x := range d {
		sum += x
	}
	return latencies{N: len(d), P50: pct(d, 50), P90: pct(d, 90), P99: pct(d, 99), Max: d[len(d)-1],
		Avg: sum / time.Duration(len(d))}
}

// pct is the nearest-rank percentile of sorted d.
func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	rank := int(math.Ceil(p/100*float64(len(d)))) - 1
	rank = max(0, min(rank, len(d)-1))
	return d[rank]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func fmtMs(d time.Duration) string { return strconv.FormatFloat(ms(d), 'f', 1, 64) + " ms" }

func (l latencies) String() string {
	return fmt.Sprintf("p50 %s  p90 %s  p99 %s  max %s", fmtMs(l.P50), fmtMs(l.P90), fmtMs(l.P99), fmtMs(l.Max))
}
