package config

import (
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaultsMatchLocalServices(t *testing.T) {
	c, err := Parse(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.DatabaseURL != DefaultDatabaseURL || c.RedisURL != DefaultRedisURL || c.HTTPAddr != "127.0.0.1:8080" {
		t.Fatalf("defaults: %+v", c)
	}
	if len(c.SecretKeys) != 1 || len(c.SecretKeys[0].Secret) < 32 {
		t.Fatalf("dev must get a usable signing key, got %d", len(c.SecretKeys))
	}
}

func TestEveryBadValueIsReportedOnItsOwnLine(t *testing.T) {
	_, err := Parse(env(map[string]string{
		"GC_ENV":              "staging",
		"GC_DATABASE_URL":     "mysql://root:hunter2@db/x",
		"GC_REDIS_URL":        "localhost:6379",
		"GC_HTTP_ADDR":        "8080",
		"GC_LOG_LEVEL":        "loud",
		"GC_LOG_FORMAT":       "xml",
		"GC_SHUTDOWN_TIMEOUT": "-1s",
		"GC_SECRET_KEYS":      "k1:c2hvcnQ=",
		"GC_TRUSTED_PROXIES":  "10.0.0.0/8,proxy.local",
	}))
	if err == nil {
		t.Fatal("want an error")
	}
	msg := err.Error()
	for _, name := range []string{"GC_ENV", "GC_DATABASE_URL", "GC_REDIS_URL", "GC_HTTP_ADDR", "GC_LOG_LEVEL", "GC_LOG_FORMAT", "GC_SHUTDOWN_TIMEOUT", "GC_SECRET_KEYS", "GC_TRUSTED_PROXIES"} {
		if !strings.Contains(msg, "\n  "+name) {
			t.Errorf("no line for %s in:\n%s", name, msg)
		}
	}
	if strings.Contains(msg, "hunter2") {
		t.Error("a password leaked into the error message")
	}
}

func TestProductionNeedsRealSecrets(t *testing.T) {
	if _, err := Parse(env(map[string]string{"GC_ENV": "prod"})); err == nil || !strings.Contains(err.Error(), "GC_SECRET_KEYS is required") {
		t.Fatalf("prod without keys: %v", err)
	}
	c, err := Parse(env(map[string]string{
		"GC_ENV":         "prod",
		"GC_SECRET_KEYS": "2026b:MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=,2026a:YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXoxMjM0NTY3ODkw",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.SecretKeys) != 2 || c.SecretKeys[0].ID != "2026b" {
		t.Fatalf("keys: %+v", c.SecretKeys)
	}
}

func TestTrustedProxiesTakeRangesAndSingleAddresses(t *testing.T) {
	c, err := Parse(env(map[string]string{"GC_TRUSTED_PROXIES": "10.1.0.0/16, 192.0.2.7"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.TrustedProxies) != 2 || c.TrustedProxies[0].String() != "10.1.0.0/16" || c.TrustedProxies[1].String() != "192.0.2.7/32" {
		t.Fatalf("proxies: %v", c.TrustedProxies)
	}
	if c, _ := Parse(env(nil)); len(c.TrustedProxies) != 0 {
		t.Fatalf("by default no proxy is trusted: %v", c.TrustedProxies)
	}
}
