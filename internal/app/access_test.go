package app

import (
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"greenchannel/api"
	"greenchannel/internal/casework"
	"greenchannel/internal/identity"
	"greenchannel/internal/inspection"
	"greenchannel/internal/notify"
	"greenchannel/internal/oversight"
	"greenchannel/internal/platform/jobs/jobstest"
	"greenchannel/internal/platform/pg/pgtest"
)

// world is a seeded system behind the full HTTP stack, with a signed-in
// bearer token per demo user.
type world struct {
	t      *testing.T
	d      *deps
	h      http.Handler
	tokens map[string]string
	ids    map[string]int64 // fixture name → id
	strs   map[string]string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	_, dbURL := pgtest.NewWithURL(t)
	_, redisURL := jobstest.Redis(t)
	d := testDeps(t, dbURL, redisURL)
	if err := seed(context.Background(), d, true, io.Discard); err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, d: d, h: handler(t, d), tokens: map[string]string{}, ids: map[string]int64{}, strs: map[string]string{}}
	for _, u := range []string{"admin", "oversight1", "court1", "court2", "lead.court", "police1", "inspector.market1", "ent1", "ent2"} {
		tok, user, err := d.identity.Login(context.Background(), u, demoPassword, "127.0.0.1")
		if err != nil {
			t.Fatalf("login %s: %v", u, err)
		}
		w.tokens[u] = tok.AccessToken
		w.ids["user:"+u] = user.ID
		if user.EnterpriseID != nil {
			w.ids["enterprise:"+u] = *user.EnterpriseID
		}
		if user.AgencyID != nil {
			w.ids["agency:"+u] = *user.AgencyID
		}
	}
	w.fileRequest("ent2", "economic_crime_report", "合同诈骗报案：岷江绿源被骗货款", "police1")
	var rule int64
	if err := d.db.NewRaw("SELECT min(id) FROM routing_rules").Scan(context.Background(), &rule); err != nil {
		t.Fatal(err)
	}
	w.ids["rule:first"] = rule
	var policy, cal int64
	_ = d.db.NewRaw("SELECT min(id) FROM sla_policies").Scan(context.Background(), &policy)
	_ = d.db.NewRaw("SELECT id FROM calendars WHERE code = 'working'").Scan(context.Background(), &cal)
	w.ids["policy:first"], w.ids["calendar:working"], w.ids["year:2026"] = policy, cal, 2026
	admin, _ := d.identity.ActorByUsername(context.Background(), "admin")
	hook, err := notify.AddHook(context.Background(), d.db, admin, w.ids["agency:police1"], "http://127.0.0.1:9/hook", "0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	w.ids["webhook:police"] = hook.ID
	w.fileInspection()
	w.fileOversight()
	return w
}

// fileRequest files a request as enterprise user ent and assigns it to
// officer directly (routing has its own tests), recording the fixture ids.
func (w *world) fileRequest(ent, category, title, officer string) int64 {
	w.t.Helper()
	ctx := context.Background()
	a, err := w.d.identity.Authenticate(ctx, w.tokens[ent])
	if err != nil {
		w.t.Fatal(err)
	}
	r, _, err := w.d.casework.Create(ctx, a, casework.NewRequest{Category: category, Title: title, Description: title + "，请求协助。"})
	if err != nil {
		w.t.Fatal(err)
	}
	if officer != "" {
		if _, err := w.d.db.ExecContext(ctx, "UPDATE requests SET status = 'assigned', agency_id = ?, assignee_id = ? WHERE id = ?",
			w.ids["agency:"+officer], w.ids["user:"+officer], r.ID); err != nil {
			w.t.Fatal(err)
		}
	}
	att, err := w.d.casework.Attach(ctx, a, r.ID, "合同.pdf", strings.NewReader("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"))
	if err != nil {
		w.t.Fatal(err)
	}
	w.ids["request:"+ent] = r.ID
	w.ids["attachment:"+ent] = att.ID
	return r.ID
}

// fileInspection has the fire brigade inspect ent2's enterprise (a
// triggered, off-site check), record it, and ent2 rate it.
func (w *world) fileInspection() {
	w.t.Helper()
	ctx := context.Background()
	fire, err := w.d.identity.ActorByUsername(ctx, "inspector.fire1")
	if err != nil {
		w.t.Fatal(err)
	}
	now := time.Now()
	i, err := w.d.inspection.Issue(ctx, fire, inspection.IssueInput{USCC: "91510118MA66RUMRHK", Items: []string{"FIRE-002"},
		Mode: "offsite", Kind: "triggered", Trigger: "hotline_12345", TriggerRef: "12345-2026-0001",
		From: now.Add(-time.Hour), To: now.Add(24 * time.Hour), Inspectors: []int64{fire.UserID}})
	if err != nil {
		w.t.Fatalf("issue: %v", err)
	}
	if _, err := w.d.inspection.Record(ctx, fire, i.ID, inspection.RecordInput{Start: now.Add(-30 * time.Minute), End: now, Outcome: "no_issue"}); err != nil {
		w.t.Fatal(err)
	}
	ent2, _ := w.d.identity.ActorByUsername(ctx, "ent2")
	if _, err := w.d.inspection.Evaluate(ctx, ent2, i.ID, 2, []string{"推销服务"}, "检查人员推销灭火器", true); err != nil {
		w.t.Fatal(err)
	}
	w.ids["inspection:fire"] = i.ID
	w.strs["code:fire"] = i.Code
}

// fileOversight gives the office an alert, an order to the police and a
// monthly snapshot to work with.
func (w *world) fileOversight() {
	w.t.Helper()
	ctx := context.Background()
	if err := w.d.oversight.AnalyzeInspection(ctx, inspection.AnalyzePayload{InspectionID: w.ids["inspection:fire"]}); err != nil {
		w.t.Fatal(err)
	}
	var alert int64
	if err := w.d.db.NewRaw("SELECT min(id) FROM alerts").Scan(ctx, &alert); err != nil || alert == 0 {
		w.t.Fatalf("no alert to work with: %v", err)
	}
	office, _ := w.d.identity.ActorByUsername(ctx, "oversight1")
	o, err := w.d.oversight.IssueOrder(ctx, office, oversight.OrderInput{AgencyID: w.ids["agency:police1"], RequestID: w.ids["request:ent2"],
		Instruction: "请说明超时原因", DueInWorkingDays: 3})
	if err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.d.db.ExecContext(ctx, "INSERT INTO report_snapshots (kind, period, xlsx, created_at) VALUES ('monthly', '2026-10', '\\x00', now())"); err != nil {
		w.t.Fatal(err)
	}
	var snap int64
	_ = w.d.db.NewRaw("SELECT min(id) FROM report_snapshots").Scan(ctx, &snap)
	w.ids["alert:first"], w.ids["order:police"], w.ids["snapshot:first"] = alert, o.ID, snap
	w.strs["uscc:ent2"] = "91510118MA66RUMRHK"
}

// call sends a request as user ("" for nobody) and returns status and body.
func (w *world) call(user, method, path, body string, header ...string) (int, string, http.Header) {
	w.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if user != "" {
		req.Header.Set("Authorization", "Bearer "+w.tokens[user])
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	w.h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String(), rec.Header()
}

// rule says who may call an operation, on which fixture resource, with
// which body. Every role not listed must get 403 or 404 and no data.
type rule struct {
	open   string            // "public": no sign-in; "self": only ever about the caller; "any": every role, nothing owned
	roles  []string          // users (one per role) allowed to call it on the target
	target string            // fixture whose id fills {id}
	params map[string]string // fixtures for other path parameters
	body   string
	// list marks an operation everyone may call that must filter: callers
	// outside roles get 200 or 403, never the target's data.
	list bool
	// multipart sends body as a multipart upload of a small PDF.
	multipart bool
	// query is appended to the path (required query parameters).
	query string
	// leak lists strings that belong to the target and must not appear in a refusal.
	leak []string
}

// probes are one user per role; the target resources belong to none of
// them (except the admin, whose job is reference data).
var probes = []string{"admin", "oversight1", "court1", "lead.court", "inspector.market1", "ent1"}

var accessRules = map[string]rule{
	"getHealthz":   {open: "public"},
	"getReadyz":    {open: "public"},
	"createToken":  {open: "public"},
	"refreshToken": {open: "public"},
	"logout":       {open: "public"},
	"getMe":        {open: "self"},
	"listTowns":    {open: "any"},

	"listAgencies":      {roles: []string{"admin"}},
	"createAgency":      {roles: []string{"admin"}, body: `{"code":"newbody","name":"新机构","kind":"inspection"}`},
	"getAgency":         {roles: []string{"admin"}, target: "agency:police1", leak: []string{"公安局"}},
	"updateAgency":      {roles: []string{"admin"}, target: "agency:police1", body: `{"name":"改名"}`, leak: []string{"公安局"}},
	"listUsers":         {roles: []string{"admin"}, leak: []string{"court2"}},
	"createUser":        {roles: []string{"admin"}, body: `{"username":"newuser","display_name":"新用户","role":"admin","password":"longenough"}`},
	"getUser":           {roles: []string{"admin"}, target: "user:court2", leak: []string{"court2", "王法官"}},
	"updateUser":        {roles: []string{"admin"}, target: "user:court2", body: `{"display_name":"x"}`, leak: []string{"court2"}},
	"resetPassword":     {roles: []string{"admin"}, target: "user:court2", body: `{"password":"newpassword1"}`},
	"setOfficerProfile": {roles: []string{"admin"}, target: "user:court2", body: `{"skills":[],"capacity":1,"on_duty":false}`},
	"listEnterprises":   {roles: []string{"admin", "oversight1", "inspector.market1"}, leak: []string{"岷江绿源"}},
	"createEnterprise":  {roles: []string{"admin"}, body: `{"uscc":"91350100M000100Y43","name":"新企业"}`},
	"getEnterprise":     {roles: []string{"admin", "oversight1", "inspector.market1"}, target: "enterprise:ent2", leak: []string{"岷江绿源"}},
	"updateEnterprise":  {roles: []string{"admin"}, target: "enterprise:ent2", body: `{"name":"改名"}`, leak: []string{"岷江绿源"}},
	"setNoDisturb":      {roles: []string{"admin"}, target: "enterprise:ent2", body: `{"no_disturb":false}`, leak: []string{"岷江绿源"}},

	"listCategories":      {open: "any"},
	"createRequest":       {roles: []string{"ent1"}, body: `{"category":"legal_aid","title":"咨询","description":"劳动合同问题"}`},
	"listRequests":        {list: true, roles: []string{"oversight1"}, leak: []string{"被骗货款"}},
	"getQueue":            {list: true, leak: []string{"被骗货款"}},
	"getRequest":          {roles: []string{"oversight1"}, target: "request:ent2", leak: []string{"被骗货款"}},
	"actOnRequest":        {target: "request:ent2", body: `{"action":"withdraw"}`, leak: []string{"被骗货款"}},
	"postRequestMessage":  {target: "request:ent2", body: `{"body":"补充材料"}`, leak: []string{"被骗货款"}},
	"uploadAttachment":    {target: "request:ent2", multipart: true},
	"listAttachments":     {roles: []string{"oversight1"}, target: "request:ent2", leak: []string{"合同.pdf"}},
	"downloadAttachment":  {roles: []string{"oversight1"}, target: "request:ent2", params: map[string]string{"attachment_id": "attachment:ent2"}, leak: []string{"%PDF"}},
	"getRequestTimeline":  {roles: []string{"oversight1"}, target: "request:ent2", leak: []string{"被骗货款"}},
	"giveRequestFeedback": {target: "request:ent2", body: `{"rating":5}`},

	"setDuty":               {open: "self"},
	"listNotifications":     {open: "self"},
	"markNotificationsRead": {open: "self"},
	"listRoutingRules":      {roles: []string{"admin"}},
	"createRoutingRule":     {roles: []string{"admin"}, body: `{"priority":5,"category":"legal_aid","agency_id":1}`},
	"updateRoutingRule":     {roles: []string{"admin"}, target: "rule:first", body: `{"note":"x"}`},
	"createRecusal":         {roles: []string{"admin"}, body: `{"officer_id":1,"enterprise_id":1,"reason":"亲属"}`},

	"resetRequestClock":     {target: "request:ent2", body: `{"clock":"resolution","reason":"鉴定期间"}`},
	"getSLAReport":          {list: true, roles: []string{"oversight1"}, query: "?from=2020-01-01T00:00:00Z&to=2100-01-01T00:00:00Z", leak: []string{"公安局"}},
	"listSLAPolicies":       {roles: []string{"admin"}},
	"updateSLAPolicy":       {roles: []string{"admin"}, target: "policy:first", body: `{"warn_percent":80}`},
	"listCalendars":         {roles: []string{"admin"}},
	"loadCalendarYear":      {roles: []string{"admin"}, target: "calendar:working", params: map[string]string{"year": "year:2026"}, body: `{"holidays":[],"makeup_workdays":[]}`},
	"listWebhooks":          {roles: []string{"admin"}, leak: []string{"127.0.0.1:9"}},
	"createWebhook":         {roles: []string{"admin"}, body: `{"agency_id":1,"url":"http://127.0.0.1:9/x","secret":"0123456789abcdef"}`},
	"listWebhookDeliveries": {roles: []string{"admin"}, target: "webhook:police"},

	"listInspectionItems":     {list: true, roles: []string{"admin", "oversight1", "inspector.market1"}},
	"createInspection":        {roles: []string{"inspector.market1"}, body: `{"uscc":"91510118MA66RUMRHK","items":["MKT-004"],"mode":"offsite","kind":"routine","window_from":"2026-12-01T09:00:00+08:00","window_to":"2026-12-02T09:00:00+08:00","inspectors":[1]}`},
	"listInspections":         {list: true, roles: []string{"oversight1"}, leak: []string{"hotline_12345"}},
	"getInspection":           {roles: []string{"oversight1"}, target: "inspection:fire", leak: []string{"hotline_12345"}},
	"getInspectionQRSVG":      {roles: []string{"oversight1"}, target: "inspection:fire"},
	"getInspectionQRPNG":      {roles: []string{"oversight1"}, target: "inspection:fire"},
	"recordInspection":        {target: "inspection:fire", body: `{"start":"2026-12-01T09:00:00+08:00","end":"2026-12-01T10:00:00+08:00","outcome":"no_issue"}`},
	"cancelInspection":        {target: "inspection:fire", body: `{"reason":"改期"}`},
	"evaluateInspection":      {target: "inspection:fire", body: `{"rating":1}`},
	"getInspectionEvaluation": {roles: []string{"oversight1"}, target: "inspection:fire", leak: []string{"推销"}},
	"verifyInspectionCode":    {open: "public"},
	"confirmInspectionCode":   {target: "inspection:fire", params: map[string]string{"code": "code:fire"}},

	"listAlerts":          {roles: []string{"oversight1"}},
	"ackAlert":            {roles: []string{"oversight1"}, target: "alert:first"},
	"resolveAlert":        {roles: []string{"oversight1"}, target: "alert:first"},
	"dismissAlert":        {roles: []string{"oversight1"}, target: "alert:first", body: `{"reason":"误报"}`},
	"issueOrder":          {roles: []string{"oversight1"}, body: `{"agency_id":1,"request_id":1,"instruction":"请说明","due_in_working_days":3}`},
	"listOrders":          {list: true, roles: []string{"oversight1", "lead.court"}, leak: []string{"公安"}},
	"getOrder":            {roles: []string{"oversight1"}, target: "order:police", leak: []string{"请说明超时原因"}},
	"respondToOrder":      {target: "order:police", body: `{"text":"已整改"}`},
	"acceptOrder":         {roles: []string{"oversight1"}, target: "order:police", body: `{}`},
	"returnOrder":         {roles: []string{"oversight1"}, target: "order:police", body: `{"text":"不充分"}`},
	"getInspectionReport": {roles: []string{"oversight1"}, query: "?from=2020-01-01T00:00:00Z&to=2100-01-01T00:00:00Z"},
	"getRequestReport":    {roles: []string{"oversight1"}, query: "?from=2020-01-01T00:00:00Z&to=2100-01-01T00:00:00Z"},
	"getEnterpriseBurden": {roles: []string{"oversight1"}, params: map[string]string{"uscc": "uscc:ent2"}, leak: []string{"岷江绿源"}},
	"listSnapshots":       {roles: []string{"oversight1"}},
	"downloadSnapshot":    {roles: []string{"oversight1"}, target: "snapshot:first"},
}

type operation struct{ id, method, path string }

func specOperations(t *testing.T) []operation {
	t.Helper()
	doc, err := api.GetSpec()
	if err != nil {
		t.Fatal(err)
	}
	var ops []operation
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			// The embedded spec capitalises operation ids; the rules use the spec's own spelling.
			id := strings.ToLower(op.OperationID[:1]) + op.OperationID[1:]
			ops = append(ops, operation{id, method, path})
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].id < ops[j].id })
	return ops
}

// TestNobodyReachesWhatIsNotTheirs tries every operation of openapi.yaml as
// every role on a resource that role does not own. A new operation without
// an entry in accessRules fails the test, so nothing ships unchecked.
func TestNobodyReachesWhatIsNotTheirs(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	idParam := regexp.MustCompile(`\{[a-z_]+\}`)
	for _, op := range specOperations(t) {
		r, ok := accessRules[op.id]
		if !ok {
			t.Errorf("operation %s (%s %s) has no access rule: add one to accessRules", op.id, op.method, op.path)
			continue
		}
		if r.open != "" {
			continue
		}
		path := idParam.ReplaceAllStringFunc(op.path, func(p string) string {
			name := strings.Trim(p, "{}")
			fixture := r.target
			if name != "id" {
				fixture = r.params[name]
			}
			if v, ok := w.strs[fixture]; ok {
				return v
			}
			id, ok := w.ids[fixture]
			if !ok {
				t.Fatalf("%s: no fixture for {%s}", op.id, name)
			}
			return strconv.FormatInt(id, 10)
		})
		path += r.query
		body, header := r.body, []string(nil)
		if r.multipart {
			body, header = multipartPDF()
		}
		// Nobody signed in: always 401.
		if code, got, _ := w.call("", op.method, path, body, header...); code != http.StatusUnauthorized {
			t.Errorf("%s anonymous: %d %s", op.id, code, got)
		}
		for _, who := range probes {
			allowed := contains(r.roles, who)
			code, body, _ := w.call(who, op.method, path, body, header...)
			switch {
			case allowed && op.method == http.MethodGet && code != http.StatusOK:
				t.Errorf("%s as %s: allowed but got %d %s", op.id, who, code, body)
			case r.list && !allowed:
				if code != http.StatusOK && code != http.StatusForbidden {
					t.Errorf("%s as %s: want 200 or 403, got %d %s", op.id, who, code, body)
				}
				for _, s := range r.leak {
					if strings.Contains(body, s) {
						t.Errorf("%s as %s: list leaks %q", op.id, who, s)
					}
				}
			case allowed:
			case code != http.StatusForbidden && code != http.StatusNotFound:
				t.Errorf("%s as %s: want 403/404, got %d %s", op.id, who, code, body)
			default:
				var p map[string]any
				if json.Unmarshal([]byte(body), &p) != nil || p["type"] == nil {
					t.Errorf("%s as %s: refusal is not a problem: %s", op.id, who, body)
				}
				for _, s := range r.leak {
					if strings.Contains(body, s) {
						t.Errorf("%s as %s: refusal leaks %q", op.id, who, s)
					}
				}
			}
		}
	}
}

func multipartPDF() (string, []string) {
	var buf strings.Builder
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "补充.pdf")
	_, _ = fw.Write([]byte("%PDF-1.4\n%%EOF\n"))
	_ = mw.Close()
	return buf.String(), []string{"Content-Type", mw.FormDataContentType()}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestMeShowsTheCallersBinding(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	code, body, _ := w.call("ent1", "GET", "/api/v1/me", "")
	if code != 200 || !strings.Contains(body, `"role":"enterprise"`) || !strings.Contains(body, `"uscc":"91510118MA6827NEN0"`) {
		t.Fatalf("ent1: %d %s", code, body)
	}
	code, body, _ = w.call("court1", "GET", "/api/v1/me", "")
	if code != 200 || !strings.Contains(body, `"kind":"court"`) {
		t.Fatalf("court1: %d %s", code, body)
	}
}

func TestSixthWrongPasswordIs429WithRetryAfter(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	body := `{"username":"police1","password":"not-it"}`
	for i := 1; i <= 5; i++ {
		if code, b, _ := w.call("", "POST", "/api/v1/auth/token", body); code != 401 {
			t.Fatalf("attempt %d: %d %s", i, code, b)
		}
	}
	code, b, h := w.call("", "POST", "/api/v1/auth/token", body)
	if code != 429 || h.Get("Retry-After") == "" || !strings.Contains(b, "rate-limited") {
		t.Fatalf("sixth attempt: %d %v %s", code, h, b)
	}
}

func TestQueueMonitorNeedsAdminOrOversight(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	for who, want := range map[string]int{"": 401, "ent1": 403, "court1": 403, "admin": 200, "oversight1": 200} {
		if code, _, _ := w.call(who, "GET", "/admin/queues", ""); code != want {
			t.Errorf("%q: %d, want %d", who, code, want)
		}
	}
}

// A browser session must show its CSRF token on state changes; a forged
// cross-site form (cookie only) is refused.
func TestCookieSessionsNeedTheCSRFToken(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	form := url.Values{"username": {"admin"}, "password": {demoPassword}}
	req := httptest.NewRequest("POST", "/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	w.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("login: %d %s", rec.Code, rec.Body)
	}
	var cookie *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == "gc_session" {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode {
		t.Fatalf("session cookie: %+v", cookie)
	}

	send := func(method, path, body, csrf string) (int, string) {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.AddCookie(cookie)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if csrf != "" {
			req.Header.Set("X-CSRF-Token", csrf)
		}
		rec := httptest.NewRecorder()
		w.h.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	code, page := send("GET", "/", "", "")
	m := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(page)
	if code != 200 || m == nil {
		t.Fatalf("home page: %d, csrf field found: %v", code, m != nil)
	}
	path := "/api/v1/admin/users/" + strconv.FormatInt(w.ids["user:court2"], 10)
	if code, body := send("PATCH", path, `{"display_name":"伪造"}`, ""); code != 403 || !strings.Contains(body, "/problems/csrf") {
		t.Fatalf("no CSRF token: %d %s", code, body)
	}
	if code, body := send("PATCH", path, `{"display_name":"伪造"}`, "wrong-token"); code != 403 {
		t.Fatalf("wrong CSRF token: %d %s", code, body)
	}
	if code, body := send("PATCH", path, `{"display_name":"王法官（民一庭）"}`, m[1]); code != 200 {
		t.Fatalf("with the CSRF token: %d %s", code, body)
	}
	if code, _ := send("GET", "/api/v1/me", "", ""); code != 200 {
		t.Fatalf("reads need no CSRF token: %d", code)
	}
	// Logging out is a state change too.
	form = url.Values{}
	req = httptest.NewRequest("POST", "/logout", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(cookie)
	rec = httptest.NewRecorder()
	w.h.ServeHTTP(rec, req)
	if rec.Code != 403 {
		t.Fatalf("logout without CSRF: %d", rec.Code)
	}
	_ = identity.RoleAdmin
}
