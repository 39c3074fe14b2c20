package app

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"greenchannel/internal/identity"
	"greenchannel/internal/inspection"
	"greenchannel/internal/platform/clock"
	"greenchannel/internal/platform/jobs"
	"greenchannel/internal/platform/jobs/jobstest"
	"greenchannel/internal/platform/pg/pgtest"
	"greenchannel/internal/web/webtest"
)

// site is the whole system behind a real HTTP server (pages, API, worker
// and outbox relay) on a fake clock, for the browser tests.
type site struct {
	t     *testing.T
	d     *deps
	url   string
	clock *clock.Fake
}

// nextWorkday10 is 10:00 on a working weekday at least two days ahead: the
// fake clock must run ahead of real time, because asynq schedules tasks
// (offer expiry, SLA deadlines) on the real clock.
func nextWorkday10() time.Time {
	d := time.Now().In(clock.Shanghai).AddDate(0, 0, 2)
	for d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
		d = d.AddDate(0, 0, 1)
	}
	return time.Date(d.Year(), d.Month(), d.Day(), 10, 0, 0, 0, clock.Shanghai)
}

func newSite(t *testing.T) *site {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	_, dbURL := pgtest.NewWithURL(t)
	_, redisURL := jobstest.Redis(t)
	d := testDeps(t, dbURL, redisURL)
	fake := clock.NewFake(nextWorkday10())
	d.clock = fake
	d.wire()
	if err := seed(ctx, d, true, io.Discard); err != nil {
		t.Fatal(err)
	}
	srv := jobs.NewServer(d.rdb, quiet, 8, 10*time.Second)
	if err := srv.Start(newRegistry(d).Mux()); err != nil {
		t.Fatal(err)
	}
	relay := jobs.NewRelay(d.db, dbURL, d.asynq, quiet)
	go func() { _ = relay.Run(ctx) }()
	h := httptest.NewServer(handler(t, d))
	t.Cleanup(func() { h.Close(); cancel(); srv.Shutdown() })
	return &site{t: t, d: d, url: h.URL, clock: fake}
}

func (s *site) actor(username string) identity.Actor {
	s.t.Helper()
	a, err := s.d.identity.ActorByUsername(context.Background(), username)
	if err != nil {
		s.t.Fatal(err)
	}
	return a
}

// signIn opens a fresh browser session for a demo user.
func (s *site) signIn(b *webtest.Browser, t *testing.T, username string, viewport [2]int64) *webtest.User {
	t.Helper()
	u := b.NewUser(t, viewport)
	u.Do("sign in as "+username,
		chromedp.Navigate(s.url+"/login"),
		chromedp.SetValue(chromedp.CSS("#username"), username),
		chromedp.SetValue(chromedp.CSS("#password"), demoPassword),
		chromedp.Click(chromedp.CSS("form[action='/login'] button")),
		chromedp.WaitReady(chromedp.CSS("form[action='/logout']")),
	)
	return u
}

func (s *site) open(u *webtest.User, path string, ready string) {
	u.T.Helper()
	u.Do("open "+path, chromedp.Navigate(s.url+path), chromedp.WaitVisible(chromedp.CSS(ready)))
}

// submit clicks the button of the form that carries the hidden action.
func actButton(action string) chromedp.CSS {
	return chromedp.CSS(fmt.Sprintf("form:has(input[name=action][value=%s]) button[type=submit]", action))
}

// The browser tests: every main screen driven as its users drive it, one
// Chromium for all of them, a screenshot of each screen.
func TestBrowser(t *testing.T) {
	s := newSite(t)
	b := webtest.Start(t)
	ctx := context.Background()
	// Only court1 may take intellectual-property requests today, so the
	// routing outcome is known.
	for _, u := range []string{"court2", "lead.court"} {
		if _, err := s.d.identity.SetDuty(ctx, s.actor(u), false); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("request from filing to rating", func(t *testing.T) {
		ent := s.signIn(b, t, "ent1", webtest.Desktop)
		s.open(ent, "/portal", "#new")
		ent.Shot("portal")
		file := filepath.Join(t.TempDir(), "商标注册证.pdf")
		if err := os.WriteFile(file, []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		title := "商标被仿冒，请求知识产权保护指导"
		// Note how far the upload progress bar got (the page is swapped
		// in place, so the note survives the navigation).
		if _, err := chromedp.Run(ent.Ctx, chromedp.Evaluate[chromedp.Void](`window.uploadShown = 0;
			document.addEventListener("htmx:xhr:progress", e => {
				const bar = e.target.closest && e.target.closest("form.upload") && e.target.closest("form.upload").querySelector("progress");
				if (bar && !bar.hidden) window.uploadShown = Math.max(window.uploadShown, bar.value);
			})`)); err != nil {
			t.Fatal(err)
		}
		ent.Do("file a request",
			chromedp.Click(chromedp.CSS("input[name=category][value=ip_protection]")),
			chromedp.SetValue(chromedp.CSS("#title"), title),
			chromedp.SetValue(chromedp.CSS("#description"), "外地企业在电商平台销售仿冒我司注册商标的产品，请求指导维权。"),
			chromedp.SetUploadFiles(chromedp.CSS("#files"), []string{file}),
			// A double click files once: the button is disabled while the
			// first submit is in flight, and the idempotency key covers the rest.
			chromedp.DoubleClick(chromedp.CSS("#new button[type=submit]")),
		)
		ent.WaitText("main", "商标注册证.pdf", 10*time.Second)
		if shown, err := chromedp.Run(ent.Ctx, chromedp.Evaluate[int](`window.uploadShown`)); err != nil || shown != 100 {
			t.Fatalf("upload progress shown up to %d%% (%v)", shown, err)
		}
		var n int
		if err := s.d.db.NewRaw("SELECT count(*) FROM requests WHERE title = ?", title).Scan(ctx, &n); err != nil || n != 1 {
			t.Fatalf("requests filed by a double click: %d %v", n, err)
		}

		court := s.signIn(b, t, "court1", webtest.Desktop)
		s.open(court, "/work", "#queue")
		court.WaitText("#queue", title, 20*time.Second) // routed by the worker, shown by the queue's refresh
		court.Shot("work-queue")
		// The countdowns tick in the browser between refreshes.
		first := court.Text("#queue .tick")
		if _, err := chromedp.Run(court.Ctx, chromedp.Poll[chromedp.Void](fmt.Sprintf(
			`(t => t !== "" && t !== %q)(document.querySelector("#queue .tick").textContent)`, first), chromedp.WithPollingTimeout(3*time.Second))); err != nil {
			t.Fatalf("the countdown stays at %q: %v", first, err)
		}
		court.Do("open the request", chromedp.Click(chromedp.JSPath(fmt.Sprintf(`[...document.querySelectorAll("#queue a")].find(a => a.innerText.includes(%q))`, title))))
		court.Do("accept", chromedp.WaitVisible(actButton("accept")), chromedp.Click(actButton("accept")))
		court.WaitText("main", "办理中", 10*time.Second)
		s.clock.Advance(20 * time.Minute)
		court.Do("ask for materials",
			chromedp.SetValue(chromedp.CSS("#info-body"), "请上传商标注册证及被仿冒商品的购买记录。"),
			chromedp.Click(actButton("request_info")))
		court.WaitText("main", "待企业补充材料", 10*time.Second)

		s.clock.Advance(40 * time.Minute)
		ent.Do("reload the request", chromedp.Reload())
		ent.WaitText(".asked", "购买记录", 10*time.Second)
		ent.Do("answer with a file",
			chromedp.SetValue(chromedp.CSS("#msg-body"), "已上传购买记录截图。"),
			chromedp.SetUploadFiles(chromedp.CSS("#msg-files"), []string{file}),
			chromedp.Click(chromedp.CSS("form[action$='/messages'] button[type=submit]")))
		ent.WaitText("main", "办理中", 10*time.Second)

		s.clock.Advance(time.Hour)
		court.Do("reload", chromedp.Reload())
		court.WaitText(".timeline", "已上传购买记录截图。", 10*time.Second)
		court.Shot("work-request")
		court.Do("resolve",
			chromedp.SetValue(chromedp.CSS("#resolve-body"), "已指导向市场监管部门投诉并申请诉前禁令。"),
			chromedp.Click(actButton("resolve")))
		court.WaitText("main", "已办结待确认", 10*time.Second)

		ent.Do("reload", chromedp.Reload())
		ent.Do("confirm", chromedp.WaitVisible(actButton("confirm")), chromedp.Click(actButton("confirm")))
		ent.WaitText("main", "已关闭", 10*time.Second)
		ent.Do("rate",
			chromedp.Click(chromedp.CSS("input[name=rating][value='5']")),
			chromedp.SetValue(chromedp.CSS("#fb-comment"), "响应很快。"),
			chromedp.Click(chromedp.CSS("form[action$='/feedback'] button")))
		ent.WaitText(".timeline", "响应很快。", 10*time.Second)
		ent.Shot("portal-request")
	})

	t.Run("inspection code verified on a phone", func(t *testing.T) {
		// The emergency-management bureau visited the same enterprise today.
		var uscc string
		if err := s.d.db.NewRaw("SELECT e.uscc FROM enterprises e JOIN users u ON u.enterprise_id = e.id WHERE u.username = 'ent2'").Scan(ctx, &uscc); err != nil {
			t.Fatal(err)
		}
		today := s.clock.Now()
		if _, err := s.d.inspection.Issue(ctx, s.actor("inspector.emg1"), inspection.IssueInput{USCC: uscc, Items: []string{"EMG-002"},
			Mode: "onsite", Kind: "routine", From: today, To: today.Add(4 * time.Hour),
			Inspectors: []int64{s.actor("inspector.emg1").UserID, s.actor("inspector.emg2").UserID}}); err != nil {
			t.Fatal(err)
		}

		insp := s.signIn(b, t, "inspector.market1", webtest.Desktop)
		s.open(insp, "/inspect/new", "#issue-form")
		insp.Do("find the enterprise", chromedp.SendKeys(chromedp.CSS("#ent-q"), "岷江绿源"))
		insp.Do("pick it", chromedp.WaitVisible(chromedp.CSS("#ent-options button.option")), chromedp.Click(chromedp.CSS("#ent-options button.option")))
		insp.Do("items and the second inspector",
			chromedp.Click(chromedp.CSS("input[name=items][value='MKT-001']")),
			chromedp.Click(chromedp.CSS(fmt.Sprintf("input[name=inspectors][value='%d']", s.actor("inspector.market2").UserID))),
			// Asking for the code shows the warnings first (another agency
			// visits today); the second click issues it.
			chromedp.Click(chromedp.CSS("#issue-form .buttons button:not([formaction])")))
		insp.WaitText("#checks-h", "预检结果", 10*time.Second)
		insp.WaitText(".checks", "当天", time.Second)
		insp.Shot("inspect-precheck")
		insp.Do("issue", chromedp.Click(chromedp.CSS("#issue-form .buttons button:not([formaction])")))
		insp.WaitText("main", "全屏出示二维码", 10*time.Second)
		code := strings.TrimSpace(insp.Text("strong.code"))

		phone := s.signIn(b, t, "inspector.market1", webtest.Phone)
		s.open(phone, strings.TrimPrefix(insp.Location(), s.url)+"/qr", ".qr-full img")
		phone.Shot("inspect-qr-phone")

		insp.Do("record the visit",
			chromedp.Click(chromedp.CSS("form[action$='/record'] button")))
		insp.WaitText("main", "已记录", 10*time.Second)

		// The enterprise rates the visit; the market bureau never sees it.
		ent := s.signIn(b, t, "ent2", webtest.Phone)
		s.open(ent, "/portal/inspections", "main h1")
		ent.Do("open the inspection", chromedp.Click(chromedp.CSS(".rows a")))
		ent.Do("rate it",
			chromedp.WaitVisible(chromedp.CSS("form[action$='/evaluate']")),
			chromedp.Click(chromedp.CSS("input[name=rating][value='4']")),
			chromedp.Click(chromedp.CSS("input[name=tags][value='出示证件']")),
			chromedp.SetValue(chromedp.CSS("#ev-comment"), "检查人员出示了证件，按清单检查。"))
		ent.Shot("portal-inspection-rate-phone")
		ent.Do("send", chromedp.Click(chromedp.CSS("form[action$='/evaluate'] button")))
		ent.WaitText("main", "已评价", 10*time.Second)

		visitor := b.NewUser(t, webtest.Phone)
		s.open(visitor, "/v/"+code, ".banner")
		visitor.WaitText(".banner", "有效", time.Second)
		visitor.Shot("verify-phone")
		s.open(visitor, "/v/AAAAAAAAAAAA", ".banner")
		visitor.WaitText(".banner", "无效", time.Second)
	})

	t.Run("oversight sees the repeat visit and issues an order", func(t *testing.T) {
		office := s.signIn(b, t, "oversight1", webtest.Desktop)
		s.open(office, "/oversight", ".tiles")
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(office.Text("main"), "同日重复检查") { // the worker's analysis raises it
			if time.Now().After(deadline) {
				t.Fatalf("no repeat-visit alert on the dashboard:\n%s", office.Text("main"))
			}
			office.Do("reload", chromedp.Sleep(200*time.Millisecond), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(".tiles")))
		}
		office.Do("charts drawn", chromedp.WaitVisible(chromedp.CSS(".chart svg")))
		office.Shot("oversight-dashboard")
		// The download links work with the page's session.
		for _, format := range []string{"xlsx", "csv"} {
			got, err := chromedp.Run(office.Ctx, chromedp.Evaluate[string](fmt.Sprintf(
				`fetch(document.querySelector("a[href*='reports/inspections'][href*='format=%s']").href).then(async r => r.status + " " + r.headers.get("content-type") + (r.ok ? "" : " " + await r.text()))`, format),
				chromedp.EvalAwaitPromise))
			if err != nil || !strings.HasPrefix(got, "200 ") {
				t.Fatalf("%s download: %q %v", format, got, err)
			}
		}
		office.Do("open the order form for the alert", chromedp.Click(chromedp.JSPath(
			`[...document.querySelectorAll(".rows li")].find(li => li.innerText.includes("同日重复检查")).querySelector("a[href*='alert_id']")`)))
		office.Do("issue the order",
			chromedp.WaitVisible(chromedp.CSS("#o-text")),
			chromedp.SetValue(chromedp.CSS("#o-text"), "请说明同日重复检查的原因，今后联合检查。"),
			chromedp.Click(chromedp.CSS("form[action='/oversight/orders'] button")))
		office.WaitText(".rows", "请说明同日重复检查的原因", 10*time.Second)
		// An order about a request, to the court, named by its ticket number.
		var ticket string
		if err := s.d.db.NewRaw("SELECT ticket_no FROM requests WHERE category = 'ip_protection' ORDER BY id DESC LIMIT 1").Scan(ctx, &ticket); err != nil {
			t.Fatal(err)
		}
		office.Do("order the court about the request",
			chromedp.SetValue(chromedp.CSS("#o-ticket"), ticket),
			chromedp.SetValue(chromedp.CSS("#o-agency"), strconv.FormatInt(s.actor("court1").AgencyID, 10)),
			chromedp.SetValue(chromedp.CSS("#o-text"), "请报告该知识产权诉求的后续保护措施。"),
			chromedp.Click(chromedp.CSS("form[action='/oversight/orders'] button")))
		office.WaitText(".rows", "后续保护措施", 10*time.Second)
		office.Shot("oversight-orders")
		s.open(office, "/oversight/burden?q="+url.QueryEscape("岷江绿源"), "main h1")
		office.WaitText("main", "各机关年度检查次数", time.Second)
		office.Shot("oversight-burden")
	})

	t.Run("lead and administrator", func(t *testing.T) {
		lead := s.signIn(b, t, "lead.court", webtest.Desktop)
		s.open(lead, "/work", "#queue")
		lead.WaitText("#queue", "机关待分派池", time.Second)
		lead.Shot("lead-queue")
		s.open(lead, "/work/orders", "main")
		lead.Do("answer the supervision order",
			chromedp.SetValue(chromedp.CSS("form[action^='/work/orders/'] textarea"), "已向企业发送诉前禁令指引，并与市场监管局建立线索移送。"),
			chromedp.Click(chromedp.CSS("form[action^='/work/orders/'] button")))
		lead.WaitText(".rows", "已答复待审核", 10*time.Second)
		lead.Shot("lead-orders")
		admin := s.signIn(b, t, "admin", webtest.Desktop)
		s.open(admin, "/manage/routing", "table")
		admin.Shot("admin-routing")
		s.open(admin, "/manage/nodisturb", "#nd-uscc")
		admin.Do("put ent1's company on the no-disturb list",
			chromedp.SetValue(chromedp.CSS("#nd-uscc"), "91510118MA6827NEN0"),
			chromedp.SetValue(chromedp.CSS("#nd-basis"), "A级纳税信用，区政府2026年第3号决定"),
			chromedp.Click(chromedp.CSS("form[action='/manage/nodisturb/0'] button")))
		admin.WaitText("table", "成都新津天府智造科技有限公司", 10*time.Second)
		s.open(admin, "/manage/users", "table")
		admin.Shot("admin-users")
	})

	t.Run("language switch", func(t *testing.T) {
		ent := s.signIn(b, t, "ent1", webtest.Phone)
		s.open(ent, "/portal", "#new")
		ent.Do("switch to English", chromedp.Click(chromedp.CSS("a.lang")))
		ent.WaitText("h1", "My requests", 10*time.Second)
		ent.WaitText("#new", "File a request", time.Second)
		ent.Shot("portal-en-phone")
		ent.Do("back to Chinese", chromedp.Click(chromedp.CSS("a.lang")))
		ent.WaitText("h1", "我的诉求", 10*time.Second)
	})
}

// Each screen opens for its roles only (pages call the same services, so
// a role that slips past a route still meets identity.Authorize).
func TestWebScreensByRole(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	open := map[string][]string{
		"ent1":              {"/portal", "/portal/inspections"},
		"court1":            {"/work", "/work/rows"},
		"lead.court":        {"/work", "/work/orders", "/inspect"},
		"inspector.market1": {"/inspect", "/inspect/new"},
		"oversight1":        {"/oversight", "/oversight/alerts", "/oversight/orders", "/oversight/burden"},
		"admin":             {"/", "/manage/users", "/manage/caps", "/manage/nodisturb"},
	}
	all := []string{"/portal", "/portal/inspections", "/work", "/work/orders", "/inspect", "/inspect/new",
		"/oversight", "/oversight/alerts", "/oversight/orders", "/oversight/burden", "/manage/users"}
	for user, mine := range open {
		b := w.browse(user)
		for _, path := range mine {
			if rec := b.do("GET", path, nil); rec.Code != 200 {
				t.Errorf("%s GET %s: %d", user, path, rec.Code)
			}
		}
		for _, path := range all {
			allowed := false
			for _, m := range mine {
				allowed = allowed || m == path
			}
			if rec := b.do("GET", path, nil); !allowed && rec.Code != 403 {
				t.Errorf("%s GET %s: %d, want 403", user, path, rec.Code)
			}
		}
	}
}

// The oversight office reads a request (from an alert) without acting on it.
func TestWebOversightReadsARequest(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	id := strconv.FormatInt(w.ids["request:ent2"], 10)
	page := w.browse("oversight1").page("/oversight/requests/" + id)
	if !strings.Contains(page, "合同诈骗报案") || strings.Contains(page, `name="action"`) || strings.Contains(page, "/messages") {
		t.Fatalf("oversight request page:\n%s", page)
	}
	if rec := w.browse("ent1").do("GET", "/oversight/requests/"+id, nil); rec.Code != 403 {
		t.Fatalf("enterprise opens the office's request page: %d", rec.Code)
	}
}
