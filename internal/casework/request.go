package casework

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"greenchannel/internal/identity"
	"greenchannel/internal/platform/clock"
	"greenchannel/internal/platform/fault"
	"greenchannel/internal/platform/idem"
	"greenchannel/internal/platform/jobs"
	"greenchannel/internal/platform/pg"
)

// TaskRoute asks the routing engine to find an owner for a request. The
// routing package handles it; casework only enqueues it.
const TaskRoute = "routing:assign"

// RoutePayload is the payload of TaskRoute.
type RoutePayload struct {
	RequestID int64 `json:"request_id"`
	// Version is the request's version when routing was asked for: a
	// router that has already placed the request at this version knows the
	// task is done without reading the request.
	Version int `json:"version,omitempty"`
}

// NewRequest is what an enterprise files.
type NewRequest struct {
	Category     string
	Title        string
	Description  string
	Priority     Priority // "" = the category's default
	ContactName  string
	ContactPhone string
	// IdempotencyKey, when set, makes a retry return the first request.
	IdempotencyKey string
}

var phoneRE = regexp.MustCompile(`^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(-\d{1,6})?)$`)

func (in NewRequest) validate() error {
	var fields []fault.Field
	if t := strings.TrimSpace(in.Title); t == "" || utf8.RuneCountInString(t) > 120 {
		fields = append(fields, fault.Field{Name: "title", Message: "标题必填，最多120字 / a title of at most 120 characters is required"})
	}
	if utf8.RuneCountInString(in.Description) > 10000 {
		fields = append(fields, fault.Field{Name: "description", Message: "描述最多10000字 / at most 10,000 characters"})
	}
	if p := strings.ReplaceAll(in.ContactPhone, " ", ""); p != "" && !phoneRE.MatchString(p) {
		fields = append(fields, fault.Field{Name: "contact_phone", Message: "请填写手机号（11位）或座机号（如 028-82512345）/ a mainland mobile or landline number"})
	}
	if len(fields) > 0 {
		return &fault.Error{Kind: fault.Invalid, Msg: fields[0].Message, Fields: fields}
	}
	return nil
}

// Create files a request for the actor's enterprise. The request, its
// ticket number, the timeline entry, the routing task and what the Filers
// add are written in one transaction of two round trips: the reads, and
// the writes with the COMMIT. replayed is true when an earlier call with
// the same Idempotency-Key and body already created it.
func (s *Service) Create(ctx context.Context, a identity.Actor, in NewRequest) (r Request, replayed bool, err error) {
	if a.Role != identity.RoleEnterprise || a.EnterpriseID == 0 {
		return Request{}, false, fault.New(fault.Forbidden, "只有企业用户可以提交诉求 / only enterprise users file requests")
	}
	if err := in.validate(); err != nil {
		return Request{}, false, err
	}
	in.ContactPhone = strings.ReplaceAll(in.ContactPhone, " ", "")
	key := idem.Key{Scope: "request.create", UserID: a.UserID, Key: in.IdempotencyKey}
	if in.IdempotencyKey != "" {
		key.Body, _ = json.Marshal(in) // the key itself is part of in, which is fine: same key, same bytes
	}
	var filed *Request
	err = pg.RunInBatchTx(ctx, s.db, func(ctx context.Context, tx *pg.BatchTx) error {
		filed, replayed = nil, false
		// Microseconds, as stored: the answer shows what a later read shows.
		now := s.clock.Now().Truncate(time.Microsecond)
		req := &Request{EnterpriseID: a.EnterpriseID, CreatedBy: a.UserID, Title: strings.TrimSpace(in.Title),
			Description: in.Description, Priority: in.Priority, ContactName: in.ContactName, ContactPhone: in.ContactPhone,
			Status: Submitted, Version: 1, CreatedAt: now, UpdatedAt: now, Enterprise: new(identity.Enterprise)}
		var reads pg.Batch
		var cat Category
		var catFound, entFound bool
		queueCategory(&reads, in.Category, &cat, &catFound)
		// The id and the ticket number are drawn with the reads, so that
		// the timeline entry and the tasks can be written with the
		// request. A rolled-back filing leaves a gap in both.
		reads.QueryRow(func(row pgx.Row) error { return row.Scan(&req.ID, &req.TicketNo) }, nextTicketSQL, now.In(clock.Shanghai).Year())
		identity.QueueEnterpriseByID(&reads, a.EnterpriseID, req.Enterprise, &entFound)
		writers := make([]FilingWrites, len(s.filers))
		for i, f := range s.filers {
			writers[i] = f.QueueFiling(&reads, in.Category, in.Priority)
		}
		if err := tx.Send(ctx, &reads); err != nil {
			return err
		}
		if !catFound {
			return fault.InvalidField("category", "没有这个诉求类别 / unknown category")
		}
		if !entFound {
			return fault.New(fault.NotFound, "enterprise %d not found", a.EnterpriseID)
		}
		if in.IdempotencyKey != "" {
			prev, err := idem.Claim(ctx, tx.IDB(), key, now)
			if err != nil || prev != 0 {
				req.ID, replayed = prev, prev != 0
				filed = req
				return err
			}
		}
		req.Category = cat.Code
		if req.Priority == "" {
			req.Priority = cat.DefaultPriority
		}
		var writes pg.Batch
		writes.Exec(insertRequestSQL, req.ID, req.TicketNo, req.EnterpriseID, req.CreatedBy, req.Category, req.Title,
			req.Description, req.Priority, req.ContactName, req.ContactPhone, req.Status, req.Version, now,
			SearchTerms(req.Title, req.Description))
		if err := queueEvents(&writes, []Event{{RequestID: req.ID, At: now, ActorID: &a.UserID, Kind: "created",
			Data: map[string]any{"ticket_no": req.TicketNo, "category": req.Category, "priority": req.Priority}}}); err != nil {
			return err
		}
		if err := jobs.EnqueueIn(&writes, routingTask(req)); err != nil {
			return err
		}
		for _, write := range writers {
			if err := write(ctx, tx.IDB(), &writes, req); err != nil {
				return err
			}
		}
		if in.IdempotencyKey != "" {
			idem.Complete(&writes, key, req.ID)
		}
		if err := tx.Commit(ctx, &writes); err != nil {
			return err
		}
		filed = req
		return nil
	})
	if err != nil {
		return Request{}, false, err
	}
	if replayed {
		r, err = s.Get(ctx, a, filed.ID)
		return r, true, err
	}
	return *filed, false, nil
}

// queueCategory adds the read of the active category code into cat; found
// reports whether there is one.
func queueCategory(b *pg.Batch, code string, cat *Category, found *bool) {
	b.QueryRow(func(row pgx.Row) error {
		err := row.Scan(&cat.Code, &cat.NameZh, &cat.NameEn, &cat.DescriptionZh, &cat.AgencyKind, &cat.DefaultPriority,
			&cat.SLAKind, &cat.Weight, &cat.Active, &cat.Sort)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		*found = err == nil
		return err
	}, `SELECT code, name_zh, name_en, description_zh, agency_kind, default_priority, sla_kind, weight, active, sort
	FROM categories WHERE code = $1 AND active`, code)
}

// nextTicketSQL draws a new request's id and its ticket number. The number
// comes from the year's sequence: unique without a lock. It has at least
// six digits, as lpad alone would cut the millionth number to six and
// repeat an old one.
const nextTicketSQL = `SELECT nextval(pg_get_serial_sequence('requests', 'id')),
	  format('GC-%s-%s', $1::int, lpad(n::text, greatest(6, length(n::text)), '0'))
	FROM next_ticket_seq($1::int) AS n`

// insertRequestSQL files a request with the id and number drawn for it. The
// search terms are written, never read back: they are not in the model, so
// no list or page carries a hundred bigrams a row.
const insertRequestSQL = `INSERT INTO requests (id, ticket_no, enterprise_id, created_by, category, title, description, priority,
	  contact_name, contact_phone, status, version, created_at, updated_at, search_terms)
	OVERRIDING SYSTEM VALUE
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14)`

// routingTask asks the routing engine to (re)place the request. The key
// carries the version, so each routing need is one task, however often the
// outbox relays it.
func routingTask(r *Request) jobs.Task {
	return jobs.Task{
		Type: TaskRoute, Key: fmt.Sprintf("route:%d:%d", r.ID, r.Version),
		Payload: RoutePayload{RequestID: r.ID, Version: r.Version}, Queue: jobs.QueueCritical,
	}
}

// Get returns a request the actor may see, with its agency and assignee.
func (s *Service) Get(ctx context.Context, a identity.Actor, id int64) (Request, error) {
	r, err := loadRequest(ctx, s.db, id, false)
	if err != nil {
		return Request{}, err
	}
	if err := identity.Authorize(a, identity.Read, r.Resource()); err != nil {
		return Request{}, err
	}
	return *r, nil
}

// Lookup reads a request without an access check, for jobs and other
// domains acting inside their own transaction; forUpdate locks the row.
func Lookup(ctx context.Context, db bun.IDB, id int64, forUpdate bool) (*Request, error) {
	return loadRequest(ctx, db, id, forUpdate)
}

func loadRequest(ctx context.Context, db bun.IDB, id int64, forUpdate bool) (*Request, error) {
	r := new(Request)
	q := db.NewSelect().Model(r).Where("?TableAlias.id = $1")
	if forUpdate {
		q.For("UPDATE")
	} else {
		q.Relation("Agency").Relation("Assignee").Relation("Enterprise")
	}
	// Prepared: planning the three joins cost eight times running them, on
	// every read of a request.
	if err := pg.SelectPrepared(ctx, db, q, id); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fault.New(fault.NotFound, "request %d not found", id)
		}
		return nil, err
	}
	return r, nil
}

// Filter narrows List.
type Filter struct {
	Status      []Status
	Category    string
	AgencyID    int64
	AssigneeID  int64
	CreatedFrom *time.Time
	CreatedTo   *time.Time
	Q           string
	BeforeID    int64 // cursor: requests older than this id
	Limit       int
}

// List returns the requests the actor may see, newest first. Paging by id
// keeps pages stable while new requests arrive.
func (s *Service) List(ctx context.Context, a identity.Actor, f Filter) ([]Request, bool, error) {
	limit := f.Limit
	if limit <= 0 || limit > 100 {
		limit = 50
	}
	switch a.Role {
	case identity.RoleEnterprise, identity.RoleOfficer, identity.RoleLead, identity.RoleOversight:
	default:
		return nil, false, fault.New(fault.Forbidden, "your role does not work with requests")
	}
	// query is the list's query into dest, with who holds each request:
	// a search runs it once per window of ids.
	query := func(dest *[]Request) *bun.SelectQuery {
		q := s.db.NewSelect().Model(dest).Relation("Agency").Relation("Assignee").OrderExpr("?TableAlias.id DESC")
		switch a.Role {
		case identity.RoleEnterprise:
			q.Where("?TableAlias.enterprise_id = ?", a.EnterpriseID)
		case identity.RoleOfficer, identity.RoleLead:
			q.Where("?TableAlias.agency_id = ?", a.AgencyID)
		}
		if f.BeforeID > 0 {
			q.Where("?TableAlias.id < ?", f.BeforeID)
		}
		if len(f.Status) > 0 {
			q.Where("?TableAlias.status IN (?)", bun.List(f.Status))
		}
		if f.Category != "" {
			q.Where("?TableAlias.category = ?", f.Category)
		}
		if f.AgencyID != 0 {
			q.Where("?TableAlias.agency_id = ?", f.AgencyID)
		}
		if f.AssigneeID != 0 {
			q.Where("?TableAlias.assignee_id = ?", f.AssigneeID)
		}
		if f.CreatedFrom != nil {
			q.Where("?TableAlias.created_at >= ?", *f.CreatedFrom)
		}
		if f.CreatedTo != nil {
			q.Where("?TableAlias.created_at < ?", *f.CreatedTo)
		}
		return q
	}
	if terms := QueryTerms(f.Q); len(terms) > 0 {
		return s.searchNewestFirst(ctx, query, terms, f.BeforeID, limit)
	}
	var out []Request
	if err := query(&out).Limit(int64(limit + 1)).Scan(ctx); err != nil {
		return nil, false, err
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

// searchNewestFirst runs a search in windows of ids, newest first. Asked
// for the whole table at once, PostgreSQL must fetch and sort every match
// of a common word before it can return the newest fifty; within a window
// the term index and the id range combine.
//
// The first, small window leaves the term index out and checks the terms
// row by row, newest first: a common word fills the page there at once.
// The planner cannot see that on its own, because it takes a word's
// bigrams (劳动, 仲裁) as independent and so expects a common phrase to be
// rare; in an agency's scope it would then read the index's whole list
// for the phrase, a hundred thousand entries, for every page. Later
// windows use the index and double in size, so a rare word reaches the
// oldest request in a few steps.
func (s *Service) searchNewestFirst(ctx context.Context, query func(*[]Request) *bun.SelectQuery, terms []string, before int64, limit int) ([]Request, bool, error) {
	hi := before
	if hi <= 0 {
		if err := s.db.NewSelect().Model((*Request)(nil)).ColumnExpr("coalesce(max(id), 0) + 1").Scan(ctx, &hi); err != nil {
			return nil, false, err
		}
	}
	var found []Request
	scan := func(lo int64, indexed bool) error {
		var rows []Request
		page := query(&rows)
		if indexed {
			page.Where("?TableAlias.search_terms @> ?", pgdialect.Array(terms))
		} else {
			matchRowByRow(page, terms)
		}
		err := page.Where("?TableAlias.id < ? AND ?TableAlias.id >= ?", hi, lo).
			Limit(int64(limit + 1 - len(found))).Scan(ctx)
		found, hi = append(found, rows...), lo
		return err
	}
	if err := scan(max(hi-max(s.limits.SearchWindow/5, 1), 0), false); err != nil {
		return nil, false, err
	}
	for window := s.limits.SearchWindow; hi > 1 && len(found) <= limit; window *= 2 {
		if err := scan(max(hi-window, 0), true); err != nil {
			return nil, false, err
		}
	}
	if len(found) > limit {
		return found[:limit], true, nil
	}
	return found, false, nil
}

// matchRowByRow checks the terms on each row in ways the term index does
// not cover. A Han term is among a request's terms exactly when its title
// or its description holds it (folding leaves Han characters as they are,
// and a run's pairs are its adjacent characters), and finding a substring
// costs a fraction of unpacking the terms array; other terms (folded Latin
// words) are looked up in the array.
func matchRowByRow(q *bun.SelectQuery, terms []string) {
	var other []string
	for _, t := range terms {
		if !allHan(t) {
			other = append(other, t)
			continue
		}
		q.Where("(strpos(?TableAlias.title, ?) > 0 OR strpos(?TableAlias.description, ?) > 0)", t, t)
	}
	if len(other) > 0 {
		q.Where("(?TableAlias.search_terms || '{}'::text[]) @> ?", pgdialect.Array(other))
	}
}

// Queue is the actor's work: an officer's assigned open requests, or a
// lead's whole agency pool, most urgent first.
func (s *Service) Queue(ctx context.Context, a identity.Actor) ([]Request, error) {
	var out []Request
	q := s.db.NewSelect().Model(&out).Relation("Agency").Relation("Assignee").
		Where("?TableAlias.status IN (?)", bun.List([]Status{Submitted, Assigned, InProgress, WaitingEnterprise})).
		OrderExpr("CASE ?TableAlias.priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END, ?TableAlias.created_at").
		Limit(500)
	switch a.Role {
	case identity.RoleOfficer:
		q.Where("?TableAlias.assignee_id = ?", a.UserID)
	case identity.RoleLead:
		q.Where("?TableAlias.agency_id = ?", a.AgencyID)
	default:
		return nil, fault.New(fault.Forbidden, "only officers and agency leads have a queue")
	}
	err := q.Scan(ctx)
	return out, err
}

// Categories lists the active categories.
func (s *Service) Categories(ctx context.Context) ([]Category, error) {
	var out []Category
	err := s.db.NewSelect().Model(&out).Where("active").OrderExpr("sort, code").Scan(ctx)
	return out, err
}

func addEvent(ctx context.Context, tx bun.IDB, requestID int64, at time.Time, actorID *int64, kind string, internal bool, data map[string]any) error {
	return AddEvents(ctx, tx, []Event{{RequestID: requestID, At: at, ActorID: actorID, Kind: kind, Internal: internal, Data: data}})
}

// AddEvents writes timeline entries in one statement (routing places
// requests in batches).
func AddEvents(ctx context.Context, tx bun.IDB, events []Event) error {
	if len(events) == 0 {
		return nil
	}
	args, err := eventArgs(events)
	if err != nil {
		return err
	}
	_, err = pg.ExecPrepared(ctx, tx, addEventsSQL, args...)
	return err
}

// queueEvents is AddEvents as one more statement of a batch.
func queueEvents(b *pg.Batch, events []Event) error {
	args, err := eventArgs(events)
	if err != nil {
		return err
	}
	b.Exec(addEventsSQL, args...)
	return nil
}

// eventArgs are addEventsSQL's column arrays for events.
func eventArgs(events []Event) ([]any, error) {
	n := len(events)
	ids, at, actors, kinds, internal, data := make([]int64, n), make([]time.Time, n), make([]*int64, n), make([]string, n), make([]bool, n), make([]string, n)
	for i, e := range events {
		if e.Data == nil {
			e.Data = map[string]any{}
		}
		b, err := json.Marshal(e.Data)
		if err != nil {
			return nil, fmt.Errorf("event %s of request %d: %w", e.Kind, e.RequestID, err)
		}
		ids[i], at[i], actors[i], kinds[i], internal[i], data[i] = e.RequestID, e.At, e.ActorID, e.Kind, e.Internal, string(b)
	}
	return []any{ids, at, actors, kinds, internal, data}, nil
}

// addEventsSQL writes timeline entries from one array per column: the same
// prepared statement for one entry or a routing batch of five hundred, whose
// VALUES list took longer to parse and plan than to insert.
const addEventsSQL = `INSERT INTO request_events (request_id, at, actor_id, kind, internal, data)
	SELECT r, a, u, k, i, d::jsonb
	FROM unnest($1::bigint[], $2::timestamptz[], $3::bigint[], $4::text[], $5::bool[], $6::text[]) AS x(r, a, u, k, i, d)`

// AddEvent writes a timeline entry for another domain (routing, SLA)
// inside its transaction.
func AddEvent(ctx context.Context, tx bun.IDB, requestID int64, at time.Time, actorID *int64, kind string, internal bool, data map[string]any) error {
	return addEvent(ctx, tx, requestID, at, actorID, kind, internal, data)
}

// Reroute takes the request from its officer and hands it back to routing
// within the same agency. The officer is recorded as having declined it, so
// the engine offers it to someone else. The SLA engine calls it when a
// policy reassigns on escalation; a request nobody holds, or one no longer
// being worked on, is left alone.
func Reroute(ctx context.Context, tx bun.IDB, requestID int64, at time.Time, why string) error {
	r, err := loadRequest(ctx, tx, requestID, true)
	if err != nil {
		return err
	}
	if r.AssigneeID == nil || (r.Status != Assigned && r.Status != InProgress) {
		return nil
	}
	officer := *r.AssigneeID
	if _, err := tx.NewRaw(`INSERT INTO request_declines (request_id, user_id, reason, at) VALUES (?, ?, ?, ?)
		ON CONFLICT DO NOTHING`, r.ID, officer, why, at).Exec(ctx); err != nil {
		return err
	}
	r.Status, r.AssigneeID, r.Version, r.UpdatedAt = Submitted, nil, r.Version+1, at
	if _, err := tx.NewUpdate().Model(r).Column("status", "assignee_id", "version", "updated_at").WherePK().Exec(ctx); err != nil {
		return err
	}
	if err := addEvent(ctx, tx, r.ID, at, nil, "unassigned", false, map[string]any{"officer_id": officer, "why": why}); err != nil {
		return err
	}
	return jobs.Enqueue(ctx, tx, routingTask(r))
}
