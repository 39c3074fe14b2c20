package oversight

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"greenchannel/internal/inspection"
	"greenchannel/internal/platform/clock"
	"greenchannel/internal/platform/pg"
)

func threshold(ctx context.Context, tx bun.IDB, rule string, def int) int {
	var v *int
	if err := tx.NewRaw("SELECT threshold FROM alert_rules WHERE rule = ?", rule).Scan(ctx, &v); err != nil || v == nil {
		return def
	}
	return *v
}

// ruleRow is one line of alert_rules.
type ruleRow struct {
	Rule      string `bun:"rule"`
	Severity  string `bun:"severity"`
	Threshold *int   `bun:"threshold"`
	Active    bool   `bun:"active"`
}

// visit is one live inspection of the enterprise near the analysed one.
type visit struct {
	ID         int64     `bun:"id"`
	AgencyID   int64     `bun:"agency_id"`
	Kind       string    `bun:"kind"`
	WindowFrom time.Time `bun:"window_from"`
}

// analysis is what the inspection rules read, loaded once: the rule table
// and the enterprise's live visits over every period a rule looks at (the
// calendar year, and a month and the multi-agency window around the
// visit), all from the enterprise's index.
type analysis struct {
	rules  map[string]ruleRow
	visits []visit // ordered by id
}

func (an *analysis) threshold(rule string, def int) int {
	if r, ok := an.rules[rule]; ok && r.Threshold != nil {
		return *r.Threshold
	}
	return def
}

// in returns the ids and agencies of the visits starting in [from, to) that
// keep (nil: all).
func (an *analysis) in(from, to time.Time, keep func(visit) bool) ([]int64, []int64) {
	ids, agencies := []int64{}, []int64{}
	for _, v := range an.visits {
		if v.WindowFrom.Before(from) || !v.WindowFrom.Before(to) || (keep != nil && !keep(v)) {
			continue
		}
		ids = append(ids, v.ID)
		if !slices.Contains(agencies, v.AgencyID) {
			agencies = append(agencies, v.AgencyID)
		}
	}
	return ids, agencies
}

func loadAnalysis(ctx context.Context, tx bun.IDB, i *inspection.Inspection) (*analysis, error) {
	an := &analysis{rules: map[string]ruleRow{}}
	var rules []ruleRow
	if err := tx.NewRaw("SELECT rule, severity, threshold, active FROM alert_rules").Scan(ctx, &rules); err != nil {
		return nil, err
	}
	for _, r := range rules {
		an.rules[r.Rule] = r
	}
	d := day(i.WindowFrom)
	days := an.threshold("multi_agency", 30)
	from := time.Date(d.Year(), 1, 1, 0, 0, 0, 0, clock.Shanghai)
	if t := d.AddDate(0, 0, -max(days, 6)); t.Before(from) {
		from = t
	}
	to := time.Date(d.Year()+1, 1, 1, 0, 0, 0, 0, clock.Shanghai)
	if t := i.WindowFrom.AddDate(0, 0, days+1); t.After(to) {
		to = t
	}
	if err := tx.NewRaw(`SELECT id, agency_id, kind, window_from FROM inspections WHERE enterprise_id = ? AND status <> 'cancelled'
		AND window_from >= ? AND window_from < ? ORDER BY id`, i.EnterpriseID, from, to).Scan(ctx, &an.visits); err != nil {
		return nil, err
	}
	return an, nil
}

// AnalyzeInspection evaluates every inspection rule for one inspection
// after it was issued, refused, recorded or rated. It is idempotent: each
// finding updates the one alert of its situation.
func (s *Service) AnalyzeInspection(ctx context.Context, p inspection.AnalyzePayload) error {
	return pg.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		i, err := inspection.LookupForRules(ctx, tx, p.InspectionID)
		if err != nil {
			return err
		}
		an, err := loadAnalysis(ctx, tx, i)
		if err != nil {
			return err
		}
		now := s.clock.Now()
		var fs []finding
		for _, rule := range []func(context.Context, bun.IDB, *inspection.Inspection, *analysis) ([]finding, error){
			repeatVisits, multiAgency, capExceeded, overrides, noDisturb, codeUse, itemsAndPlan, jurisdiction, evaluation, heavyPenalty,
		} {
			more, err := rule(ctx, tx, i, an)
			if err != nil {
				return err
			}
			fs = append(fs, more...)
		}
		for _, f := range fs {
			r, ok := an.rules[f.rule]
			if !ok || !r.Active {
				continue
			}
			if f.enterprise == 0 {
				f.enterprise = i.EnterpriseID
			}
			if len(f.inspections) == 0 {
				f.inspections = []int64{i.ID}
			}
			if len(f.agencies) == 0 {
				f.agencies = []int64{i.AgencyID}
			}
			if err := upsertAlert(ctx, tx, f, r.Severity, now); err != nil {
				return err
			}
		}
		return nil
	})
}

func day(t time.Time) time.Time {
	l := t.In(clock.Shanghai)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, clock.Shanghai)
}

func repeatVisits(_ context.Context, _ bun.IDB, i *inspection.Inspection, an *analysis) ([]finding, error) {
	if i.Status == inspection.Cancelled {
		return nil, nil
	}
	d := day(i.WindowFrom)
	y, w := d.ISOWeek()
	periods := []struct {
		rule     string
		from, to time.Time
		key      string
	}{
		{"repeat_visit_day", d, d.AddDate(0, 0, 1), d.Format("2006-01-02")},
		{"repeat_visit_week", d.AddDate(0, 0, -6), d.AddDate(0, 0, 1), fmt.Sprintf("%d-W%02d", y, w)},
		{"repeat_visit_month", time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, clock.Shanghai), time.Date(d.Year(), d.Month()+1, 1, 0, 0, 0, 0, clock.Shanghai), d.Format("2006-01")},
	}
	var out []finding
	for _, p := range periods {
		ids, agencies := an.in(p.from, p.to, nil)
		if max := an.threshold(p.rule, 1); len(ids) > max {
			out = append(out, finding{rule: p.rule, key: fmt.Sprintf("%d:%s", i.EnterpriseID, p.key), agencies: agencies,
				inspections: ids, detail: map[string]any{"visits": len(ids), "max": max, "period": p.key}})
		}
	}
	return out, nil
}

// multiAgency flags several agencies visiting one enterprise within the
// window without a joint inspection.
func multiAgency(_ context.Context, _ bun.IDB, i *inspection.Inspection, an *analysis) ([]finding, error) {
	if i.Status == inspection.Cancelled {
		return nil, nil
	}
	days := an.threshold("multi_agency", 30)
	ids, agencies := an.in(i.WindowFrom.AddDate(0, 0, -days), i.WindowFrom.AddDate(0, 0, days+1), nil)
	var separate []int64
	for _, a := range agencies {
		if a != i.AgencyID && !slices.Contains(i.JointAgencyIDs, a) {
			separate = append(separate, a)
		}
	}
	if len(separate) == 0 {
		return nil, nil
	}
	return []finding{{rule: "multi_agency", key: fmt.Sprintf("%d:%s", i.EnterpriseID, day(i.WindowFrom).Format("2006-01")),
		agencies: agencies, inspections: ids, detail: map[string]any{"agencies": len(agencies), "days": days}}}, nil
}

// capExceeded compares the agency's routine visits this year with the
// strictest agency cap that applies to the enterprise.
func capExceeded(ctx context.Context, tx bun.IDB, i *inspection.Inspection, an *analysis) ([]finding, error) {
	if i.Kind == "triggered" || i.Status == inspection.Cancelled || i.Enterprise == nil {
		return nil, nil
	}
	var max *int
	if err := tx.NewRaw(`SELECT min(c.max_per_year) FROM inspection_caps c
		WHERE c.active AND c.scope = 'agency' AND c.item_code IS NULL
		AND (c.agency_id IS NULL OR c.agency_id = ?) AND (c.grade IS NULL OR c.grade = ?)`, i.AgencyID, i.Enterprise.Grade).Scan(ctx, &max); err != nil || max == nil {
		return nil, err
	}
	y := day(i.WindowFrom).Year()
	start := time.Date(y, 1, 1, 0, 0, 0, 0, clock.Shanghai)
	ids, _ := an.in(start, start.AddDate(1, 0, 0), func(v visit) bool { return v.AgencyID == i.AgencyID && v.Kind != "triggered" })
	if len(ids) <= *max {
		return nil, nil
	}
	return []finding{{rule: "cap_exceeded", key: fmt.Sprintf("%d:%d:%d", i.EnterpriseID, i.AgencyID, y), inspections: ids,
		detail: map[string]any{"visits": len(ids), "max": *max, "year": y}}}, nil
}

func overrides(_ context.Context, _ bun.IDB, i *inspection.Inspection, _ *analysis) ([]finding, error) {
	var out []finding
	for _, c := range i.Checks {
		if !c.Overridden {
			continue
		}
		rule := map[string]string{inspection.RuleCapReached: "cap_override", inspection.RuleLowYield: "low_yield_override"}[c.Rule]
		if rule != "" {
			reason := ""
			if i.OverrideReason != nil {
				reason = *i.OverrideReason
			}
			out = append(out, finding{rule: rule, key: fmt.Sprint(i.ID), detail: map[string]any{"reason": reason, "check": c.MessageZh}})
		}
	}
	return out, nil
}

func noDisturb(_ context.Context, _ bun.IDB, i *inspection.Inspection, _ *analysis) ([]finding, error) {
	if i.Kind == "triggered" || i.Status == inspection.Cancelled || i.Enterprise == nil || !i.Enterprise.NoDisturbOn(day(i.WindowFrom)) {
		return nil, nil
	}
	return []finding{{rule: "no_disturb_violation", key: fmt.Sprint(i.ID), detail: map[string]any{"basis": i.Enterprise.NoDisturbBasis}}}, nil
}

// codeUse flags visits recorded without a scan and refused confirmations.
func codeUse(ctx context.Context, tx bun.IDB, i *inspection.Inspection, _ *analysis) ([]finding, error) {
	var out []finding
	if i.Status == inspection.Recorded && i.ConfirmedAt == nil {
		out = append(out, finding{rule: "no_code_scan", key: fmt.Sprint(i.ID), detail: map[string]any{"recorded_at": i.EndedAt}})
	}
	var refusals []struct {
		Reason string `bun:"reason"`
	}
	if err := tx.NewRaw(`SELECT data->>'reason' AS reason FROM inspection_events WHERE inspection_id = ? AND kind = 'confirm_refused'`, i.ID).Scan(ctx, &refusals); err != nil {
		return nil, err
	}
	if len(refusals) > 0 {
		out = append(out, finding{rule: "confirm_refused", key: fmt.Sprint(i.ID), detail: map[string]any{"reason": refusals[len(refusals)-1].Reason, "times": len(refusals)}})
	}
	return out, nil
}

// itemsAndPlan re-checks, after the fact, what the pre-checks enforce at
// issue time: an item delisted or a plan unfiled since still deserves a look.
func itemsAndPlan(ctx context.Context, tx bun.IDB, i *inspection.Inspection, _ *analysis) ([]finding, error) {
	var bad []string
	if err := tx.NewRaw(`SELECT c FROM unnest(?::text[]) c WHERE NOT EXISTS (SELECT 1 FROM inspection_items x WHERE x.code = c AND x.status = 'published')`,
		ints2(i.ItemCodes)).Scan(ctx, &bad); err != nil {
		return nil, err
	}
	var out []finding
	if len(bad) > 0 {
		out = append(out, finding{rule: "unlisted_item", key: fmt.Sprint(i.ID), detail: map[string]any{"items": bad}})
	}
	if i.Kind == "special" {
		var filed bool
		if err := tx.NewRaw("SELECT coalesce(bool_and(filed_at IS NOT NULL AND approved_at IS NOT NULL), false) FROM inspection_plans WHERE id = ?", i.PlanID).Scan(ctx, &filed); err != nil {
			return nil, err
		}
		if !filed {
			out = append(out, finding{rule: "special_without_plan", key: fmt.Sprint(i.ID)})
		}
	}
	return out, nil
}

func ints2(v []string) any {
	if v == nil {
		v = []string{}
	}
	return pgdialect.Array(v)
}

// jurisdiction flags an agency inspecting outside the towns it serves.
func jurisdiction(_ context.Context, _ bun.IDB, i *inspection.Inspection, _ *analysis) ([]finding, error) {
	if i.Agency == nil || len(i.Agency.Towns) == 0 || i.Enterprise == nil || i.Enterprise.TownCode == nil ||
		slices.Contains(i.Agency.Towns, *i.Enterprise.TownCode) || i.Status == inspection.Cancelled {
		return nil, nil
	}
	return []finding{{rule: "cross_jurisdiction", key: fmt.Sprint(i.ID), detail: map[string]any{"town": *i.Enterprise.TownCode}}}, nil
}

var badTags = []string{"无码检查", "变相检查", "推销服务", "清单外检查", "重复检查", "吃拿卡要"}

func evaluation(ctx context.Context, tx bun.IDB, i *inspection.Inspection, an *analysis) ([]finding, error) {
	var ev inspection.Evaluation
	if err := tx.NewSelect().Model(&ev).Where("inspection_id = ?", i.ID).Scan(ctx); err != nil {
		return nil, nil // not rated
	}
	max := an.threshold("poor_evaluation", 2)
	if ev.Rating > max && !ev.Complaint && !slices.ContainsFunc(ev.Tags, func(t string) bool { return slices.Contains(badTags, t) }) {
		return nil, nil
	}
	return []finding{{rule: "poor_evaluation", key: fmt.Sprint(i.ID),
		detail: map[string]any{"rating": ev.Rating, "tags": ev.Tags, "complaint": ev.Complaint, "comment": ev.Comment}}}, nil
}

// heavyPenalty flags a penalty where every finding was minor and an item's
// first-offence guidance says no penalty: for review, not a verdict.
func heavyPenalty(ctx context.Context, tx bun.IDB, i *inspection.Inspection, _ *analysis) ([]finding, error) {
	if i.Outcome == nil || *i.Outcome != "penalty" {
		return nil, nil
	}
	findings, _ := i.Record["findings"].([]any)
	for _, f := range findings {
		if m, ok := f.(map[string]any); ok && m["result"] != "minor" {
			return nil, nil
		}
	}
	var exempt int
	if err := tx.NewRaw("SELECT count(*) FROM inspection_items WHERE code IN (?) AND first_offence_exempt", bun.List(i.ItemCodes)).Scan(ctx, &exempt); err != nil {
		return nil, err
	}
	if exempt == 0 {
		return nil, nil
	}
	return []finding{{rule: "heavy_penalty", key: fmt.Sprint(i.ID), detail: map[string]any{"penalty_amount": i.PenaltyAmount}}}, nil
}
