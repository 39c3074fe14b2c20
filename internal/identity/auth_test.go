package identity_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"greenchannel/internal/identity"
	"greenchannel/internal/platform/clock"
	"greenchannel/internal/platform/fault"
	"greenchannel/internal/platform/pg"
	"greenchannel/internal/platform/pg/pgtest"
)

var (
	quiet   = slog.New(slog.NewTextHandler(io.Discard, nil))
	keyA    = identity.SigningKey{ID: "a", Secret: []byte("0123456789abcdef0123456789abcdef")}
	keyB    = identity.SigningKey{ID: "b", Secret: []byte("fedcba9876543210fedcba9876543210")}
	t0      = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	ctx     = context.Background()
	entZero = 0
)

type fixture struct {
	db    *bun.DB
	url   string
	clock *clock.Fake
	svc   *identity.Service
}

func setup(t *testing.T) fixture {
	t.Helper()
	db, url := pgtest.NewWithURL(t)
	err := pg.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		if err := identity.SeedReference(ctx, tx, []identity.TownSeed{{Code: "wujin", Name: "五津街道"}},
			[]identity.AgencySeed{{Code: "court", Name: "法院", Kind: identity.KindCourt}}); err != nil {
			return err
		}
		return identity.SeedDemo(ctx, tx,
			[]identity.EnterpriseSeed{{USCC: "91512081MA62K0260E", Name: "测试企业", Town: "wujin"}},
			[]identity.UserSeed{
				{Username: "admin", DisplayName: "管理员", Role: identity.RoleAdmin},
				{Username: "court1", DisplayName: "李法官", Role: identity.RoleOfficer, Agency: "court"},
				{Username: "ent1", DisplayName: "企业", Role: identity.RoleEnterprise, Enterprise: &entZero},
			}, "demo12345")
	})
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(t0)
	return fixture{db: db, url: url, clock: clk, svc: identity.NewService(db, clk, quiet, []identity.SigningKey{keyA}, identity.DefaultLimits)}
}

func wantKind(t *testing.T, err error, kind fault.Kind) {
	t.Helper()
	if !fault.Is(err, kind) {
		t.Fatalf("want fault kind %d, got %v", kind, err)
	}
}

func TestLoginGivesAWorkingShortLivedToken(t *testing.T) {
	t.Parallel()
	f := setup(t)
	tok, u, err := f.svc.Login(ctx, "Court1", "demo12345", "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if tok.ExpiresIn > 15*time.Minute || u.Username != "court1" {
		t.Fatalf("expires_in %v, user %s", tok.ExpiresIn, u.Username)
	}
	a, err := f.svc.Authenticate(ctx, tok.AccessToken)
	if err != nil || a.Role != identity.RoleOfficer || a.AgencyKind != identity.KindCourt {
		t.Fatalf("actor %+v err %v", a, err)
	}
	f.clock.Advance(15*time.Minute + time.Second)
	_, err = f.svc.Authenticate(ctx, tok.AccessToken)
	wantKind(t, err, fault.Unauthenticated)
}

func TestRefreshRotatesAndReuseRevokesTheFamily(t *testing.T) {
	t.Parallel()
	f := setup(t)
	first, _, err := f.svc.Login(ctx, "ent1", "demo12345", "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	second, err := f.svc.Refresh(ctx, first.RefreshToken)
	if err != nil || second.RefreshToken == first.RefreshToken {
		t.Fatalf("rotation: %v", err)
	}
	// A thief replays the spent token: refused, and the owner's new token dies too.
	_, err = f.svc.Refresh(ctx, first.RefreshToken)
	wantKind(t, err, fault.Unauthenticated)
	_, err = f.svc.Refresh(ctx, second.RefreshToken)
	wantKind(t, err, fault.Unauthenticated)

	var n int
	if err := f.db.NewRaw("SELECT count(*) FROM audit_log WHERE action = 'auth.refresh_reuse'").Scan(ctx, &n); err != nil || n != 1 {
		t.Fatalf("reuse audited %d times (%v)", n, err)
	}
}

func TestRefreshTokenExpires(t *testing.T) {
	t.Parallel()
	f := setup(t)
	tok, _, err := f.svc.Login(ctx, "ent1", "demo12345", "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(identity.DefaultLimits.RefreshTTL + time.Second)
	_, err = f.svc.Refresh(ctx, tok.RefreshToken)
	wantKind(t, err, fault.Unauthenticated)
}

func TestLogoutEndsTheSignIn(t *testing.T) {
	t.Parallel()
	f := setup(t)
	tok, _, _ := f.svc.Login(ctx, "ent1", "demo12345", "10.0.0.1")
	if err := f.svc.Logout(ctx, tok.RefreshToken); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Logout(ctx, tok.RefreshToken); err != nil {
		t.Fatalf("second logout must be harmless: %v", err)
	}
	_, err := f.svc.Refresh(ctx, tok.RefreshToken)
	wantKind(t, err, fault.Unauthenticated)
}

// runActorCache runs the actor cache until the test ends, as serve does.
func runActorCache(t *testing.T, f fixture) {
	t.Helper()
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = f.svc.RunActorCache(runCtx, f.url) }()
	t.Cleanup(func() { cancel(); <-done })
	pgtest.Eventually(t, "the actor cache listens", f.svc.ActorCacheListening)
}

// The actor of a request may come from the cache (as when serving), and a
// disabled user is still refused at the very next request.
func TestDisabledUserIsShutOutAtOnce(t *testing.T) {
	t.Parallel()
	f := setup(t)
	runActorCache(t, f)
	tok, u, _ := f.svc.Login(ctx, "court1", "demo12345", "10.0.0.1")
	sess, _, err := f.svc.LoginSession(ctx, "court1", "demo12345", "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Authenticate(ctx, tok.AccessToken); err != nil || !f.svc.ActorCached(u.ID) {
		t.Fatalf("before: %v, cached %v", err, f.svc.ActorCached(u.ID))
	}
	admin, err := f.svc.Authenticate(ctx, mustLogin(t, f, "admin"))
	if err != nil {
		t.Fatal(err)
	}
	yes := true
	if _, err := f.svc.SaveUser(ctx, admin, u.ID, identity.UserInput{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Authenticate(ctx, tok.AccessToken) // still within its 15 minutes
	wantKind(t, err, fault.Unauthenticated)
	_, err = f.svc.Refresh(ctx, tok.RefreshToken)
	wantKind(t, err, fault.Unauthenticated)
	_, _, err = f.svc.SessionActor(ctx, sess.Token)
	wantKind(t, err, fault.Unauthenticated)
	_, _, err = f.svc.Login(ctx, "court1", "demo12345", "10.0.0.1")
	wantKind(t, err, fault.Unauthenticated)
}

// A cached actor follows every change made anywhere (plain SQL stands for
// another process): the user's role, its agency's kind, disabling; and
// nothing is kept while the cache cannot hear of changes.
func TestActorCacheFollowsEveryChange(t *testing.T) {
	t.Parallel()
	f := setup(t)
	runActorCache(t, f)
	tok := mustLogin(t, f, "court1")
	actor := func() (identity.Actor, error) { return f.svc.Authenticate(ctx, tok) }
	a, err := actor()
	if err != nil || !f.svc.ActorCached(a.UserID) {
		t.Fatalf("first request: %v, cached %v", err, f.svc.ActorCached(a.UserID))
	}
	exec := func(q string) {
		t.Helper()
		if _, err := f.db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	exec("UPDATE users SET role = 'agency_lead' WHERE username = 'court1'")
	pgtest.Eventually(t, "the new role shows", func() bool { a, err := actor(); return err == nil && a.Role == identity.RoleLead })
	exec("UPDATE agencies SET kind = 'procuratorate' WHERE code = 'court'")
	pgtest.Eventually(t, "the agency's new kind shows", func() bool {
		a, err := actor()
		return err == nil && a.AgencyKind == identity.KindProcuratorate
	})
	exec("UPDATE users SET disabled_at = now() WHERE username = 'court1'")
	pgtest.Eventually(t, "the disabled user is refused", func() bool { _, err := actor(); return fault.Is(err, fault.Unauthenticated) })
	if f.svc.ActorCached(a.UserID) {
		t.Fatal("a disabled user's actor is kept")
	}
}

func mustLogin(t *testing.T, f fixture, user string) string {
	t.Helper()
	tok, _, err := f.svc.Login(ctx, user, "demo12345", "10.9.9.9")
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

func TestFiveFailuresLockTheAccount(t *testing.T) {
	t.Parallel()
	f := setup(t)
	for i := 1; i <= 5; i++ {
		_, _, err := f.svc.Login(ctx, "ent1", "wrong", "10.0.0.2")
		wantKind(t, err, fault.Unauthenticated)
	}
	// The sixth try is refused before the password is even looked at.
	_, _, err := f.svc.Login(ctx, "ent1", "demo12345", "10.0.0.3")
	fe, _ := fault.As(err)
	if fe == nil || fe.Kind != fault.RateLimited || fe.RetryAfter <= 14*time.Minute || fe.RetryAfter > 15*time.Minute {
		t.Fatalf("sixth attempt: %v", err)
	}
	var failures, lockouts int
	_ = f.db.NewRaw("SELECT count(*) FILTER (WHERE action = 'auth.login_failed'), count(*) FILTER (WHERE action = 'auth.lockout') FROM audit_log").Scan(ctx, &failures, &lockouts)
	if failures != 5 || lockouts != 1 {
		t.Fatalf("audit: %d failures, %d lockouts", failures, lockouts)
	}
	f.clock.Advance(15 * time.Minute)
	if _, _, err := f.svc.Login(ctx, "ent1", "demo12345", "10.0.0.3"); err != nil {
		t.Fatalf("after the back-off: %v", err)
	}
}

func TestUnknownUsersAreThrottledToo(t *testing.T) {
	t.Parallel()
	f := setup(t)
	for range 5 {
		_, _, err := f.svc.Login(ctx, "nobody", "x", "10.0.0.4")
		wantKind(t, err, fault.Unauthenticated)
	}
	_, _, err := f.svc.Login(ctx, "nobody", "x", "10.0.0.4")
	wantKind(t, err, fault.RateLimited)
}

func TestKeyRotationKeepsOldTokensValid(t *testing.T) {
	t.Parallel()
	f := setup(t)
	oldTok := mustLogin(t, f, "ent1") // signed with key a
	rotated := identity.NewService(f.db, f.clock, quiet, []identity.SigningKey{keyB, keyA}, identity.DefaultLimits)
	if _, err := rotated.Authenticate(ctx, oldTok); err != nil {
		t.Fatalf("a token from the previous key must still verify: %v", err)
	}
	retired := identity.NewService(f.db, f.clock, quiet, []identity.SigningKey{keyB}, identity.DefaultLimits)
	_, err := retired.Authenticate(ctx, oldTok)
	wantKind(t, err, fault.Unauthenticated)
	tampered := oldTok[:len(oldTok)-2] + "xx"
	_, err = f.svc.Authenticate(ctx, tampered)
	wantKind(t, err, fault.Unauthenticated)
}

func TestAdminChangesAreAudited(t *testing.T) {
	t.Parallel()
	f := setup(t)
	admin, _ := f.svc.Authenticate(ctx, mustLogin(t, f, "admin"))
	name := "成都测试有限公司"
	code := "91350100M000100Y43"
	e, err := f.svc.SaveEnterprise(ctx, admin, 0, identity.EnterpriseInput{USCC: &code, Name: &name})
	if err != nil {
		t.Fatal(err)
	}
	bad := "91350100M000100Y44"
	_, err = f.svc.SaveEnterprise(ctx, admin, 0, identity.EnterpriseInput{USCC: &bad, Name: &name})
	wantKind(t, err, fault.Invalid)
	reason := "早期试点代码，经市场监管局核实"
	if _, err := f.svc.SaveEnterprise(ctx, admin, 0, identity.EnterpriseInput{USCC: &bad, Name: &name, CheckOverride: &reason}); err != nil {
		t.Fatalf("override: %v", err)
	}
	_, err = f.svc.SaveEnterprise(ctx, admin, 0, identity.EnterpriseInput{USCC: &code, Name: &name})
	wantKind(t, err, fault.Invalid) // duplicate code, reported on the field
	if _, err := f.svc.SetNoDisturb(ctx, admin, e.ID, identity.NoDisturbInput{On: true}); !fault.Is(err, fault.Invalid) {
		t.Fatalf("no-disturb without basis: %v", err)
	}
	var n int
	_ = f.db.NewRaw("SELECT count(*) FROM audit_log WHERE action = 'enterprise.save' AND actor = ?", admin.String()).Scan(ctx, &n)
	if n != 2 {
		t.Fatalf("want 2 audited creations, got %d", n)
	}
}
