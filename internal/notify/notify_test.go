package notify_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"greenchannel/internal/identity"
	"greenchannel/internal/notify"
	"greenchannel/internal/platform/clock"
	"greenchannel/internal/platform/jobs"
	"greenchannel/internal/platform/pg/pgtest"
	"greenchannel/seeds"
)

var ctx = context.Background()

func cst(s string) time.Time {
	t, _ := time.ParseInLocation("2006-01-02 15:04", s, clock.Shanghai)
	return t
}

func TestQuietHoursAndDailyDigest(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	if _, err := seeds.Load(ctx, db, true); err != nil {
		t.Fatal(err)
	}
	var ent int64
	_ = db.NewRaw("SELECT id FROM users WHERE username = 'ent1'").Scan(ctx, &ent)
	q := notify.DefaultQuiet(clock.Shanghai)
	me := identity.Actor{UserID: ent, Role: identity.RoleEnterprise}

	// 23:00: held until 08:00 — unless it is an emergency.
	if err := notify.ToEnterprise(ctx, db, q, cst("2026-03-02 23:00"), []int64{ent}, notify.Notice{Kind: "request.resolve", Title: "夜间"}, false); err != nil {
		t.Fatal(err)
	}
	if err := notify.ToEnterprise(ctx, db, q, cst("2026-03-02 23:05"), []int64{ent}, notify.Notice{Kind: "request.accept", Title: "紧急"}, true); err != nil {
		t.Fatal(err)
	}
	at := func(s string) []notify.Notification {
		ns, err := notify.List(ctx, db, me, cst(s), false, 50)
		if err != nil {
			t.Fatal(err)
		}
		return ns
	}
	if ns := at("2026-03-02 23:30"); len(ns) != 1 || ns[0].Title != "紧急" {
		t.Fatalf("at night the enterprise sees %d notices: %+v", len(ns), ns)
	}
	if ns := at("2026-03-03 08:00"); len(ns) != 2 {
		t.Fatalf("at 08:00: %d notices", len(ns))
	}
	// 3/3 already holds the deferred one; four more reach the limit of five, the rest fold into one digest.
	for i := range 8 {
		if err := notify.ToEnterprise(ctx, db, q, cst("2026-03-03 10:00").Add(time.Duration(i)*time.Minute), []int64{ent},
			notify.Notice{Kind: "request.accept", Title: "进展" + strconv.Itoa(i)}, false); err != nil {
			t.Fatal(err)
		}
	}
	var regular, digests int
	var body string
	_ = db.NewRaw("SELECT count(*) FILTER (WHERE kind <> 'digest'), count(*) FILTER (WHERE kind = 'digest'), coalesce(max(body) FILTER (WHERE kind = 'digest'), '') FROM notifications WHERE user_id = ? AND deliver_at >= ?",
		ent, cst("2026-03-03 00:00")).Scan(ctx, &regular, &digests, &body)
	if regular != 5 || digests != 1 || strings.Count(body, "进展") != 4 {
		t.Fatalf("day 3/3: %d notices, %d digests, digest %q", regular, digests, body)
	}
}

func TestWebhooksAreSignedRetriedAndLogged(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	if _, err := seeds.Load(ctx, db, true); err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	var gotSig, gotTS, gotBody string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable) // the first attempt fails
			return
		}
		b, _ := io.ReadAll(r.Body)
		gotSig, gotTS, gotBody = r.Header.Get("X-GC-Signature"), r.Header.Get("X-GC-Timestamp"), string(b)
	}))
	defer srv.Close()
	var admin identity.Actor
	_ = db.NewRaw("SELECT id AS user_id FROM users WHERE username = 'admin'").Scan(ctx, &admin.UserID)
	admin.Role = identity.RoleAdmin
	var police int64
	_ = db.NewRaw("SELECT id FROM agencies WHERE code = 'police'").Scan(ctx, &police)
	hook, err := notify.AddHook(ctx, db, admin, police, srv.URL, "a-very-secret-key")
	if err != nil {
		t.Fatal(err)
	}
	now := cst("2026-03-02 10:00")
	if err := notify.Webhook(ctx, db, now, police, "sla.breach", map[string]any{"ticket_no": "GC-2026-000001"}); err != nil {
		t.Fatal(err)
	}
	var payload notify.WebhookPayload
	if err := db.NewRaw("SELECT (payload->>'delivery_id')::bigint FROM outbox WHERE task_type = ?", notify.TaskWebhook).Scan(ctx, &payload.DeliveryID); err != nil {
		t.Fatalf("no delivery task in the outbox: %v", err)
	}
	d := notify.Deliverer{DB: db, Client: srv.Client(), Now: func() time.Time { return now }}
	if err := d.Deliver(ctx, payload); err == nil {
		t.Fatal("a 503 must fail the task so asynq retries it")
	}
	if err := d.Deliver(ctx, payload); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if err := d.Deliver(ctx, payload); err != nil || calls.Load() != 2 {
		t.Fatalf("a delivered webhook is not sent again: %v, %d calls", err, calls.Load())
	}
	if want := notify.Sign("a-very-secret-key", now.Unix(), []byte(gotBody)); gotSig != want || gotTS != strconv.FormatInt(now.Unix(), 10) {
		t.Fatalf("signature %q, want %q", gotSig, want)
	}
	ds, _ := notify.Deliveries(ctx, db, admin, hook.ID)
	if len(ds) != 1 || ds[0].Attempts != 2 || ds[0].DeliveredAt == nil {
		t.Fatalf("delivery log: %+v", ds)
	}
	_ = jobs.QueueDefault
}
