// Package config reads the process configuration from GC_* environment
// variables into one value. Defaults match the local services that
// `make dev` starts, so a newcomer needs no environment at all.
package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
	"time"
)

// Config is everything the binary needs to know about its surroundings.
type Config struct {
	Env             string // "dev" or "prod"; dev relaxes a few safety checks (e.g. demo secrets)
	DatabaseURL     string
	RedisURL        string
	HTTPAddr        string
	PublicURL       string // base URL printed in QR codes and links
	LogLevel        slog.Level
	LogFormat       string // "json" or "text"
	DataDir         string // attachments and other files
	SecretKeys      []Key  // signing keys, newest first; the first signs, all verify
	ShutdownTimeout time.Duration
	TrustedProxies  []*net.IPNet // reverse proxies whose X-Forwarded-For is believed
}

// Key is one named signing secret. The id travels in every token it signs so
// a rotated-out key still verifies until its tokens expire.
type Key struct {
	ID     string
	Secret []byte
}

// Defaults for the development services started by scripts/services.sh.
const (
	DefaultDatabaseURL = "postgres://greenchannel@127.0.0.1:55432/greenchannel?sslmode=disable"
	DefaultRedisURL    = "redis://127.0.0.1:56379/0"
	// devSecret is only accepted with GC_ENV=dev; production must set GC_SECRET_KEYS.
	devSecret = "dev:ZGV2LW9ubHktc2VjcmV0LWRvLW5vdC11c2UtaW4tcHJvZHVjdGlvbiE="
)

// FromEnv reads the configuration from the process environment.
func FromEnv() (Config, error) { return Parse(os.Getenv) }

// Parse builds a Config from a lookup function and reports every bad value,
// one line each, so an operator fixes them all in one go.
func Parse(getenv func(string) string) (Config, error) {
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	var problems []string
	bad := func(name, value, why string) {
		problems = append(problems, fmt.Sprintf("%s=%q: %s", name, value, why))
	}

	c := Config{
		Env:         get("GC_ENV", "dev"),
		DatabaseURL: get("GC_DATABASE_URL", DefaultDatabaseURL),
		RedisURL:    get("GC_REDIS_URL", DefaultRedisURL),
		HTTPAddr:    get("GC_HTTP_ADDR", "127.0.0.1:8080"),
		LogFormat:   get("GC_LOG_FORMAT", "json"),
		DataDir:     get("GC_DATA_DIR", ".data/files"),
	}
	c.PublicURL = get("GC_PUBLIC_URL", "http://"+c.HTTPAddr)

	if c.Env != "dev" && c.Env != "prod" {
		bad("GC_ENV", c.Env, "must be dev or prod")
	}
	if u, err := url.Parse(c.DatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
		bad("GC_DATABASE_URL", redact(c.DatabaseURL), "must look like postgres://user@host:port/db")
	}
	if u, err := url.Parse(c.RedisURL); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
		bad("GC_REDIS_URL", redact(c.RedisURL), "must look like redis://host:port/db")
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		bad("GC_HTTP_ADDR", c.HTTPAddr, "must be host:port, e.g. 127.0.0.1:8080")
	}
	if u, err := url.Parse(c.PublicURL); err != nil || u.Scheme == "" || u.Host == "" {
		bad("GC_PUBLIC_URL", c.PublicURL, "must be an absolute URL, e.g. https://gc.example.gov.cn")
	}
	lvl := get("GC_LOG_LEVEL", "info")
	if err := c.LogLevel.UnmarshalText([]byte(lvl)); err != nil {
		bad("GC_LOG_LEVEL", lvl, "must be debug, info, warn or error")
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		bad("GC_LOG_FORMAT", c.LogFormat, "must be json or text")
	}
	st := get("GC_SHUTDOWN_TIMEOUT", "30s")
	if d, err := time.ParseDuration(st); err != nil || d <= 0 {
		bad("GC_SHUTDOWN_TIMEOUT", st, "must be a positive duration such as 30s")
	} else {
		c.ShutdownTimeout = d
	}

	proxies := get("GC_TRUSTED_PROXIES", "")
	if p, err := parseNets(proxies); err != nil {
		bad("GC_TRUSTED_PROXIES", proxies, err.Error())
	} else {
		c.TrustedProxies = p
	}

	keys := get("GC_SECRET_KEYS", "")
	if keys == "" && c.Env == "dev" {
		keys = devSecret
	}
	if keys == "" {
		problems = append(problems, "GC_SECRET_KEYS is required with GC_ENV=prod: id:base64secret[,id:base64secret...], at least 32 bytes each")
	} else if k, err := parseKeys(keys); err != nil {
		problems = append(problems, "GC_SECRET_KEYS: "+err.Error())
	} else {
		c.SecretKeys = k
	}

	if len(problems) > 0 {
		return Config{}, errors.New("configuration:\n  " + strings.Join(problems, "\n  "))
	}
	return c, nil
}

// parseNets reads "10.0.0.0/8,192.0.2.7": address ranges, or single addresses.
func parseNets(s string) ([]*net.IPNet, error) {
	var nets []*net.IPNet
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !strings.Contains(part, "/") {
			ip := net.ParseIP(part)
			if ip == nil {
				return nil, fmt.Errorf("%q is not an address or a range such as 10.0.0.0/8", part)
			}
			bits := 8 * len(ip.To16())
			if ip.To4() != nil {
				ip, bits = ip.To4(), 32
			}
			nets = append(nets, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
			continue
		}
		_, n, err := net.ParseCIDR(part)
		if err != nil {
			return nil, fmt.Errorf("%q is not an address or a range such as 10.0.0.0/8", part)
		}
		nets = append(nets, n)
	}
	return nets, nil
}

// parseKeys reads "id:base64,id:base64"; the first key signs.
func parseKeys(s string) ([]Key, error) {
	var keys []Key
	seen := map[string]bool{}
	for i, part := range strings.Split(s, ",") {
		id, b64, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok || id == "" {
			return nil, fmt.Errorf("key %d: want id:base64secret", i+1)
		}
		if seen[id] {
			return nil, fmt.Errorf("key %d: id %q used twice", i+1, id)
		}
		seen[id] = true
		secret, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, fmt.Errorf("key %q: secret is not base64", id)
		}
		if len(secret) < 32 {
			return nil, fmt.Errorf("key %q: secret must be at least 32 bytes, got %d", id, len(secret))
		}
		keys = append(keys, Key{ID: id, Secret: secret})
	}
	return keys, nil
}

// redact hides a password in a URL so it never reaches a log or error line.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
