package casework_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"greenchannel/internal/casework"
	"greenchannel/internal/identity"
	"greenchannel/internal/platform/fault"
	"greenchannel/internal/platform/storage"
	"greenchannel/internal/testkit"
)

var (
	ctx   = context.Background()
	quiet = testkit.Quiet
	t0    = time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC) // Monday 09:00 in Shanghai
)

type world struct {
	*testkit.World
	t   *testing.T
	db  *bun.DB
	svc *casework.Service
}

func newWorld(t *testing.T) *world {
	t.Helper()
	k := testkit.New(t, t0)
	files, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return &world{World: k, t: t, db: k.DB, svc: casework.NewService(k.DB, k.Clock, quiet, files, casework.DefaultLimits)}
}

// file creates a request as ent1 in a court category and, if officer is
// set, assigns it to them directly (routing is tested on its own).
func (w *world) file(officer string) casework.Request {
	w.t.Helper()
	r, _, err := w.svc.Create(ctx, w.As("ent1"), casework.NewRequest{Category: "judgment_enforcement",
		Title: "判决执行难", Description: "买卖合同纠纷胜诉后对方拒不履行，请求执行协助。", ContactPhone: "13812345678"})
	if err != nil {
		w.t.Fatal(err)
	}
	if officer != "" {
		o := w.As(officer)
		if _, err := w.db.ExecContext(ctx, "UPDATE requests SET status = 'assigned', agency_id = ?, assignee_id = ?, version = version + 1 WHERE id = ?",
			o.AgencyID, o.UserID, r.ID); err != nil {
			w.t.Fatal(err)
		}
	}
	got, err := w.svc.Get(ctx, w.As("ent1"), r.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	return got
}

func (w *world) act(who string, r *casework.Request, in casework.ActInput) error {
	w.t.Helper()
	if in.Version == nil {
		v := r.Version
		in.Version = &v
	}
	got, err := w.svc.Act(ctx, w.As(who), r.ID, in)
	if err == nil {
		*r = got
	}
	return err
}

func kindOf(err error) string {
	if err == nil {
		return "ok"
	}
	if f, ok := fault.As(err); ok {
		return map[fault.Kind]string{fault.Invalid: "invalid", fault.NotFound: "404", fault.Forbidden: "403",
			fault.Conflict: "409", fault.PreconditionFailed: "412", fault.PreconditionRequired: "428"}[f.Kind]
	}
	return err.Error()
}

func TestHappyPath(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r := w.file("court1")
	if !strings.HasPrefix(r.TicketNo, "GC-2026-") || len(r.TicketNo) != len("GC-2026-000001") {
		t.Fatalf("ticket %q", r.TicketNo)
	}
	steps := []struct {
		who  string
		in   casework.ActInput
		want casework.Status
	}{
		{"court1", casework.ActInput{Action: casework.ActAccept}, casework.InProgress},
		{"court1", casework.ActInput{Action: casework.ActRequestInfo, Body: "请补充判决书和执行申请书"}, casework.WaitingEnterprise},
	}
	for _, s := range steps {
		if err := w.act(s.who, &r, s.in); err != nil || r.Status != s.want {
			t.Fatalf("%s %s: %v, status %s", s.who, s.in.Action, err, r.Status)
		}
	}
	r, err := w.svc.PostMessage(ctx, w.As("ent1"), r.ID, "已上传判决书", false)
	if err != nil || r.Status != casework.InProgress {
		t.Fatalf("enterprise answer: %v %s", err, r.Status)
	}
	if err := w.act("court1", &r, casework.ActInput{Action: casework.ActResolve, Body: "已立案执行，冻结被执行人账户"}); err != nil || r.Status != casework.Resolved {
		t.Fatalf("resolve: %v %s", err, r.Status)
	}
	if _, err := w.svc.GiveFeedback(ctx, w.As("ent1"), r.ID, 5, "很及时"); err != nil {
		t.Fatal(err)
	}
	if err := w.act("ent1", &r, casework.ActInput{Action: casework.ActConfirm}); err != nil || r.Status != casework.Closed {
		t.Fatalf("confirm: %v %s", err, r.Status)
	}
	events, err := w.svc.Timeline(ctx, w.As("ent1"), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range events {
		kinds = append(kinds, e.Kind)
	}
	want := "created,accept,request_info,message,status_changed,resolve,feedback,confirm"
	if strings.Join(kinds, ",") != want {
		t.Fatalf("timeline %v, want %s", kinds, want)
	}
}

// Every action from every state by every party: allowed exactly where the
// state machine says, refused with the right kind everywhere else.
func TestTransitionMatrix(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	// Put one request in each state.
	states := map[casework.Status]func() casework.Request{
		casework.Submitted: func() casework.Request { return w.file("") },
		casework.Assigned:  func() casework.Request { return w.file("court1") },
		casework.InProgress: func() casework.Request {
			r := w.file("court1")
			_ = w.act("court1", &r, casework.ActInput{Action: casework.ActAccept})
			return r
		},
		casework.WaitingEnterprise: func() casework.Request {
			r := w.file("court1")
			_ = w.act("court1", &r, casework.ActInput{Action: casework.ActAccept})
			_ = w.act("court1", &r, casework.ActInput{Action: casework.ActRequestInfo, Body: "材料"})
			return r
		},
		casework.Resolved: func() casework.Request {
			r := w.file("court1")
			_ = w.act("court1", &r, casework.ActInput{Action: casework.ActAccept})
			_ = w.act("court1", &r, casework.ActInput{Action: casework.ActResolve, Body: "答复"})
			return r
		},
		casework.Closed: func() casework.Request {
			r := w.file("court1")
			_ = w.act("court1", &r, casework.ActInput{Action: casework.ActAccept})
			_ = w.act("court1", &r, casework.ActInput{Action: casework.ActResolve, Body: "答复"})
			_ = w.act("ent1", &r, casework.ActInput{Action: casework.ActConfirm})
			return r
		},
		casework.Withdrawn: func() casework.Request {
			r := w.file("court1")
			_ = w.act("ent1", &r, casework.ActInput{Action: casework.ActWithdraw})
			return r
		},
	}
	police := w.As("police1").AgencyID
	inputs := map[casework.Action]casework.ActInput{
		casework.ActAccept:      {Action: casework.ActAccept},
		casework.ActReply:       {Action: casework.ActReply, Body: "答复"},
		casework.ActRequestInfo: {Action: casework.ActRequestInfo, Body: "材料"},
		casework.ActResolve:     {Action: casework.ActResolve, Body: "办结"},
		casework.ActTransfer:    {Action: casework.ActTransfer, Reason: "属公安管辖", TargetAgencyID: police},
		casework.ActDecline:     {Action: casework.ActDecline, Reason: "回避"},
		casework.ActWithdraw:    {Action: casework.ActWithdraw},
		casework.ActReopen:      {Action: casework.ActReopen, Reason: "未解决"},
		casework.ActConfirm:     {Action: casework.ActConfirm},
	}
	// who may take each action when it is allowed in the state; "court2" is
	// an officer of the same agency who is not the assignee.
	parties := map[casework.Action][]string{
		casework.ActAccept: {"court1"}, casework.ActReply: {"court1", "lead.court"}, casework.ActRequestInfo: {"court1", "lead.court"},
		casework.ActResolve: {"court1", "lead.court"}, casework.ActTransfer: {"court1", "lead.court"}, casework.ActDecline: {"court1"},
		casework.ActWithdraw: {"ent1"}, casework.ActReopen: {"ent1"}, casework.ActConfirm: {"ent1"},
	}
	allowedIn := map[casework.Action][]casework.Status{
		casework.ActAccept:      {casework.Assigned},
		casework.ActReply:       {casework.Assigned, casework.InProgress, casework.WaitingEnterprise},
		casework.ActRequestInfo: {casework.InProgress},
		casework.ActResolve:     {casework.InProgress, casework.WaitingEnterprise},
		casework.ActTransfer:    {casework.Submitted, casework.Assigned, casework.InProgress, casework.WaitingEnterprise},
		casework.ActDecline:     {casework.Assigned},
		casework.ActWithdraw:    {casework.Submitted, casework.Assigned, casework.InProgress, casework.WaitingEnterprise},
		casework.ActReopen:      {casework.Resolved},
		casework.ActConfirm:     {casework.Resolved},
	}
	for state, make := range states {
		for act, in := range inputs {
			for _, who := range []string{"ent1", "ent2", "court1", "court2", "lead.court", "police1", "oversight1", "admin", "inspector.market1"} {
				r := make()
				if r.Status != state {
					t.Fatalf("fixture for %s ended in %s", state, r.Status)
				}
				err := w.act(who, &r, in)
				got := kindOf(err)
				want := expected(who, state, act, parties[act], allowedIn[act])
				if got != want {
					t.Errorf("%s by %s on %s: got %s (%v), want %s", act, who, state, got, err, want)
				}
			}
		}
	}
}

// expected says how an attempt must end: 404 for those who may not see the
// request, 403 for those who see it but are not the party, 409 for the party
// in the wrong state.
func expected(who string, state casework.Status, act casework.Action, parties []string, allowedIn []casework.Status) string {
	assigned := state != casework.Submitted // fixtures other than submitted sit with court1
	sees := who == "ent1" || who == "oversight1" ||
		(assigned && (who == "court1" || who == "court2" || who == "lead.court"))
	if !sees {
		return "404"
	}
	isParty := false
	for _, p := range parties {
		isParty = isParty || p == who
	}
	if !isParty {
		return "403"
	}
	for _, s := range allowedIn {
		if s == state {
			return "ok"
		}
	}
	return "409"
}

func TestStaleVersionLoses(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r := w.file("court1")
	_ = w.act("court1", &r, casework.ActInput{Action: casework.ActAccept})
	v := r.Version
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, who := range []string{"court1", "lead.court"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = w.svc.Act(ctx, w.As(who), r.ID, casework.ActInput{Action: casework.ActReply, Body: fmt.Sprintf("答复%d", i), Version: &v})
		}()
	}
	wg.Wait()
	got := []string{kindOf(errs[0]), kindOf(errs[1])}
	if !(got[0] == "ok" && got[1] == "412" || got[0] == "412" && got[1] == "ok") {
		t.Fatalf("two writers on one version: %v", got)
	}
	if _, err := w.svc.Act(ctx, w.As("court1"), r.ID, casework.ActInput{Action: casework.ActReply, Body: "x"}); kindOf(err) != "428" {
		t.Fatalf("no version: %v", err)
	}
}

func TestIdempotentCreate(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	in := casework.NewRequest{Category: "legal_aid", Title: "劳动合同咨询", Description: "员工离职补偿", IdempotencyKey: "key-0001-abcdef"}
	const n = 8
	ids := make([]int64, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, _, err := w.svc.Create(ctx, w.As("ent1"), in)
			ids[i], errs[i] = r.ID, err
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || ids[i] != ids[0] {
			t.Fatalf("concurrent duplicates: ids %v errs %v", ids, errs)
		}
	}
	var count int
	_ = w.db.NewRaw("SELECT count(*) FROM requests").Scan(ctx, &count)
	if count != 1 {
		t.Fatalf("%d requests for one key", count)
	}
	in.Title = "另一件事"
	if _, _, err := w.svc.Create(ctx, w.As("ent1"), in); kindOf(err) != "invalid" {
		t.Fatalf("same key, different body: %v", err)
	}
	// Keys are per user: ent2 may use the same key for its own request.
	in.Title = "劳动合同咨询"
	r2, _, err := w.svc.Create(ctx, w.As("ent2"), in)
	if err != nil || r2.ID == ids[0] {
		t.Fatalf("another user's key: %v", err)
	}
}

// A filing's answer is built from what it wrote, not read back: it must be
// what a later read shows, to the microsecond.
func TestFiledRequestIsWhatAReadShows(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.Clock.Advance(987654321 * time.Nanosecond) // finer than PostgreSQL keeps
	filed, _, err := w.svc.Create(ctx, w.As("ent1"), casework.NewRequest{Category: "legal_aid", Title: "  劳动合同咨询 ",
		Description: "员工离职补偿", ContactName: "王经理", ContactPhone: "138 1234 5678"})
	if err != nil {
		t.Fatal(err)
	}
	read, err := w.svc.Get(ctx, w.As("ent1"), filed.ID)
	if err != nil {
		t.Fatal(err)
	}
	viewOf := func(r casework.Request) string {
		// Instants compare as instants; the zone a time carries is the reader's.
		r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
		e := *r.Enterprise
		e.CreatedAt, e.UpdatedAt = e.CreatedAt.UTC(), e.UpdatedAt.UTC()
		r.Enterprise = nil
		b, err := json.Marshal(struct {
			Request    casework.Request
			Enterprise identity.Enterprise
		}{r, e})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if got, want := viewOf(filed), viewOf(read); got != want {
		t.Fatalf("filed:\n%s\nread:\n%s", got, want)
	}
	if filed.Priority != casework.Normal || filed.TicketNo == "" || filed.Title != "劳动合同咨询" || filed.ContactPhone != "13812345678" {
		t.Fatalf("filed %+v", filed)
	}
}

func TestInternalNotesStayInside(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r := w.file("court1")
	if _, err := w.svc.PostMessage(ctx, w.As("court2"), r.ID, "内部：该企业另有三起执行案", true); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.PostMessage(ctx, w.As("ent1"), r.ID, "内部备注", true); kindOf(err) != "403" {
		t.Fatalf("enterprise internal note: %v", err)
	}
	for who, want := range map[string]bool{"ent1": false, "court1": true, "lead.court": true, "oversight1": true} {
		events, err := w.svc.Timeline(ctx, w.As(who), r.ID)
		if err != nil {
			t.Fatal(err)
		}
		seen := false
		for _, e := range events {
			seen = seen || strings.Contains(fmt.Sprint(e.Data), "另有三起")
		}
		if seen != want {
			t.Errorf("%s sees the internal note: %v, want %v", who, seen, want)
		}
	}
}

func TestReopenWindowAndAutoClose(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	resolved := func() casework.Request {
		r := w.file("court1")
		_ = w.act("court1", &r, casework.ActInput{Action: casework.ActAccept})
		if err := w.act("court1", &r, casework.ActInput{Action: casework.ActResolve, Body: "答复"}); err != nil {
			t.Fatal(err)
		}
		return r
	}
	a, b := resolved(), resolved()
	w.Clock.Advance(6 * 24 * time.Hour)
	if err := w.act("ent1", &a, casework.ActInput{Action: casework.ActReopen, Reason: "仍未执行到位"}); err != nil || a.Status != casework.InProgress || a.ReopenCount != 1 {
		t.Fatalf("reopen on day 6: %v %s", err, a.Status)
	}
	w.Clock.Advance(24*time.Hour + time.Minute)
	if err := w.act("ent1", &b, casework.ActInput{Action: casework.ActReopen, Reason: "晚了"}); kindOf(err) != "409" {
		t.Fatalf("reopen after 7 days: %v", err)
	}
	n, err := w.svc.AutoClose(ctx)
	if err != nil || n != 1 {
		t.Fatalf("auto-close: %d %v", n, err)
	}
	if n, _ := w.svc.AutoClose(ctx); n != 0 {
		t.Fatalf("second auto-close closed %d more", n)
	}
	got, _ := w.svc.Get(ctx, w.As("ent1"), b.ID)
	if got.Status != casework.Closed {
		t.Fatalf("b is %s", got.Status)
	}
}

func TestSearchFindsChineseWords(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.file("court1") // "买卖合同纠纷胜诉后对方拒不履行"
	other, _, _ := w.svc.Create(ctx, w.As("ent1"), casework.NewRequest{Category: "legal_aid", Title: "商标侵权", Description: "ABC品牌被仿冒"})
	for q, want := range map[string]int{"合同": 1, "合同纠纷": 1, "拒不履行": 1, "同纠": 1, "仿冒": 1, "abc": 1, "商标": 1, "合同 仿冒": 0, "劳动": 0} {
		got, _, err := w.svc.List(ctx, w.As("ent1"), casework.Filter{Q: q})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != want {
			t.Errorf("q=%q: %d results, want %d", q, len(got), want)
		}
	}
	_ = other
}

func TestPagesStayStableWhileRequestsArrive(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	for range 5 {
		w.file("")
	}
	page1, more, err := w.svc.List(ctx, w.As("ent1"), casework.Filter{Limit: 2})
	if err != nil || !more || len(page1) != 2 {
		t.Fatalf("page 1: %d %v %v", len(page1), more, err)
	}
	for range 3 {
		w.file("") // new requests arrive between pages
	}
	seen := map[int64]bool{page1[0].ID: true, page1[1].ID: true}
	before := page1[1].ID
	total := 2
	for {
		page, more, err := w.svc.List(ctx, w.As("ent1"), casework.Filter{Limit: 2, BeforeID: before})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page {
			if seen[r.ID] {
				t.Fatalf("request %d shown twice", r.ID)
			}
			seen[r.ID] = true
			total++
			before = r.ID
		}
		if !more {
			break
		}
	}
	if total != 5 {
		t.Fatalf("walked %d of the 5 requests that existed at the start", total)
	}
}

func TestAttachmentLimits(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r := w.file("court1")
	pdf := "%PDF-1.4\n%%EOF\n"
	for i := range 10 {
		if _, err := w.svc.Attach(ctx, w.As("ent1"), r.ID, fmt.Sprintf("证据%d.pdf", i), strings.NewReader(pdf+strings.Repeat(" ", i))); err != nil {
			t.Fatalf("file %d: %v", i, err)
		}
	}
	if _, err := w.svc.Attach(ctx, w.As("ent1"), r.ID, "11.pdf", strings.NewReader(pdf)); kindOf(err) != "invalid" {
		t.Fatalf("11th file: %v", err)
	}
	r2 := w.file("court1")
	for name, body := range map[string]io.Reader{
		"invoice.pdf": strings.NewReader("MZ\x90\x00 this is an executable"),
		"page.pdf":    strings.NewReader("<html><script>alert(1)</script></html>"),
		"big.pdf":     io.MultiReader(strings.NewReader(pdf), strings.NewReader(strings.Repeat("x", 20<<20))),
	} {
		if _, err := w.svc.Attach(ctx, w.As("ent1"), r2.ID, name, body); kindOf(err) != "invalid" {
			t.Errorf("%s: %v", name, err)
		}
	}
	att, err := w.svc.Attach(ctx, w.As("court1"), r2.ID, "../../回执.pdf", strings.NewReader(pdf))
	if err != nil || att.Filename != "回执.pdf" || att.ContentType != "application/pdf" || len(att.SHA256) != 64 {
		t.Fatalf("officer upload: %+v %v", att, err)
	}
	_, f, err := w.svc.OpenAttachment(ctx, w.As("ent2"), r2.ID, att.ID)
	if !errors.Is(err, err) || kindOf(err) != "404" || f != nil {
		t.Fatalf("another enterprise downloads: %v", err)
	}
}

// A search walks the ids in windows; pages must come out whole and in
// order whichever windows the matches fall in.
// A search shows who holds each request, as the plain list does, from the
// first window (row by row) and from the later ones (the term index).
func TestSearchResultsShowWhoHoldsEachRequest(t *testing.T) {
	t.Parallel()
	k := testkit.New(t, t0)
	files, _ := storage.NewLocal(t.TempDir())
	limits := casework.DefaultLimits
	limits.SearchWindow = 5 // the first window covers one id, the next five
	svc := casework.NewService(k.DB, k.Clock, quiet, files, limits)
	court1 := k.As("court1")
	for range 4 {
		r, _, err := svc.Create(ctx, k.As("ent1"), casework.NewRequest{Category: "litigation_service", Title: "合同纠纷咨询", Description: "请协助"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := k.DB.ExecContext(ctx, "UPDATE requests SET status = 'assigned', agency_id = ?, assignee_id = ? WHERE id = ?",
			court1.AgencyID, court1.UserID, r.ID); err != nil {
			t.Fatal(err)
		}
	}
	for _, who := range []string{"ent1", "court1"} {
		got, _, err := svc.List(ctx, k.As(who), casework.Filter{Q: "合同"})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 4 {
			t.Fatalf("%s: %d results, want 4", who, len(got))
		}
		for _, r := range got {
			if r.Agency == nil || r.Agency.ID != court1.AgencyID || r.Assignee == nil || r.Assignee.Username != "court1" {
				t.Fatalf("%s: request %d shows agency %v, assignee %v", who, r.ID, r.Agency, r.Assignee)
			}
		}
	}
}

func TestSearchAcrossWindows(t *testing.T) {
	t.Parallel()
	k := testkit.New(t, t0)
	files, _ := storage.NewLocal(t.TempDir())
	limits := casework.DefaultLimits
	limits.SearchWindow = 3
	svc := casework.NewService(k.DB, k.Clock, quiet, files, limits)
	var want []int64
	for i := range 10 {
		title := "普通咨询"
		if i%3 == 0 {
			title = "合同纠纷咨询"
		}
		r, _, err := svc.Create(ctx, k.As("ent1"), casework.NewRequest{Category: "legal_aid", Title: title, Description: "请协助"})
		if err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			want = append([]int64{r.ID}, want...)
		}
	}
	var got []int64
	before := int64(0)
	for {
		page, more, err := svc.List(ctx, k.As("ent1"), casework.Filter{Q: "合同", Limit: 1, BeforeID: before})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page {
			got = append(got, r.ID)
			before = r.ID
		}
		if !more {
			break
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("search pages %v, want %v", got, want)
	}
}

// The first step of a search checks the terms row by row (Han terms as
// substrings of the title or description), later steps through the term
// index; both must find exactly the same requests.
func TestSearchStepsAgree(t *testing.T) {
	t.Parallel()
	k := testkit.New(t, t0)
	files, _ := storage.NewLocal(t.TempDir())
	rowByRow := casework.NewService(k.DB, k.Clock, quiet, files, casework.DefaultLimits) // all in the first step
	limits := casework.DefaultLimits
	limits.SearchWindow = 1 // one id, then the index
	indexed := casework.NewService(k.DB, k.Clock, quiet, files, limits)
	ids := map[int64]string{}
	for name, text := range map[string][2]string{
		"title":      {"劳动仲裁咨询", "请协助"},
		"descr":      {"咨询", "我司申请劳动仲裁已三个月"},
		"split":      {"咨询劳动关系", "仲裁结果未出"}, // 劳动 in the title, 仲裁 in the description
		"boundary":   {"关于劳", "动仲裁的问题"},    // 劳动 only across title and description
		"spaced":     {"劳 动 仲裁", "请协助"},
		"fullwidth":  {"ＡＢＣ公司合同纠纷", "请协助"},
		"single":     {"合", "同"},
		"other_ent2": {"劳动仲裁", "ent2 的请求"},
	} {
		user := "ent1"
		if name == "other_ent2" {
			user = "ent2"
		}
		r, _, err := rowByRow.Create(ctx, k.As(user), casework.NewRequest{Category: "legal_aid", Title: text[0], Description: text[1]})
		if err != nil {
			t.Fatal(err)
		}
		ids[r.ID] = name
	}
	for q, want := range map[string]string{
		"劳动仲裁":    "descr split title",
		"劳动":      "descr split title",
		"仲裁":      "boundary descr spaced split title",
		"abc 合同":  "fullwidth",
		"ＡＢＣ":     "fullwidth",
		"合":       "fullwidth single",
		"合同纠纷 公司": "fullwidth",
	} {
		for step, svc := range map[string]*casework.Service{"row by row": rowByRow, "indexed": indexed} {
			page, _, err := svc.List(ctx, k.As("ent1"), casework.Filter{Q: q, Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range page {
				got = append(got, ids[r.ID])
			}
			slices.Sort(got)
			if strings.Join(got, " ") != want {
				t.Errorf("%s, %q: %v, want %s", step, q, got, want)
			}
		}
	}
}
