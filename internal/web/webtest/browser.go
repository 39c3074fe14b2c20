// Package webtest drives a headless Chromium for the browser tests: one
// browser process per test, a fresh cookie jar per signed-in user, and
// screenshots saved as test artifacts. It is imported by tests only.
package webtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Browser is one headless Chromium process.
type Browser struct {
	t   testing.TB
	ctx context.Context
	// Shots is where screenshots go: $GC_SCREENSHOTS, or .artifacts/screenshots
	// at the module root.
	Shots string
}

// ExecPath finds Chromium: $GC_CHROMIUM, or the Debian package's binary.
func ExecPath() (string, error) {
	for _, name := range []string{os.Getenv("GC_CHROMIUM"), "chromium", "chromium-browser"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("chromium not found: run scripts/browser.sh (make test does) or set GC_CHROMIUM")
}

// Start launches Chromium with a fresh profile; it is stopped when the test
// ends. A missing browser fails the test rather than skipping it.
func Start(t testing.TB) *Browser {
	t.Helper()
	path, err := ExecPath()
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "zh-CN"),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		cancel()
		cancelAlloc()
		t.Fatalf("start chromium: %v", err)
	}
	t.Cleanup(func() { cancel(); cancelAlloc() })
	shots := os.Getenv("GC_SCREENSHOTS")
	if shots == "" {
		shots = filepath.Join(moduleRoot(), ".artifacts", "screenshots")
	}
	return &Browser{t: t, ctx: ctx, Shots: shots}
}

// User is a tab in its own browser context (its own cookies), sized like
// a desktop or a phone.
type User struct {
	T   testing.TB
	Ctx context.Context
	b   *Browser
}

// Desktop and Phone are the viewports the tests use.
var (
	Desktop = [2]int64{1280, 900}
	Phone   = [2]int64{390, 844}
)

// NewUser opens a tab with a fresh cookie jar and the given viewport.
func (b *Browser) NewUser(t testing.TB, viewport [2]int64) *User {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	mobile := viewport[0] < 600
	vp := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
	if mobile {
		vp = append(vp, chromedp.EmulateMobile)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(viewport[0], viewport[1], vp...)); err != nil {
		t.Fatalf("viewport: %v", err)
	}
	return &User{T: t, Ctx: ctx, b: b}
}

// Do runs actions with a deadline, failing the test with what was being done.
func (u *User) Do(what string, actions ...chromedp.Action[chromedp.Void]) {
	u.T.Helper()
	ctx, cancel := context.WithTimeout(u.Ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		u.T.Fatalf("%s: %v (page: %s)", what, err, u.Location())
	}
}

// Location is the tab's current URL.
func (u *User) Location() string {
	ctx, cancel := context.WithTimeout(u.Ctx, 2*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	return loc
}

// Text is the visible text of the first element matching css.
func (u *User) Text(css string) string {
	u.T.Helper()
	ctx, cancel := context.WithTimeout(u.Ctx, 10*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		u.T.Fatalf("text of %s: %v (page: %s)", css, err, u.Location())
	}
	return s
}

// WaitText waits until the element matching css contains want. It asks
// again every 100 ms, across page loads (a navigation in flight makes a
// single check fail).
func (u *User) WaitText(css, want string, limit time.Duration) {
	u.T.Helper()
	js := fmt.Sprintf(`(() => { const el = document.querySelector(%q); return el ? el.innerText : ""; })()`, css)
	deadline := time.Now().Add(limit)
	var got string
	for {
		ctx, cancel := context.WithTimeout(u.Ctx, 2*time.Second)
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		cancel()
		if err == nil {
			got = s
			if strings.Contains(s, want) {
				return
			}
		}
		if time.Now().After(deadline) {
			u.T.Fatalf("waiting for %q in %s (page: %s), found:\n%s", want, css, u.Location(), got)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Shot saves a full-page PNG named name.png into the screenshot folder.
func (u *User) Shot(name string) {
	u.T.Helper()
	ctx, cancel := context.WithTimeout(u.Ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		u.T.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(u.b.Shots, 0o755); err != nil {
		u.T.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(u.b.Shots, name+".png"), png, 0o644); err != nil {
		u.T.Fatal(err)
	}
}

// moduleRoot is the folder holding go.mod, found from the working
// directory (a package folder while tests run).
func moduleRoot() string {
	dir, _ := os.Getwd()
	for d := dir; d != "/" && d != "."; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
	}
	return strings.TrimSpace(dir)
}
