package identity

import (
	"context"
	"database/sql"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"greenchannel/internal/platform/audit"
	"greenchannel/internal/platform/fault"
	"greenchannel/internal/platform/pg"
)

// Page asks for one page of a list ordered by id.
type Page struct {
	AfterID int64
	Limit   int
}

func (p Page) limit() int {
	if p.Limit <= 0 || p.Limit > 100 {
		return 50
	}
	return p.Limit
}

// trim cuts the look-ahead row and says whether there are more.
func trim[T any](rows []T, p Page) ([]T, bool) {
	if len(rows) > p.limit() {
		return rows[:p.limit()], true
	}
	return rows, false
}

var errNotFound = fault.New(fault.NotFound, "not found")

func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return errNotFound
	}
	return err
}

func mayManage(a Actor) error { return Authorize(a, Manage, Resource{Kind: ResReference}) }

// change runs fn in a transaction and audits it with the before and after
// images fn returns.
func (s *Service) change(ctx context.Context, a Actor, action, targetType string, fn func(tx bun.Tx) (id int64, before, after any, err error)) error {
	return pg.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		id, before, after, err := fn(tx)
		if err != nil {
			return mapConstraint(err)
		}
		return audit.Append(ctx, tx, s.clock.Now(), audit.Entry{Actor: a.String(), Action: action, TargetType: targetType,
			TargetID: strconv.FormatInt(id, 10), Detail: map[string]any{"before": before, "after": after}})
	})
}

// mapConstraint turns constraint violations into messages about fields.
func mapConstraint(err error) error {
	err = pg.MapError(err)
	c := pg.Constraint(err)
	switch {
	case errors.Is(err, pg.ErrUnique) && strings.Contains(c, "username"):
		return fault.InvalidField("username", "用户名已存在 / this username is taken")
	case errors.Is(err, pg.ErrUnique) && strings.Contains(c, "uscc"):
		return fault.InvalidField("uscc", "该统一社会信用代码已登记 / an enterprise with this credit code exists")
	case errors.Is(err, pg.ErrUnique) && strings.Contains(c, "code"):
		return fault.InvalidField("code", "代码已存在 / this code is taken")
	case errors.Is(err, pg.ErrCheck) && c == "users_role_binding":
		return fault.InvalidField("role", "enterprise users need enterprise_id; officer, agency_lead and inspector need agency_id; admin needs neither")
	case errors.Is(err, pg.ErrCheck) && strings.Contains(c, "kind"):
		return fault.InvalidField("kind", "unknown agency kind")
	case errors.Is(err, pg.ErrForeignKey) && strings.Contains(c, "town"):
		return fault.InvalidField("town", "unknown town code")
	case errors.Is(err, pg.ErrForeignKey) && strings.Contains(c, "agency"):
		return fault.InvalidField("agency_id", "no such agency")
	case errors.Is(err, pg.ErrForeignKey) && strings.Contains(c, "enterprise"):
		return fault.InvalidField("enterprise_id", "no such enterprise")
	}
	return err
}

// ---- towns ----

// Towns lists the district's towns.
func (s *Service) Towns(ctx context.Context) ([]Town, error) {
	var ts []Town
	err := s.db.NewSelect().Model(&ts).OrderExpr("code").Scan(ctx)
	return ts, err
}

// ---- agencies ----

// AgencyFilter narrows ListAgencies.
type AgencyFilter struct {
	Kind AgencyKind
	Page
}

// ListAgencies lists agencies for the administrator.
func (s *Service) ListAgencies(ctx context.Context, a Actor, f AgencyFilter) ([]Agency, bool, error) {
	if err := mayManage(a); err != nil {
		return nil, false, err
	}
	var out []Agency
	q := s.db.NewSelect().Model(&out).Where("id > ?", f.AfterID).OrderExpr("id").Limit(int64(f.limit() + 1))
	if f.Kind != "" {
		q.Where("kind = ?", f.Kind)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, false, err
	}
	out, more := trim(out, f.Page)
	return out, more, nil
}

// Agency returns one agency to the administrator.
func (s *Service) Agency(ctx context.Context, a Actor, id int64) (Agency, error) {
	if err := mayManage(a); err != nil {
		return Agency{}, err
	}
	var ag Agency
	err := s.db.NewSelect().Model(&ag).Where("id = ?", id).Scan(ctx)
	return ag, notFound(err)
}

// AgencyInput creates or (non-nil fields) updates an agency.
type AgencyInput struct {
	Code   *string
	Name   *string
	Kind   *AgencyKind
	Towns  *[]string
	Active *bool
}

// SaveAgency creates an agency (id 0) or updates one.
func (s *Service) SaveAgency(ctx context.Context, a Actor, id int64, in AgencyInput) (Agency, error) {
	if err := mayManage(a); err != nil {
		return Agency{}, err
	}
	var ag Agency
	err := s.change(ctx, a, "agency.save", "agency", func(tx bun.Tx) (int64, any, any, error) {
		before := Agency{}
		if id != 0 {
			if err := tx.NewSelect().Model(&ag).Where("id = ?", id).For("UPDATE").Scan(ctx); err != nil {
				return 0, nil, nil, notFound(err)
			}
			before = ag
		} else {
			ag = Agency{Active: true, Towns: []string{}}
			if in.Code == nil || in.Name == nil || in.Kind == nil {
				return 0, nil, nil, fault.InvalidField("code", "code, name and kind are required")
			}
		}
		setIf(&ag.Code, in.Code)
		setIf(&ag.Name, in.Name)
		setIf(&ag.Kind, in.Kind)
		setIf(&ag.Towns, in.Towns)
		setIf(&ag.Active, in.Active)
		if err := s.checkTowns(ctx, tx, ag.Towns); err != nil {
			return 0, nil, nil, err
		}
		ag.UpdatedAt = s.clock.Now()
		var err error
		if id == 0 {
			_, err = tx.NewInsert().Model(&ag).ExcludeColumn("id", "created_at").Returning("*").Exec(ctx)
		} else {
			_, err = tx.NewUpdate().Model(&ag).WherePK().ExcludeColumn("id", "created_at").Exec(ctx)
		}
		return ag.ID, before, ag, err
	})
	if err == nil && id != 0 {
		s.actors.ForgetAll() // its kind is part of its users' actors
	}
	return ag, err
}

func (s *Service) checkTowns(ctx context.Context, db bun.IDB, codes []string) error {
	if len(codes) == 0 {
		return nil
	}
	n, err := db.NewSelect().Table("towns").Where("code IN (?)", bun.List(codes)).Count(ctx)
	if err != nil {
		return err
	}
	if int(n) != len(codes) {
		return fault.InvalidField("towns", "unknown town code in towns")
	}
	return nil
}

func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// ---- users ----

// UserFilter narrows ListUsers.
type UserFilter struct {
	Username string // prefix, case-insensitive
	Role     Role
	AgencyID int64
	Page
}

// ListUsers lists users for the administrator.
func (s *Service) ListUsers(ctx context.Context, a Actor, f UserFilter) ([]User, bool, error) {
	if err := mayManage(a); err != nil {
		return nil, false, err
	}
	var out []User
	q := s.db.NewSelect().Model(&out).Relation("Agency").Relation("Enterprise").Relation("Officer").
		Where("?TableAlias.id > ?", f.AfterID).OrderExpr("?TableAlias.id").Limit(int64(f.limit() + 1))
	if f.Username != "" {
		q.Where("lower(?TableAlias.username) LIKE ?", escapeLike(strings.ToLower(f.Username))+"%")
	}
	if f.Role != "" {
		q.Where("?TableAlias.role = ?", f.Role)
	}
	if f.AgencyID != 0 {
		q.Where("?TableAlias.agency_id = ?", f.AgencyID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, false, err
	}
	out, more := trim(out, f.Page)
	return out, more, nil
}

// User returns a user: any user may read themselves, the administrator anyone.
func (s *Service) User(ctx context.Context, a Actor, id int64) (User, error) {
	if id != a.UserID {
		if err := mayManage(a); err != nil {
			return User{}, err
		}
	}
	u, err := s.userByID(ctx, s.db, id)
	if err != nil {
		return User{}, notFound(err)
	}
	return *u, nil
}

// UserInput creates or (non-nil fields) updates a user.
type UserInput struct {
	Username     *string
	DisplayName  *string
	Role         *Role
	Password     *string
	AgencyID     *int64 // 0 clears
	EnterpriseID *int64 // 0 clears
	Phone        *string
	Disabled     *bool
}

var usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{2,39}$`)

// SaveUser creates (id 0) or updates a user.
func (s *Service) SaveUser(ctx context.Context, a Actor, id int64, in UserInput) (User, error) {
	if err := mayManage(a); err != nil {
		return User{}, err
	}
	if in.Username != nil && !usernameRE.MatchString(*in.Username) {
		return User{}, fault.InvalidField("username", "3–40 characters: lower-case letters, digits, dot, dash, underscore")
	}
	if in.Password != nil && len([]rune(*in.Password)) < 8 {
		return User{}, fault.InvalidField("password", "密码至少8位 / at least 8 characters")
	}
	var hash string
	if in.Password != nil {
		var err error
		if hash, err = HashPassword(*in.Password); err != nil {
			return User{}, err
		}
	}
	var saved int64
	err := s.change(ctx, a, "user.save", "user", func(tx bun.Tx) (int64, any, any, error) {
		u := User{}
		if id != 0 {
			if err := tx.NewSelect().Model(&u).Where("id = ?", id).For("UPDATE").Scan(ctx); err != nil {
				return 0, nil, nil, notFound(err)
			}
		} else if in.Username == nil || in.DisplayName == nil || in.Role == nil || in.Password == nil {
			return 0, nil, nil, fault.InvalidField("username", "username, display_name, role and password are required")
		}
		before := redactUser(u)
		setIf(&u.Username, in.Username)
		setIf(&u.DisplayName, in.DisplayName)
		setIf(&u.Role, in.Role)
		setIf(&u.Phone, in.Phone)
		if hash != "" {
			u.PasswordHash = hash
		}
		if in.AgencyID != nil {
			u.AgencyID = nonZero(*in.AgencyID)
		}
		if in.EnterpriseID != nil {
			u.EnterpriseID = nonZero(*in.EnterpriseID)
		}
		if in.Disabled != nil {
			switch {
			case *in.Disabled && u.DisabledAt == nil:
				now := s.clock.Now()
				u.DisabledAt = &now
			case !*in.Disabled:
				u.DisabledAt = nil
			}
		}
		u.UpdatedAt = s.clock.Now()
		var err error
		if id == 0 {
			_, err = tx.NewInsert().Model(&u).ExcludeColumn("id", "created_at").Returning("id").Exec(ctx)
		} else {
			_, err = tx.NewUpdate().Model(&u).WherePK().ExcludeColumn("id", "created_at").Exec(ctx)
		}
		if err == nil && u.DisabledAt != nil {
			// A disabled user's sessions and refresh tokens end now.
			if _, err = tx.NewDelete().Table("sessions").Where("user_id = ?", u.ID).Exec(ctx); err == nil {
				_, err = tx.NewRaw("UPDATE refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL", s.clock.Now(), u.ID).Exec(ctx)
			}
		}
		saved = u.ID
		if err == nil && id != 0 && (in.Disabled != nil || in.Role != nil || in.AgencyID != nil) {
			err = officerChanged(ctx, tx, u.ID, u.UpdatedAt)
		}
		after := redactUser(u)
		if hash != "" {
			after["password"] = "changed"
		}
		return u.ID, before, after, err
	})
	if err != nil {
		return User{}, err
	}
	s.actors.Forget(saved) // here at once; other processes hear of it from the database
	return s.User(ctx, a, saved)
}

func redactUser(u User) map[string]any {
	if u.ID == 0 {
		return nil
	}
	return map[string]any{"username": u.Username, "display_name": u.DisplayName, "role": u.Role,
		"agency_id": u.AgencyID, "enterprise_id": u.EnterpriseID, "disabled_at": u.DisabledAt}
}

func nonZero(v int64) *int64 {
	if v == 0 {
		return nil
	}
	return &v
}

// OfficerInput sets an officer's routing profile.
type OfficerInput struct {
	Skills   []string
	Capacity int
	OnDuty   bool
	Towns    []string
}

// SetOfficerProfile creates or replaces the routing profile of an officer
// or agency lead.
func (s *Service) SetOfficerProfile(ctx context.Context, a Actor, userID int64, in OfficerInput) (OfficerProfile, error) {
	if err := mayManage(a); err != nil {
		return OfficerProfile{}, err
	}
	p := OfficerProfile{UserID: userID, Skills: nonNil(in.Skills), Capacity: in.Capacity, OnDuty: in.OnDuty,
		Towns: nonNil(in.Towns), UpdatedAt: s.clock.Now()}
	err := s.change(ctx, a, "officer.profile", "user", func(tx bun.Tx) (int64, any, any, error) {
		var role Role
		if err := tx.NewSelect().Table("users").Column("role").Where("id = ?", userID).Scan(ctx, &role); err != nil {
			return 0, nil, nil, notFound(err)
		}
		if role != RoleOfficer && role != RoleLead {
			return 0, nil, nil, fault.InvalidField("role", "only officers and agency leads have a routing profile")
		}
		if in.Capacity < 0 {
			return 0, nil, nil, fault.InvalidField("capacity", "capacity cannot be negative")
		}
		if err := s.checkTowns(ctx, tx, p.Towns); err != nil {
			return 0, nil, nil, err
		}
		var before OfficerProfile
		_ = tx.NewSelect().Model(&before).WherePK("user_id").Where("user_id = ?", userID).Scan(ctx)
		_, err := tx.NewInsert().Model(&p).On("CONFLICT (user_id) DO UPDATE").
			Set("skills = EXCLUDED.skills, capacity = EXCLUDED.capacity, on_duty = EXCLUDED.on_duty, towns = EXCLUDED.towns, updated_at = EXCLUDED.updated_at").Exec(ctx)
		if err == nil {
			err = officerChanged(ctx, tx, userID, p.UpdatedAt)
		}
		return userID, before, p, err
	})
	return p, err
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// ---- enterprises ----

// EnterpriseFilter narrows ListEnterprises.
type EnterpriseFilter struct {
	Q         string // name or credit-code fragment
	Town      string
	NoDisturb *bool
	Page
}

// ListEnterprises lists enterprises. The administrator, the oversight office
// and inspectors (who must find an enterprise to inspect) may.
func (s *Service) ListEnterprises(ctx context.Context, a Actor, f EnterpriseFilter) ([]Enterprise, bool, error) {
	if a.Role != RoleAdmin && a.Role != RoleOversight && a.Role != RoleInspector {
		return nil, false, fault.New(fault.Forbidden, "your role may not list enterprises")
	}
	var out []Enterprise
	q := s.db.NewSelect().Model(&out).Where("id > ?", f.AfterID).OrderExpr("id").Limit(int64(f.limit() + 1))
	if f.Q != "" {
		q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("name ILIKE ?", "%"+escapeLike(f.Q)+"%").WhereOr("uscc LIKE ?", escapeLike(NormalizeUSCC(f.Q))+"%")
		})
	}
	if f.Town != "" {
		q.Where("town_code = ?", f.Town)
	}
	if f.NoDisturb != nil {
		q.Where("no_disturb = ?", *f.NoDisturb)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, false, err
	}
	out, more := trim(out, f.Page)
	return out, more, nil
}

// Enterprise returns one enterprise to the administrator, oversight, an
// inspector, or its own staff.
func (s *Service) Enterprise(ctx context.Context, a Actor, id int64) (Enterprise, error) {
	if a.Role == RoleEnterprise && a.EnterpriseID != id {
		return Enterprise{}, errNotFound
	}
	if a.Role != RoleEnterprise && a.Role != RoleAdmin && a.Role != RoleOversight && a.Role != RoleInspector {
		return Enterprise{}, fault.New(fault.Forbidden, "your role may not read enterprise records")
	}
	var e Enterprise
	err := s.db.NewSelect().Model(&e).Where("id = ?", id).Scan(ctx)
	return e, notFound(err)
}

// EnterpriseByUSCC finds an enterprise by its credit code (for inspections
// and oversight, which address enterprises by code).
func (s *Service) EnterpriseByUSCC(ctx context.Context, db bun.IDB, code USCC) (Enterprise, error) {
	var e Enterprise
	err := db.NewSelect().Model(&e).Where("uscc = ?", code).Scan(ctx)
	return e, notFound(err)
}

// EnterpriseInput creates or (non-nil fields) updates an enterprise.
type EnterpriseInput struct {
	USCC         *string
	Name         *string
	Town         *string
	Industry     *string
	Address      *string
	ContactName  *string
	ContactPhone *string
	Grade        *string
	// CheckOverride accepts a code that fails the check character, with the
	// reason (some early pilot codes are legal yet fail it).
	CheckOverride *string
}

// SaveEnterprise creates (id 0) or updates an enterprise.
func (s *Service) SaveEnterprise(ctx context.Context, a Actor, id int64, in EnterpriseInput) (Enterprise, error) {
	if err := mayManage(a); err != nil {
		return Enterprise{}, err
	}
	var code USCC
	if in.USCC != nil {
		var err error
		if in.CheckOverride != nil && strings.TrimSpace(*in.CheckOverride) != "" {
			code, err = ParseUSCCOverride("uscc", *in.USCC)
		} else {
			code, err = ParseUSCC("uscc", *in.USCC)
		}
		if err != nil {
			return Enterprise{}, err
		}
	}
	if in.Name != nil && strings.TrimSpace(*in.Name) == "" {
		return Enterprise{}, fault.InvalidField("name", "name is required")
	}
	var e Enterprise
	err := s.change(ctx, a, "enterprise.save", "enterprise", func(tx bun.Tx) (int64, any, any, error) {
		if id != 0 {
			if err := tx.NewSelect().Model(&e).Where("id = ?", id).For("UPDATE").Scan(ctx); err != nil {
				return 0, nil, nil, notFound(err)
			}
		} else {
			if in.USCC == nil || in.Name == nil {
				return 0, nil, nil, fault.InvalidField("uscc", "uscc and name are required")
			}
			e.Grade = "B"
		}
		before := e
		if code != "" {
			e.USCC = code
			if in.CheckOverride != nil && CheckCharacter(string(code[:17])) != code[17] {
				e.USCCCheckOverride = in.CheckOverride
			}
		}
		setIf(&e.Name, in.Name)
		if in.Town != nil {
			e.TownCode = nil
			if *in.Town != "" {
				e.TownCode = in.Town
			}
		}
		setIf(&e.Industry, in.Industry)
		setIf(&e.Address, in.Address)
		setIf(&e.ContactName, in.ContactName)
		setIf(&e.ContactPhone, in.ContactPhone)
		setIf(&e.Grade, in.Grade)
		e.UpdatedAt = s.clock.Now()
		var err error
		if id == 0 {
			_, err = tx.NewInsert().Model(&e).ExcludeColumn("id", "created_at").Returning("*").Exec(ctx)
		} else {
			_, err = tx.NewUpdate().Model(&e).WherePK().ExcludeColumn("id", "created_at").Exec(ctx)
		}
		return e.ID, before, e, err
	})
	return e, err
}

// NoDisturbInput puts an enterprise on or off the no-disturb list.
type NoDisturbInput struct {
	On    bool
	From  *time.Time
	To    *time.Time
	Basis string
}

// SetNoDisturb changes an enterprise's no-disturb listing. Putting it on
// the list needs a basis (the credit rating or decision behind it).
func (s *Service) SetNoDisturb(ctx context.Context, a Actor, id int64, in NoDisturbInput) (Enterprise, error) {
	if err := mayManage(a); err != nil {
		return Enterprise{}, err
	}
	if in.On && strings.TrimSpace(in.Basis) == "" {
		return Enterprise{}, fault.InvalidField("basis", "列入无事不扰名单须写明依据 / give the basis for the no-disturb listing")
	}
	if in.From != nil && in.To != nil && in.To.Before(*in.From) {
		return Enterprise{}, fault.InvalidField("to", "the period ends before it starts")
	}
	var e Enterprise
	err := s.change(ctx, a, "enterprise.no_disturb", "enterprise", func(tx bun.Tx) (int64, any, any, error) {
		if err := tx.NewSelect().Model(&e).Where("id = ?", id).For("UPDATE").Scan(ctx); err != nil {
			return 0, nil, nil, notFound(err)
		}
		before := map[string]any{"on": e.NoDisturb, "from": e.NoDisturbFrom, "to": e.NoDisturbTo, "basis": e.NoDisturbBasis}
		e.NoDisturb, e.NoDisturbFrom, e.NoDisturbTo, e.NoDisturbBasis = in.On, in.From, in.To, in.Basis
		if !in.On {
			e.NoDisturbFrom, e.NoDisturbTo = nil, nil
		}
		e.UpdatedAt = s.clock.Now()
		_, err := tx.NewUpdate().Model(&e).WherePK().Column("no_disturb", "no_disturb_from", "no_disturb_to", "no_disturb_basis", "updated_at").Exec(ctx)
		return e.ID, before, map[string]any{"on": e.NoDisturb, "from": e.NoDisturbFrom, "to": e.NoDisturbTo, "basis": e.NoDisturbBasis}, err
	})
	return e, err
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Agencies lists every active agency for any signed-in user: names and
// kinds are reference data (transfer targets, report labels), unlike the
// administrator's full records.
func (s *Service) Agencies(ctx context.Context, a Actor) ([]Agency, error) {
	if err := Authorize(a, Read, Resource{Kind: ResReference}); err != nil {
		return nil, err
	}
	var out []Agency
	err := s.db.NewSelect().Model(&out).Where("active").OrderExpr("id").Scan(ctx)
	return out, err
}
