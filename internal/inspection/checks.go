package inspection

import (
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"greenchannel/internal/identity"
	"greenchannel/internal/platform/clock"
	"greenchannel/internal/platform/fault"
	"greenchannel/internal/platform/pg"
)

// Rule ids of the pre-checks; stable words the oversight office filters by.
const (
	RuleUnauthorizedItem = "unauthorized_item"
	RuleUnlistedItem     = "unlisted_item"
	RuleUnpublishedItem  = "unpublished_item"
	RuleUncertified      = "inspector_uncertified"
	RuleTooFewInspectors = "too_few_inspectors"
	RuleSpecialNoPlan    = "special_without_plan"
	RuleNoDisturb        = "no_disturb"
	RuleCapReached       = "cap_reached"
	RuleLowYield         = "low_yield"
	RuleRepeatDay        = "repeat_visit_day"
	RuleRepeatWeek       = "repeat_visit_week"
	RuleRepeatMonth      = "repeat_visit_month"
	RuleMultiAgency      = "multi_agency"
	RuleSplitItems       = "split_items"
	RuleOffsiteCapable   = "offsite_capable"
)

// overridable blocks may be passed with a recorded reason, which raises an
// oversight alert; every other block stops the code.
var overridable = map[string]bool{RuleCapReached: true, RuleLowYield: true}

// request is what the pre-checks look at.
type request struct {
	agencyID   int64
	enterprise identity.Enterprise
	items      []string
	mode, kind string
	planID     int64
	from, to   time.Time
	inspectors []int64
	joint      []int64
}

// checker holds what the rules look at, read before any rule runs, and
// collects their findings.
type checker struct {
	settings   map[string]int
	items      []itemRow      // the requested items found on the list
	inspectors []inspectorRow // the named inspectors found
	caps       []capRow       // active caps of the agency or all agencies on the items or all
	plan       *planRow       // the special plan named, when it is the agency's
	history    []past         // the enterprise's live inspections the rules look at
	out        []Check
}

type itemRow struct {
	Code, Name, Status  string
	Offsite, Authorized bool
}

type inspectorRow struct {
	ID                 int64
	Name, Role         string
	AgencyID           *int64
	Disabled           bool
	Number             *string
	ValidFrom, ValidTo *time.Time
}

type capRow struct {
	ID              int64
	Scope           string
	ItemCode, Grade *string
	Max             int
}

type planRow struct {
	Items           []string
	Year            int
	Approved, Filed *time.Time
}

// past is one live (not cancelled) inspection of the enterprise.
type past struct {
	ID         int64
	AgencyID   int64
	Agency     string
	Kind       string
	Status     string
	WindowFrom time.Time
	ItemCodes  []string
	Outcome    *string
	Inspectors []int64 // recorded visits only
}

// historySQL reads, from the enterprise's index, every live inspection any
// rule counts: the calendar span $2 to $3 (the year for caps; a week either
// side of the day and the month for repeats), the multi-agency period
// either side of the visit's start $4, and recorded visits from the
// low-yield period on, with their inspectors. The two periods are settings
// and are added here, so the history goes in the same round trip as the
// settings. (As scalar subqueries they are cheap to plan; joined in, the
// statement took four times as long to plan.)
const historySQL = `SELECT i.id, i.agency_id, a.name AS agency, i.kind, i.status, i.window_from, i.item_codes, i.outcome,
	  CASE WHEN i.status = 'recorded' THEN ARRAY(SELECT x.user_id FROM inspection_inspectors x WHERE x.inspection_id = i.id) END AS inspectors
	FROM inspections i JOIN agencies a ON a.id = i.agency_id
	WHERE i.enterprise_id = (SELECT id FROM enterprises WHERE uscc = $1) AND i.status <> 'cancelled'
	  AND i.window_from >= least($2::timestamptz, $4::timestamptz - (SELECT coalesce(max(value), 0) FROM inspection_settings
	    WHERE key IN ('multi_agency_days', 'low_yield_days')) * interval '1 day')
	  AND (i.window_from < greatest($3::timestamptz, $4::timestamptz + (SELECT coalesce(max(value), 0) FROM inspection_settings
	    WHERE key = 'multi_agency_days') * interval '1 day') OR i.status = 'recorded')
	ORDER BY i.window_from DESC, i.id DESC`

// calendarSpan is the calendar part of the history's span for a visit
// starting at from: its year, a week either side of its day, its month.
func calendarSpan(from time.Time) (lo, hi time.Time) {
	d := dateIn(from)
	day := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, clock.Shanghai)
	lo = time.Date(d.Year(), 1, 1, 0, 0, 0, 0, clock.Shanghai)
	hi = lo.AddDate(1, 0, 0)
	if t := day.AddDate(0, 0, -6); t.Before(lo) {
		lo = t
	}
	for _, t := range []time.Time{day.AddDate(0, 0, 7), time.Date(d.Year(), d.Month()+1, 1, 0, 0, 0, 0, clock.Shanghai)} {
		if t.After(hi) {
			hi = t
		}
	}
	return lo, hi
}

// count is how many history rows start in [from, to) and pass keep.
func (c *checker) count(from, to time.Time, keep func(*past) bool) int {
	n := 0
	for k := range c.history {
		h := &c.history[k]
		if !h.WindowFrom.Before(from) && h.WindowFrom.Before(to) && (keep == nil || keep(h)) {
			n++
		}
	}
	return n
}

func (c *checker) block(rule, zh, en string, data map[string]any) {
	c.out = append(c.out, Check{Rule: rule, Severity: "block", MessageZh: zh, MessageEn: en, Data: data})
}

func (c *checker) warn(rule, zh, en string, data map[string]any) {
	c.out = append(c.out, Check{Rule: rule, Severity: "warn", MessageZh: zh, MessageEn: en, Data: data})
}

const settingsSQL = `SELECT key, value FROM inspection_settings`

const itemsSQL = `SELECT i.code, i.name, i.status, i.offsite_capable,
	  EXISTS (SELECT 1 FROM agency_items a WHERE a.item_code = i.code AND a.agency_id = $1) AS authorized
	FROM inspection_items i WHERE i.code = ANY($2)`

const inspectorsSQL = `SELECT u.id, u.display_name, u.agency_id, u.role, u.disabled_at IS NOT NULL AS disabled,
	  c.number, c.valid_from, c.valid_to
	FROM users u LEFT JOIN inspector_certificates c ON c.user_id = u.id WHERE u.id = ANY($1)`

const capsSQL = `SELECT id, scope, item_code, grade, max_per_year FROM inspection_caps
	WHERE active AND (agency_id IS NULL OR agency_id = $1) AND (item_code IS NULL OR item_code = ANY($2))`

const planSQL = `SELECT item_codes, year, approved_at, filed_at FROM inspection_plans WHERE id = $1 AND agency_id = $2 AND kind = 'special'`

const triggerSQL = `SELECT EXISTS (SELECT 1 FROM inspection_triggers WHERE code = $1)`

// prechecks are the reads the rules need, queued in a batch, and what they
// returned once it was sent.
type prechecks struct {
	r                   request
	c                   *checker
	in                  IssueInput
	found, knownTrigger bool
}

// queuePrechecks adds to b every read the rules need, in one round trip:
// the enterprise (its row locked to the end of the transaction when lock
// is set, before anything else is read), the settings, items, inspectors,
// caps, plan and trigger, and the enterprise's history. The caller sends b
// in its transaction, then calls run.
func queuePrechecks(b *pg.Batch, agencyID int64, in IssueInput, lock bool) (*prechecks, error) {
	p := &prechecks{in: in, c: &checker{settings: map[string]int{}, out: []Check{}}, // never null: stored and answered as a list
		r: request{agencyID: agencyID, items: in.Items, mode: in.Mode, kind: in.Kind, planID: in.PlanID,
			from: in.From, to: in.To, inspectors: in.Inspectors, joint: in.JointAgencies}}
	uscc, err := identity.ParseUSCC("uscc", in.USCC)
	if err != nil {
		return nil, err
	}
	c := p.c
	identity.QueueEnterprise(b, uscc, lock, &p.r.enterprise, &p.found)
	b.Query(func(rows pgx.Rows) error {
		var key string
		var value int
		err := rows.Scan(&key, &value)
		c.settings[key] = value
		return err
	}, settingsSQL)
	b.Query(func(rows pgx.Rows) error {
		var it itemRow
		err := rows.Scan(&it.Code, &it.Name, &it.Status, &it.Offsite, &it.Authorized)
		c.items = append(c.items, it)
		return err
	}, itemsSQL, agencyID, in.Items)
	b.Query(func(rows pgx.Rows) error {
		var u inspectorRow
		err := rows.Scan(&u.ID, &u.Name, &u.AgencyID, &u.Role, &u.Disabled, &u.Number, &u.ValidFrom, &u.ValidTo)
		c.inspectors = append(c.inspectors, u)
		return err
	}, inspectorsSQL, in.Inspectors)
	b.Query(func(rows pgx.Rows) error {
		var cp capRow
		err := rows.Scan(&cp.ID, &cp.Scope, &cp.ItemCode, &cp.Grade, &cp.Max)
		c.caps = append(c.caps, cp)
		return err
	}, capsSQL, agencyID, in.Items)
	if in.Kind == "special" {
		b.QueryRow(func(row pgx.Row) error {
			var pl planRow
			err := row.Scan(&pl.Items, &pl.Year, &pl.Approved, &pl.Filed)
			if errors.Is(err, sql.ErrNoRows) {
				return nil
			}
			c.plan = &pl
			return err
		}, planSQL, in.PlanID, agencyID)
	}
	if in.Kind == "triggered" {
		b.QueryRow(func(row pgx.Row) error { return row.Scan(&p.knownTrigger) }, triggerSQL, in.Trigger)
	}
	lo, hi := calendarSpan(in.From)
	b.Query(func(rows pgx.Rows) error {
		var h past
		err := rows.Scan(&h.ID, &h.AgencyID, &h.Agency, &h.Kind, &h.Status, &h.WindowFrom, &h.ItemCodes, &h.Outcome, &h.Inspectors)
		c.history = append(c.history, h)
		return err
	}, historySQL, string(uscc), lo, hi, in.From)
	return p, nil
}

// run runs every rule on what was read and returns the enterprise with all
// findings, blocks and warnings. An unknown enterprise or trigger is a
// field error, not a finding.
func (p *prechecks) run() (identity.Enterprise, []Check, error) {
	if !p.found {
		return p.r.enterprise, nil, fault.InvalidField("uscc", "未找到该统一社会信用代码的企业 / no enterprise with this credit code")
	}
	if p.in.Kind == "triggered" && (!p.knownTrigger || strings.TrimSpace(p.in.TriggerRef) == "") {
		return p.r.enterprise, nil, fault.InvalidField("trigger", "触发式检查须写明触发类型和依据编号 / name the trigger and its reference")
	}
	for _, rule := range []func(*checker, request){
		checkItems, checkInspectors, checkPlan, checkNoDisturb, checkCaps, checkLowYield, checkRepeats, checkOtherAgencies,
	} {
		rule(p.c, p.r)
	}
	return p.r.enterprise, p.c.out, nil
}

func checkItems(c *checker, r request) {
	known := map[string]bool{}
	for _, it := range c.items {
		known[it.Code] = true
		switch {
		case it.Status != "published":
			c.block(RuleUnpublishedItem, fmt.Sprintf("检查事项 %s（%s）未公布或已暂停，不得检查", it.Code, it.Name),
				fmt.Sprintf("item %s is %s, not published", it.Code, it.Status), map[string]any{"item": it.Code})
		case !it.Authorized:
			c.block(RuleUnauthorizedItem, fmt.Sprintf("本机关无权检查事项 %s（%s）", it.Code, it.Name),
				fmt.Sprintf("your agency may not inspect item %s", it.Code), map[string]any{"item": it.Code})
		}
		if it.Offsite && r.mode == "onsite" {
			c.warn(RuleOffsiteCapable, fmt.Sprintf("事项 %s 可以非现场检查，建议优先采用非现场方式", it.Code),
				fmt.Sprintf("item %s can be checked off-site; prefer that", it.Code), map[string]any{"item": it.Code})
		}
	}
	for _, code := range r.items {
		if !known[code] {
			c.block(RuleUnlistedItem, fmt.Sprintf("%s 不在检查事项清单内（清单之外无检查）", code),
				fmt.Sprintf("%s is not on the published list", code), map[string]any{"item": code})
		}
	}
}

func checkInspectors(c *checker, r request) {
	agencies := append([]int64{r.agencyID}, r.joint...)
	from, to := dateIn(r.from), dateIn(r.to)
	certified := 0
	for _, u := range c.inspectors {
		inAgency := u.AgencyID != nil && slices.Contains(agencies, *u.AgencyID)
		switch {
		case u.Role != string(identity.RoleInspector) || !inAgency || u.Disabled:
			c.block(RuleUncertified, fmt.Sprintf("%s 不是本次检查机关的在职执法人员", u.Name),
				fmt.Sprintf("%s is not an active inspector of the inspecting agencies", u.Name), map[string]any{"user_id": u.ID})
		case u.Number == nil || u.ValidFrom.After(from) || u.ValidTo.Before(to):
			c.block(RuleUncertified, fmt.Sprintf("%s 无有效执法证（检查期间须持证）", u.Name),
				fmt.Sprintf("%s holds no enforcement certificate valid for the whole window", u.Name), map[string]any{"user_id": u.ID})
		default:
			certified++
		}
	}
	if len(c.inspectors) < len(r.inspectors) {
		c.block(RuleUncertified, "检查人员中有未登记的人员", "an inspector is unknown", nil)
	}
	if r.mode == "onsite" && certified < 2 {
		c.block(RuleTooFewInspectors, fmt.Sprintf("现场检查须至少2名持证执法人员，目前 %d 名", certified),
			fmt.Sprintf("on-site visits need at least 2 certified inspectors; %d given", certified), map[string]any{"certified": certified})
	}
}

func checkPlan(c *checker, r request) {
	if r.kind != "special" {
		return
	}
	plan := c.plan
	switch {
	case plan == nil:
		c.block(RuleSpecialNoPlan, "专项检查须引用本机关经批准并备案的专项检查计划", "a special inspection needs an approved, filed plan of your agency", nil)
	case plan.Approved == nil || plan.Filed == nil:
		c.block(RuleSpecialNoPlan, "该专项检查计划未经批准或未备案", "the plan is not approved and filed", map[string]any{"plan_id": r.planID})
	case plan.Year != dateIn(r.from).Year():
		c.block(RuleSpecialNoPlan, "专项检查计划年度与检查时间不符", "the plan is for another year", map[string]any{"plan_id": r.planID})
	default:
		for _, it := range r.items {
			if !slices.Contains(plan.Items, it) {
				c.block(RuleSpecialNoPlan, fmt.Sprintf("事项 %s 不在专项检查计划内", it), fmt.Sprintf("item %s is not in the plan", it), map[string]any{"item": it})
			}
		}
	}
}

func checkNoDisturb(c *checker, r request) {
	if r.kind != "triggered" && r.enterprise.NoDisturbOn(dateIn(r.from)) {
		c.block(RuleNoDisturb, "该企业在“无事不扰”名单内，只能开展触发式检查",
			"the enterprise is on the no-disturb list: only triggered inspections", map[string]any{"basis": r.enterprise.NoDisturbBasis})
	}
}

// checkCaps counts this year's routine and special inspections of the
// enterprise against every cap that applies; triggered ones are exempt.
func checkCaps(c *checker, r request) {
	if r.kind == "triggered" {
		return
	}
	year := dateIn(r.from).Year()
	yearStart := time.Date(year, 1, 1, 0, 0, 0, 0, clock.Shanghai)
	for _, cp := range c.caps {
		if cp.Grade != nil && *cp.Grade != r.enterprise.Grade {
			continue
		}
		n := c.count(yearStart, yearStart.AddDate(1, 0, 0), func(h *past) bool {
			return h.Kind != "triggered" && (cp.Scope != "agency" || h.AgencyID == r.agencyID) &&
				(cp.ItemCode == nil || slices.Contains(h.ItemCodes, *cp.ItemCode))
		})
		if int(n)+1 > cp.Max {
			scope := "本机关"
			if cp.Scope == "all" {
				scope = "各机关合计"
			}
			c.block(RuleCapReached, fmt.Sprintf("%s对该企业%d年的检查已达上限（%d次/年，已有%d次）", scope, year, cp.Max, n),
				fmt.Sprintf("yearly cap reached (%s: %d a year, %d already)", cp.Scope, cp.Max, n),
				map[string]any{"cap_id": cp.ID, "scope": cp.Scope, "max": cp.Max, "count": n})
		}
	}
}

// checkLowYield blocks an inspector whose last N visits to the enterprise
// within the period all found nothing.
func checkLowYield(c *checker, r request) {
	n, days := c.settings["low_yield_count"], c.settings["low_yield_days"]
	since := r.from.AddDate(0, 0, -days)
	for _, u := range r.inspectors {
		// The inspector's latest n recorded visits since then (history is
		// newest first).
		var outcomes []string
		for k := range c.history {
			h := &c.history[k]
			if len(outcomes) == n {
				break
			}
			if h.Status == Recorded && !h.WindowFrom.Before(since) && slices.Contains(h.Inspectors, u) && h.Outcome != nil {
				outcomes = append(outcomes, *h.Outcome)
			}
		}
		if len(outcomes) == n && !slices.ContainsFunc(outcomes, func(o string) bool { return o != "no_issue" }) {
			c.block(RuleLowYield, fmt.Sprintf("该检查人员最近%d次检查该企业均未发现问题，须说明理由", n),
				fmt.Sprintf("this inspector's last %d visits to the enterprise found nothing", n), map[string]any{"user_id": u})
		}
	}
}

// checkRepeats counts every agency's visits, planned ones included, on the
// same day, within a week either side, and in the calendar month.
func checkRepeats(c *checker, r request) {
	d := dateIn(r.from)
	day := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, clock.Shanghai)
	month := time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, clock.Shanghai)
	var n struct{ Day, Week, Month int }
	n.Day = c.count(day, day.AddDate(0, 0, 1), nil)
	n.Week = c.count(day.AddDate(0, 0, -6), day.AddDate(0, 0, 7), nil)
	n.Month = c.count(month, month.AddDate(0, 1, 0), nil)
	for _, x := range []struct {
		rule       string
		count, max int
		zh, en     string
	}{
		{RuleRepeatDay, n.Day + 1, c.settings["repeat_day"], "当天", "that day"},
		{RuleRepeatWeek, n.Week + 1, c.settings["repeat_week"], "7天内", "within 7 days"},
		{RuleRepeatMonth, n.Month + 1, c.settings["repeat_month"], "本月", "this month"},
	} {
		if x.count > x.max {
			c.warn(x.rule, fmt.Sprintf("该企业%s将被检查%d次（超过%d次），请考虑合并或推迟", x.zh, x.count, x.max),
				fmt.Sprintf("%d visits to the enterprise %s (more than %d)", x.count, x.en, x.max), map[string]any{"count": x.count, "max": x.max})
		}
	}
}

// checkOtherAgencies proposes a joint inspection when other agencies visit
// near the date, and flags the same agency splitting items into visits.
func checkOtherAgencies(c *checker, r request) {
	near, split := c.settings["multi_agency_days"], c.settings["split_days"]
	type agencyRow struct {
		AgencyID int64
		Name     string
		Near     bool
	}
	var rows []agencyRow
	from, to := r.from.AddDate(0, 0, -near), r.from.AddDate(0, 0, near)
	for k := range c.history {
		h := &c.history[k]
		if !h.WindowFrom.After(from) || !h.WindowFrom.Before(to) {
			continue
		}
		isNear := math.Abs(h.WindowFrom.Sub(r.from).Seconds()) < float64(split)*86400
		at := slices.IndexFunc(rows, func(x agencyRow) bool { return x.AgencyID == h.AgencyID })
		if at < 0 {
			rows = append(rows, agencyRow{AgencyID: h.AgencyID, Name: h.Agency, Near: isNear})
		} else {
			rows[at].Near = rows[at].Near || isNear
		}
	}
	sort.Slice(rows, func(a, b int) bool { return rows[a].AgencyID < rows[b].AgencyID })
	var others []string
	var ids []int64
	for _, o := range rows {
		switch {
		case o.AgencyID == r.agencyID && o.Near:
			c.warn(RuleSplitItems, fmt.Sprintf("本机关%d天内已安排对该企业的检查，请将事项合并为一次检查", split),
				fmt.Sprintf("your agency already visits within %d days: merge the items into one visit", split), nil)
		case o.AgencyID != r.agencyID && !slices.Contains(r.joint, o.AgencyID):
			others, ids = append(others, o.Name), append(ids, o.AgencyID)
		}
	}
	if len(others) > 0 {
		c.warn(RuleMultiAgency, fmt.Sprintf("%d天内还有 %s 检查该企业，建议开展联合检查（综合查一次）", near, strings.Join(others, "、")),
			fmt.Sprintf("other agencies visit within %d days; propose a joint inspection", near), map[string]any{"agency_ids": ids, "agencies": others})
	}
}

func dateIn(t time.Time) time.Time { return t.In(clock.Shanghai) }
