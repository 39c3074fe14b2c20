// Package jobstest gives tests a real Redis to themselves: a database number
// of the shared test server, flushed before use, or a private redis-server
// process that a test may stop and start to simulate an outage.
package jobstest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"greenchannel/internal/config"
)

// Redis returns a client on a Redis database that no other running test
// uses, emptied first. The server is GC_REDIS_URL (default: the dev server,
// started with 64 databases). Unreachable Redis fails the test.
func Redis(t testing.TB) (*redis.Client, string) {
	t.Helper()
	ctx := context.Background()
	base := os.Getenv("GC_REDIS_URL")
	if base == "" {
		base = config.DefaultRedisURL
	}
	opt, err := redis.ParseURL(base)
	if err != nil {
		t.Fatalf("jobstest: GC_REDIS_URL: %v", err)
	}
	ctl := redis.NewClient(opt)
	defer ctl.Close()
	n, err := ctl.Incr(ctx, "gc:test:next-db").Result()
	if err != nil {
		t.Fatalf("jobstest: cannot reach Redis at %s (run `make services-up`): %v", base, err)
	}
	// Database 0 belongs to `make dev` and 15 to `make bench`.
	opt.DB = 1 + int(n%62)
	if opt.DB >= 15 {
		opt.DB++
	}
	rdb := redis.NewClient(opt)
	if err := rdb.FlushDB(ctx).Err(); err != nil {
		t.Fatalf("jobstest: flush db %d: %v", opt.DB, err)
	}
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb, fmt.Sprintf("redis://%s/%d", opt.Addr, opt.DB)
}

// Server is a private redis-server process.
type Server struct {
	t    testing.TB
	bin  string
	Addr string
	dir  string
	cmd  *exec.Cmd
}

// StartServer runs a private redis-server on a free loopback port with the
// same persistence settings as production; it is stopped when the test ends.
func StartServer(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("jobstest: redis-server not installed (run `make services-up`): %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	s := &Server{t: t, bin: bin, Addr: addr, dir: t.TempDir()}
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// URL is the server's redis:// URL.
func (s *Server) URL() string { return "redis://" + s.Addr + "/0" }

// Start (re)starts the server on its address and waits until it answers.
func (s *Server) Start() {
	s.t.Helper()
	_, port, _ := net.SplitHostPort(s.Addr)
	s.cmd = exec.Command(s.bin, "--bind", "127.0.0.1", "--port", port,
		"--dir", s.dir, "--appendonly", "yes", "--maxmemory-policy", "noeviction", "--save", "")
	s.cmd.Stdout, s.cmd.Stderr = nil, nil
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("jobstest: start redis: %v", err)
	}
	c := redis.NewClient(&redis.Options{Addr: s.Addr})
	defer c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for c.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			s.t.Fatalf("jobstest: redis on %s did not come up; data in %s", s.Addr, s.dir)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop kills the server (it keeps its AOF for a restart).
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}
