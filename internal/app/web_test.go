package app

import (
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// browser is a signed-in web session: it keeps the session cookie and
// posts forms with the CSRF token scraped from the last page.
type browser struct {
	t      *testing.T
	w      *world
	cookie *http.Cookie
	csrf   string
}

var (
	csrfField    = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
	keyField     = regexp.MustCompile(`name="idempotency_key" value="([^"]+)"`)
	versionField = regexp.MustCompile(`name="version" value="(\d+)"`)
)

func (w *world) browse(user string) *browser {
	w.t.Helper()
	b := &browser{t: w.t, w: w}
	rec := b.do("POST", "/login", url.Values{"username": {user}, "password": {demoPassword}})
	if rec.Code != http.StatusSeeOther {
		w.t.Fatalf("login %s: %d %s", user, rec.Code, rec.Body)
	}
	for _, c := range rec.Result().Cookies() {
		if c.Name == "gc_session" {
			b.cookie = c
		}
	}
	if b.cookie == nil {
		w.t.Fatalf("login %s: no session cookie", user)
	}
	return b
}

func (b *browser) do(method, path string, form url.Values) *httptest.ResponseRecorder {
	b.t.Helper()
	var req *http.Request
	if form != nil {
		if b.csrf != "" && form.Get("csrf_token") == "" {
			form.Set("csrf_token", b.csrf)
		}
		req = httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, path, nil)
	}
	if b.cookie != nil {
		req.AddCookie(b.cookie)
	}
	rec := httptest.NewRecorder()
	b.w.h.ServeHTTP(rec, req)
	if m := csrfField.FindStringSubmatch(rec.Body.String()); m != nil {
		b.csrf = html.UnescapeString(m[1])
	}
	return rec
}

// page GETs path and wants 200.
func (b *browser) page(path string) string {
	b.t.Helper()
	rec := b.do("GET", path, nil)
	if rec.Code != http.StatusOK {
		b.t.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
	}
	return rec.Body.String()
}

// post sends a form and wants a 303, returning where it points.
func (b *browser) post(path string, form url.Values) string {
	b.t.Helper()
	rec := b.do("POST", path, form)
	if rec.Code != http.StatusSeeOther {
		b.t.Fatalf("POST %s %v: %d %s", path, form, rec.Code, rec.Body)
	}
	return rec.Header().Get("Location")
}

func scrape(t *testing.T, re *regexp.Regexp, page, what string) string {
	t.Helper()
	m := re.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("%s not found on the page:\n%s", what, page)
	}
	return html.UnescapeString(m[1])
}

// A request goes through its whole life on the web pages: the enterprise
// files it, the officer accepts and asks for materials, the enterprise
// answers, the officer resolves, the enterprise confirms.
func TestWebRequestLifecycle(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	ent := w.browse("ent1")
	if rec := ent.do("GET", "/", nil); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/portal" {
		t.Fatalf("enterprise home: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	portal := ent.page("/portal")
	key := scrape(t, keyField, portal, "idempotency key")
	if !strings.Contains(portal, `value="litigation_service"`) {
		t.Fatalf("category select lacks litigation_service:\n%s", portal)
	}
	form := func() url.Values {
		return url.Values{"category": {"litigation_service"}, "title": {"网页立案咨询：买卖合同纠纷"},
			"description": {"供应商拖欠货款，想了解网上立案流程。"}, "contact_phone": {"13800000000"}, "idempotency_key": {key}}
	}
	loc := ent.post("/portal/requests", form())
	if !strings.HasPrefix(loc, "/portal/requests/") {
		t.Fatalf("after filing: %s", loc)
	}
	// The same form sent twice files once.
	if again := ent.post("/portal/requests", form()); again != loc {
		t.Fatalf("double submit went to %s, first to %s", again, loc)
	}
	var n int
	if err := w.d.db.NewRaw("SELECT count(*) FROM requests WHERE title = ?", "网页立案咨询：买卖合同纠纷").Scan(ctx, &n); err != nil || n != 1 {
		t.Fatalf("requests filed: %d %v", n, err)
	}
	id, _ := strconv.ParseInt(strings.TrimPrefix(loc, "/portal/requests/"), 10, 64)
	// A domain refusal re-renders the form with the message.
	bad := form()
	bad.Set("title", "")
	bad.Set("idempotency_key", "other-key")
	if rec := ent.do("POST", "/portal/requests", bad); rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), `class="error"`) {
		t.Fatalf("empty title: %d %s", rec.Code, rec.Body)
	}

	page := ent.page("/portal")
	if !strings.Contains(page, "网页立案咨询：买卖合同纠纷") || !strings.Contains(page, "剩余") || !strings.Contains(page, "待分派") {
		t.Fatalf("portal does not list the request with its deadline:\n%s", page)
	}

	// Route it to court1.
	if _, err := w.d.routing.Assign(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := w.d.db.ExecContext(ctx, "UPDATE requests SET status = 'assigned', assignee_id = ? WHERE id = ? AND assignee_id <> ?",
		w.ids["user:court1"], id, w.ids["user:court1"]); err != nil {
		t.Fatal(err)
	}
	ids := strconv.FormatInt(id, 10)
	court := w.browse("court1")
	if rec := court.do("GET", "/", nil); rec.Header().Get("Location") != "/work" {
		t.Fatalf("officer home: %s", rec.Header().Get("Location"))
	}
	if q := court.page("/work"); !strings.Contains(q, "/work/requests/"+ids) || !strings.Contains(q, "sla-") {
		t.Fatalf("queue lacks the request:\n%s", q)
	}
	detail := court.page("/work/requests/" + ids)
	if !strings.Contains(detail, `value="accept"`) {
		t.Fatalf("no accept form:\n%s", detail)
	}
	v := scrape(t, versionField, detail, "version")
	court.post("/work/requests/"+ids+"/act", url.Values{"action": {"accept"}, "version": {v}})
	// A form from a page that is out of date is refused, with the reason shown.
	if rec := court.do("POST", "/work/requests/"+ids+"/act", url.Values{"action": {"request_info"}, "version": {v}, "body": {"请提供合同"}}); rec.Code != http.StatusPreconditionFailed || !strings.Contains(rec.Body.String(), `role="alert"`) {
		t.Fatalf("stale version: %d %s", rec.Code, rec.Body)
	}
	v = scrape(t, versionField, court.page("/work/requests/"+ids), "version")
	court.post("/work/requests/"+ids+"/act", url.Values{"action": {"request_info"}, "version": {v}, "body": {"请上传买卖合同及对账单。"}})
	court.post("/work/requests/"+ids+"/messages", url.Values{"body": {"当事人材料不全，需补充。"}, "internal": {"1"}})

	// The enterprise sees the question, not the internal note, and answers.
	mine := ent.page("/portal/requests/" + ids)
	if !strings.Contains(mine, "待企业补充材料") || !strings.Contains(mine, "请上传买卖合同及对账单。") || strings.Contains(mine, "当事人材料不全") {
		t.Fatalf("enterprise detail:\n%s", mine)
	}
	ent.post("/portal/requests/"+ids+"/messages", url.Values{"body": {"已上传合同及对账单。"}})

	detail = court.page("/work/requests/" + ids)
	if !strings.Contains(detail, "已上传合同及对账单。") || !strings.Contains(detail, "办理中") || !strings.Contains(detail, "当事人材料不全") ||
		!strings.Contains(detail, `name="target_agency_id"`) || !strings.Contains(detail, "人民检察院") {
		t.Fatalf("officer detail after the answer:\n%s", detail)
	}
	v = scrape(t, versionField, detail, "version")
	court.post("/work/requests/"+ids+"/act", url.Values{"action": {"resolve"}, "version": {v}, "body": {"已指导网上立案。"}})

	mine = ent.page("/portal/requests/" + ids)
	if !strings.Contains(mine, `value="confirm"`) || !strings.Contains(mine, `value="reopen"`) {
		t.Fatalf("enterprise cannot confirm or reopen:\n%s", mine)
	}
	v = scrape(t, versionField, mine, "version")
	ent.post("/portal/requests/"+ids+"/act", url.Values{"action": {"confirm"}, "version": {v}})
	if mine = ent.page("/portal/requests/" + ids); !strings.Contains(mine, "已关闭") {
		t.Fatalf("not closed after confirming:\n%s", mine)
	}

	// The lead sees why the request went where it went.
	lead := w.browse("lead.court")
	if d := lead.page("/work/requests/" + ids); !strings.Contains(d, "分派依据") {
		t.Fatalf("lead sees no routing explanation:\n%s", d)
	}
}

// The public verify page answers without a login.
func TestWebVerifyPage(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	anon := &browser{t: t, w: w}
	page := anon.page("/v/" + w.strs["code:fire"])
	if !strings.Contains(page, "有效") || strings.Contains(page, "无效") || !strings.Contains(page, "*") || !strings.Contains(page, "执法证号") {
		t.Fatalf("valid code:\n%s", page)
	}
	page = anon.page("/v/AAAAAAAAAAAA")
	if !strings.Contains(page, "无效") || !strings.Contains(page, "不是本系统签发的") {
		t.Fatalf("forged code:\n%s", page)
	}
}

// Each role reaches its own pages only.
func TestWebPagesByRole(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	anon := &browser{t: t, w: w}
	if rec := anon.do("GET", "/portal", nil); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/login" {
		t.Fatalf("signed out: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	ent := w.browse("ent1")
	for _, path := range []string{"/work", "/oversight", "/inspect"} {
		if rec := ent.do("GET", path, nil); rec.Code != http.StatusForbidden {
			t.Fatalf("enterprise GET %s: %d", path, rec.Code)
		}
	}
	if rec := w.browse("court1").do("GET", "/portal", nil); rec.Code != http.StatusForbidden {
		t.Fatalf("officer GET /portal: %d", rec.Code)
	}
	// Another enterprise's request is not there for ent1.
	if rec := ent.do("GET", "/portal/requests/"+strconv.FormatInt(w.ids["request:ent2"], 10), nil); rec.Code != http.StatusNotFound {
		t.Fatalf("ent1 reads ent2's request: %d", rec.Code)
	}

	office := w.browse("oversight1")
	if rec := office.do("GET", "/", nil); rec.Header().Get("Location") != "/oversight" {
		t.Fatalf("oversight home: %s", rec.Header().Get("Location"))
	}
	if page := office.page("/oversight"); !strings.Contains(page, "/oversight/alerts/"+strconv.FormatInt(w.ids["alert:first"], 10)) ||
		!strings.Contains(page, "消防救援大队") {
		t.Fatalf("alert list:\n%s", page)
	}
	office.post("/oversight/alerts/"+strconv.FormatInt(w.ids["alert:first"], 10), url.Values{"action": {"ack"}})
	if rec := office.do("POST", "/oversight/alerts/"+strconv.FormatInt(w.ids["alert:first"], 10), url.Values{"action": {"dismiss"}}); rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("dismiss without a reason: %d", rec.Code)
	}

	insp := w.browse("inspector.fire1")
	if rec := insp.do("GET", "/", nil); rec.Header().Get("Location") != "/inspect" {
		t.Fatalf("inspector home: %s", rec.Header().Get("Location"))
	}
	if page := insp.page("/inspect"); !strings.Contains(page, "/api/v1/inspections/"+strconv.FormatInt(w.ids["inspection:fire"], 10)+"/qr.svg") {
		t.Fatalf("inspections page:\n%s", page)
	}
	if page := w.browse("admin").page("/"); !strings.Contains(page, `href="/docs"`) {
		t.Fatalf("admin home:\n%s", page)
	}
}
