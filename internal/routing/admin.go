package routing

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/uptrace/bun"

	"greenchannel/internal/identity"
	"greenchannel/internal/platform/audit"
	"greenchannel/internal/platform/fault"
	"greenchannel/internal/platform/pg"
)

// ErrNoCatchAll stops a worker or a seed run: without a catch-all rule
// some request would find no agency at all.
var ErrNoCatchAll = errors.New("routing: no active catch-all rule (one with neither category nor town); add one under /api/v1/admin/routing-rules or run `greenchannel seed`")

// CheckCatchAll returns ErrNoCatchAll unless an active catch-all rule exists.
func CheckCatchAll(ctx context.Context, db bun.IDB) error {
	n, err := db.NewSelect().Model((*Rule)(nil)).Where("active AND category IS NULL AND town_code IS NULL").Count(ctx)
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNoCatchAll
	}
	return nil
}

// Rules lists the routing rules in the order they are tried.
func (e *Engine) Rules(ctx context.Context, a identity.Actor) ([]Rule, error) {
	if err := identity.Authorize(a, identity.Manage, identity.Resource{Kind: identity.ResReference}); err != nil {
		return nil, err
	}
	var out []Rule
	err := e.db.NewSelect().Model(&out).OrderExpr("active DESC, priority").Scan(ctx)
	return out, err
}

// RuleInput creates or (non-nil fields) changes a rule. Empty strings in
// Category and TownCode mean "any".
type RuleInput struct {
	Priority      *int
	Category      *string
	TownCode      *string
	AgencyID      *int64
	RequiredSkill *string
	Active        *bool
	Note          *string
}

// SaveRule creates (id 0) or changes a rule, refusing a change that would
// leave no catch-all.
func (e *Engine) SaveRule(ctx context.Context, a identity.Actor, id int64, in RuleInput) (Rule, error) {
	if err := identity.Authorize(a, identity.Manage, identity.Resource{Kind: identity.ResReference}); err != nil {
		return Rule{}, err
	}
	var rule Rule
	err := pg.RunInTx(ctx, e.db, func(ctx context.Context, tx bun.Tx) error {
		var before Rule
		if id != 0 {
			if err := tx.NewSelect().Model(&rule).Where("id = ?", id).For("UPDATE").Scan(ctx); err != nil {
				if errors.Is(err, sql.ErrNoRows) {
					return fault.New(fault.NotFound, "rule not found")
				}
				return err
			}
			before = rule
		} else {
			if in.Priority == nil || in.AgencyID == nil {
				return fault.InvalidField("priority", "priority and agency_id are required")
			}
			rule.Active = true
		}
		if in.Priority != nil {
			rule.Priority = *in.Priority
		}
		if in.Category != nil {
			rule.Category = emptyNil(*in.Category)
		}
		if in.TownCode != nil {
			rule.TownCode = emptyNil(*in.TownCode)
		}
		if in.AgencyID != nil {
			rule.AgencyID = *in.AgencyID
		}
		if in.RequiredSkill != nil {
			rule.RequiredSkill = emptyNil(*in.RequiredSkill)
		}
		if in.Active != nil {
			rule.Active = *in.Active
		}
		if in.Note != nil {
			rule.Note = *in.Note
		}
		var kind identity.AgencyKind
		if err := tx.NewRaw("SELECT kind FROM agencies WHERE id = ? AND active", rule.AgencyID).Scan(ctx, &kind); err != nil {
			return fault.InvalidField("agency_id", "no such active agency")
		}
		if kind != identity.KindCourt && kind != identity.KindProcuratorate && kind != identity.KindPolice && kind != identity.KindJustice {
			return fault.InvalidField("agency_id", "requests are routed to a court, procuratorate, police or justice bureau")
		}
		var err error
		if id == 0 {
			_, err = tx.NewInsert().Model(&rule).ExcludeColumn("id", "created_at", "updated_at").Returning("*").Exec(ctx)
		} else {
			_, err = tx.NewUpdate().Model(&rule).WherePK().ExcludeColumn("id", "created_at").Set("updated_at = now()").Exec(ctx)
		}
		if err != nil {
			err = pg.MapError(err)
			switch {
			case errors.Is(err, pg.ErrUnique):
				return fault.InvalidField("priority", "another active rule has this priority")
			case errors.Is(err, pg.ErrForeignKey):
				return fault.InvalidField("category", "unknown category or town")
			}
			return err
		}
		if err := CheckCatchAll(ctx, tx); err != nil {
			return fault.New(fault.Conflict, "这会删除兜底规则 / this would leave no catch-all rule")
		}
		return audit.Append(ctx, tx, e.clock.Now(), audit.Entry{Actor: a.String(), Action: "routing_rule.save",
			TargetType: "routing_rule", TargetID: strconv.FormatInt(rule.ID, 10), Detail: map[string]any{"before": before, "after": rule}})
	})
	return rule, err
}

// Recuse records that an officer must not handle an enterprise's requests.
func (e *Engine) Recuse(ctx context.Context, a identity.Actor, officerID, enterpriseID int64, reason string) error {
	if err := identity.Authorize(a, identity.Manage, identity.Resource{Kind: identity.ResReference}); err != nil {
		return err
	}
	if reason == "" {
		return fault.InvalidField("reason", "give the reason for the recusal")
	}
	return pg.RunInTx(ctx, e.db, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewRaw(`INSERT INTO recusals (officer_id, enterprise_id, reason) VALUES (?, ?, ?)
			ON CONFLICT (officer_id, enterprise_id) DO UPDATE SET reason = EXCLUDED.reason`, officerID, enterpriseID, reason).Exec(ctx); err != nil {
			if errors.Is(pg.MapError(err), pg.ErrForeignKey) {
				return fault.InvalidField("officer_id", "unknown officer or enterprise")
			}
			return err
		}
		return audit.Append(ctx, tx, e.clock.Now(), audit.Entry{Actor: a.String(), Action: "recusal.add", TargetType: "user",
			TargetID: strconv.FormatInt(officerID, 10), Detail: map[string]any{"enterprise_id": enterpriseID, "reason": reason}})
	})
}

func emptyNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// RuleSeed is one rule in seeds/reference/routing_rules.yaml.
type RuleSeed struct {
	Priority      int    `yaml:"priority"`
	Category      string `yaml:"category"`
	Town          string `yaml:"town"`
	Agency        string `yaml:"agency"` // agency code
	RequiredSkill string `yaml:"required_skill"`
	Note          string `yaml:"note"`
}

// SeedRules upserts the reference rules by priority and checks that a
// catch-all exists.
func SeedRules(ctx context.Context, tx bun.Tx, rules []RuleSeed) error {
	for _, r := range rules {
		var agencyID int64
		if err := tx.NewRaw("SELECT id FROM agencies WHERE code = ?", r.Agency).Scan(ctx, &agencyID); err != nil {
			return fmt.Errorf("rule %d: agency %s: %w", r.Priority, r.Agency, err)
		}
		if _, err := tx.NewRaw(`INSERT INTO routing_rules (priority, category, town_code, agency_id, required_skill, note)
			VALUES (?, NULLIF(?, ''), NULLIF(?, ''), ?, NULLIF(?, ''), ?)
			ON CONFLICT (priority) WHERE active DO UPDATE SET category = EXCLUDED.category, town_code = EXCLUDED.town_code,
			  agency_id = EXCLUDED.agency_id, required_skill = EXCLUDED.required_skill, note = EXCLUDED.note`,
			r.Priority, r.Category, r.Town, agencyID, r.RequiredSkill, r.Note).Exec(ctx); err != nil {
			return fmt.Errorf("rule %d: %w", r.Priority, err)
		}
	}
	return CheckCatchAll(ctx, tx)
}
