package httpapi

import (
	"bytes"
	"context"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"greenchannel/api"
	"greenchannel/internal/identity"
	"greenchannel/internal/oversight"
	"greenchannel/internal/platform/export"
)

// format picks json, csv or xlsx from ?format= or the Accept header.
func format(ctx context.Context, param *string) string {
	if param != nil && *param != "" {
		return *param
	}
	accept, _ := ctx.Value(acceptKey{}).(string)
	switch {
	case strings.Contains(accept, "text/csv"):
		return "csv"
	case strings.Contains(accept, "spreadsheetml"):
		return "xlsx"
	}
	return "json"
}

// download is a CSV or XLSX file answer, usable by every operation that
// offers one (each generated interface needs its own Visit method).
type download struct {
	name, contentType string
	body              []byte
}

func (d download) write(w http.ResponseWriter) error {
	w.Header().Set("Content-Type", d.contentType)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": d.name}))
	w.Header().Set("Content-Length", strconv.Itoa(len(d.body)))
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(d.body)
	return err
}

func (d download) VisitListAlertsResponse(w http.ResponseWriter) error          { return d.write(w) }
func (d download) VisitGetInspectionReportResponse(w http.ResponseWriter) error { return d.write(w) }
func (d download) VisitGetRequestReportResponse(w http.ResponseWriter) error    { return d.write(w) }
func (d download) VisitDownloadSnapshotResponse(w http.ResponseWriter) error    { return d.write(w) }

func tableFile(f, name string, t export.Table) (download, error) {
	var buf bytes.Buffer
	if f == "xlsx" {
		if err := export.WriteXLSX(&buf, t); err != nil {
			return download{}, err
		}
		return download{name: name + export.XLSXExt, contentType: export.XLSXContentType, body: buf.Bytes()}, nil
	}
	if err := export.WriteCSV(&buf, t); err != nil {
		return download{}, err
	}
	return download{name: name + export.CSVExt, contentType: export.CSVContentType, body: buf.Bytes()}, nil
}

// ListAlerts lists alerts as JSON or CSV.
func (s *Server) ListAlerts(ctx context.Context, req api.ListAlertsRequestObject) (api.ListAlertsResponseObject, error) {
	p := req.Params
	before, err := decodeIDCursor(p.Cursor)
	if err != nil {
		return nil, err
	}
	f := oversight.AlertFilter{BeforeID: before, Limit: limitOf(p.Limit), Rule: deref(p.Rule), From: p.From, To: p.To, AgencyID: deref(p.AgencyId)}
	if p.Severity != nil {
		f.Severity = string(*p.Severity)
	}
	if p.Status != nil {
		f.Status = string(*p.Status)
	}
	if p.Enterprise != nil {
		code, err := identity.ParseUSCC("enterprise", *p.Enterprise)
		if err != nil {
			return nil, err
		}
		e, err := s.deps.Identity.EnterpriseByUSCC(ctx, s.deps.DB, code)
		if err != nil {
			return nil, err
		}
		f.EnterpriseID = e.ID
	}
	fmtName := format(ctx, (*string)(p.Format))
	if fmtName != "json" {
		f.Limit = 500
	}
	items, more, err := s.deps.Oversight.Alerts(ctx, actor(ctx), f)
	if err != nil {
		return nil, err
	}
	names, err := s.agencyNames(ctx)
	if err != nil {
		return nil, err
	}
	if fmtName != "json" {
		t := export.Table{Title: "预警", Headers: []string{"编号", "规则", "严重程度", "状态", "企业", "统一社会信用代码", "涉及机关", "检查", "诉求", "首次发现", "最近发现", "次数"}}
		for _, a := range items {
			ent, code := "", ""
			if a.Enterprise != nil {
				ent, code = a.Enterprise.Name, string(a.Enterprise.USCC)
			}
			var ags []string
			for _, id := range a.AgencyIDs {
				ags = append(ags, names[id].Name)
			}
			t.Rows = append(t.Rows, []any{a.ID, a.Rule, a.Severity, a.Status, ent, code, strings.Join(ags, "、"),
				joinIDs(a.InspectionIDs), joinIDs(a.RequestIDs), a.FirstSeen, a.LastSeen, a.Occurrences})
		}
		return tableFile("csv", "alerts", t)
	}
	out := api.ListAlerts200JSONResponse{Items: make([]api.Alert, len(items))}
	for i, a := range items {
		out.Items[i] = alertOut(a, names)
	}
	if len(items) > 0 {
		out.NextCursor = encodeIDCursor(more, items[len(items)-1].ID)
	}
	return out, nil
}

func joinIDs(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(parts, " ")
}

func (s *Server) agencyNames(ctx context.Context) (map[int64]api.AgencyRef, error) {
	var rows []struct {
		ID   int64  `bun:"id"`
		Name string `bun:"name"`
		Kind string `bun:"kind"`
	}
	if err := s.deps.DB.NewSelect().Table("agencies").Column("id", "name", "kind").Scan(ctx, &rows); err != nil {
		return nil, err
	}
	out := map[int64]api.AgencyRef{}
	for _, r := range rows {
		out[r.ID] = api.AgencyRef{Id: r.ID, Name: r.Name, Kind: api.AgencyKind(r.Kind)}
	}
	return out, nil
}

func alertOut(a oversight.Alert, names map[int64]api.AgencyRef) api.Alert {
	out := api.Alert{Id: a.ID, Rule: a.Rule, Severity: api.AlertSeverity(a.Severity), Status: api.AlertStatus(a.Status),
		Enterprise: enterpriseRef(a.Enterprise), InspectionIds: a.InspectionIDs, RequestIds: a.RequestIDs, FirstSeen: a.FirstSeen,
		LastSeen: a.LastSeen, Occurrences: a.Occurrences, Detail: a.Detail, DismissReason: a.DismissReason, Agencies: []api.AgencyRef{}}
	for _, id := range a.AgencyIDs {
		out.Agencies = append(out.Agencies, names[id])
	}
	return out
}

func (s *Server) handleAlert(ctx context.Context, id int64, action string, body *api.AlertAction) (api.Alert, error) {
	reason := ""
	if body != nil {
		reason = deref(body.Reason)
	}
	a, err := s.deps.Oversight.HandleAlert(ctx, actor(ctx), id, action, reason)
	if err != nil {
		return api.Alert{}, err
	}
	names, err := s.agencyNames(ctx)
	return alertOut(a, names), err
}

// AckAlert acknowledges an alert.
func (s *Server) AckAlert(ctx context.Context, req api.AckAlertRequestObject) (api.AckAlertResponseObject, error) {
	a, err := s.handleAlert(ctx, req.Id, "ack", req.Body)
	if err != nil {
		return nil, err
	}
	return api.AckAlert200JSONResponse(a), nil
}

// ResolveAlert resolves an alert.
func (s *Server) ResolveAlert(ctx context.Context, req api.ResolveAlertRequestObject) (api.ResolveAlertResponseObject, error) {
	a, err := s.handleAlert(ctx, req.Id, "resolve", req.Body)
	if err != nil {
		return nil, err
	}
	return api.ResolveAlert200JSONResponse(a), nil
}

// DismissAlert dismisses an alert.
func (s *Server) DismissAlert(ctx context.Context, req api.DismissAlertRequestObject) (api.DismissAlertResponseObject, error) {
	a, err := s.handleAlert(ctx, req.Id, "dismiss", req.Body)
	if err != nil {
		return nil, err
	}
	return api.DismissAlert200JSONResponse(a), nil
}

// IssueOrder sends a supervision order.
func (s *Server) IssueOrder(ctx context.Context, req api.IssueOrderRequestObject) (api.IssueOrderResponseObject, error) {
	b := req.Body
	o, err := s.deps.Oversight.IssueOrder(ctx, actor(ctx), oversight.OrderInput{AgencyID: b.AgencyId, AlertID: deref(b.AlertId),
		RequestID: deref(b.RequestId), InspectionID: deref(b.InspectionId), Instruction: b.Instruction, DueInWorkingDays: b.DueInWorkingDays})
	if err != nil {
		return nil, err
	}
	out, err := s.orderOut(ctx, o)
	if err != nil {
		return nil, err
	}
	return api.IssueOrder201JSONResponse(out), nil
}

// ListOrders lists orders.
func (s *Server) ListOrders(ctx context.Context, req api.ListOrdersRequestObject) (api.ListOrdersResponseObject, error) {
	status := ""
	if req.Params.Status != nil {
		status = string(*req.Params.Status)
	}
	orders, err := s.deps.Oversight.Orders(ctx, actor(ctx), status)
	if err != nil {
		return nil, err
	}
	out := api.ListOrders200JSONResponse{Items: make([]api.Order, len(orders))}
	for i, o := range orders {
		v, err := s.orderOut(ctx, o)
		if err != nil {
			return nil, err
		}
		out.Items[i] = v
	}
	return out, nil
}

// GetOrder returns an order with its history.
func (s *Server) GetOrder(ctx context.Context, req api.GetOrderRequestObject) (api.GetOrderResponseObject, error) {
	o, err := s.deps.Oversight.Order(ctx, actor(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	out, err := s.orderOut(ctx, o)
	if err != nil {
		return nil, err
	}
	return api.GetOrder200JSONResponse(out), nil
}

func (s *Server) orderStep(ctx context.Context, id int64, step string, body *api.OrderStep) (api.Order, error) {
	o, err := s.deps.Oversight.OrderStep(ctx, actor(ctx), id, step, deref(body.Text))
	if err != nil {
		return api.Order{}, err
	}
	return s.orderOut(ctx, o)
}

// RespondToOrder answers an order.
func (s *Server) RespondToOrder(ctx context.Context, req api.RespondToOrderRequestObject) (api.RespondToOrderResponseObject, error) {
	o, err := s.orderStep(ctx, req.Id, "respond", req.Body)
	if err != nil {
		return nil, err
	}
	return api.RespondToOrder200JSONResponse(o), nil
}

// AcceptOrder accepts an answer.
func (s *Server) AcceptOrder(ctx context.Context, req api.AcceptOrderRequestObject) (api.AcceptOrderResponseObject, error) {
	o, err := s.orderStep(ctx, req.Id, "accept", req.Body)
	if err != nil {
		return nil, err
	}
	return api.AcceptOrder200JSONResponse(o), nil
}

// ReturnOrder returns an answer.
func (s *Server) ReturnOrder(ctx context.Context, req api.ReturnOrderRequestObject) (api.ReturnOrderResponseObject, error) {
	o, err := s.orderStep(ctx, req.Id, "return", req.Body)
	if err != nil {
		return nil, err
	}
	return api.ReturnOrder200JSONResponse(o), nil
}

func (s *Server) orderOut(ctx context.Context, o oversight.Order) (api.Order, error) {
	events, err := s.deps.Oversight.OrderEvents(ctx, actor(ctx), o.ID)
	if err != nil {
		return api.Order{}, err
	}
	out := api.Order{Id: o.ID, AlertId: o.AlertID, RequestId: o.RequestID, InspectionId: o.InspectionID, Instruction: o.Instruction,
		IssuedAt: o.IssuedAt, DueAt: o.DueAt, Status: api.OrderStatus(o.Status), Response: o.Response, ReviewNote: o.ReviewNote,
		Overdue: o.OverdueAt != nil, Events: events}
	if o.Agency != nil {
		out.Agency = *agencyRef(o.Agency)
	}
	return out, nil
}

// GetInspectionReport returns the inspection figures as JSON, CSV or XLSX.
func (s *Server) GetInspectionReport(ctx context.Context, req api.GetInspectionReportRequestObject) (api.GetInspectionReportResponseObject, error) {
	group := "agency"
	if req.Params.GroupBy != nil {
		group = string(*req.Params.GroupBy)
	}
	rows, err := s.deps.Oversight.InspectionReport(ctx, actor(ctx), req.Params.From, req.Params.To, group)
	if err != nil {
		return nil, err
	}
	if f := format(ctx, (*string)(req.Params.Format)); f != "json" {
		return tableFile(f, "inspections-"+req.Params.From.Format("20060102"), oversight.InspectionTable(rows))
	}
	out := api.GetInspectionReport200JSONResponse{Items: make([]api.InspectionReportRow, len(rows))}
	for i, r := range rows {
		onsite, joint := r.Shares()
		out.Items[i] = api.InspectionReportRow{Key: r.Key, Name: r.Name, Inspections: r.Inspections, OnsiteShare: float32(onsite),
			JointShare: float32(joint), RepeatVisits: r.RepeatVisits, CapOverrides: r.CapOverrides, NoCodeScan: r.NoCodeScan,
			Rated: r.Rated, AverageRating: float32(r.AvgRating)}
	}
	return out, nil
}

// GetRequestReport returns the request figures for the oversight office.
func (s *Server) GetRequestReport(ctx context.Context, req api.GetRequestReportRequestObject) (api.GetRequestReportResponseObject, error) {
	group := "agency"
	if req.Params.GroupBy != nil {
		group = string(*req.Params.GroupBy)
	}
	rows, err := s.deps.Oversight.RequestReport(ctx, actor(ctx), s.deps.SLA, req.Params.From, req.Params.To, group)
	if err != nil {
		return nil, err
	}
	if f := format(ctx, (*string)(req.Params.Format)); f != "json" {
		return tableFile(f, "requests-"+req.Params.From.Format("20060102"), oversight.RequestTable(rows))
	}
	return api.GetRequestReport200JSONResponse(slaReportOut(rows)), nil
}

// GetEnterpriseBurden returns an enterprise's burden view.
func (s *Server) GetEnterpriseBurden(ctx context.Context, req api.GetEnterpriseBurdenRequestObject) (api.GetEnterpriseBurdenResponseObject, error) {
	code, err := identity.ParseUSCC("uscc", req.Uscc)
	if err != nil {
		return nil, err
	}
	b, err := s.deps.Oversight.EnterpriseBurden(ctx, actor(ctx), code)
	if err != nil {
		return nil, err
	}
	names, err := s.agencyNames(ctx)
	if err != nil {
		return nil, err
	}
	out := api.GetEnterpriseBurden200JSONResponse{Enterprise: enterpriseOut(b.Enterprise),
		Timeline: make([]api.BurdenEvent, len(b.Timeline)), Visits: make([]api.AgencyYear, len(b.Visits))}
	for i, e := range b.Timeline {
		out.Timeline[i] = api.BurdenEvent{Agency: e.Agency, At: e.At, Id: e.ID, Kind: api.BurdenEventKind(e.Kind), Status: e.Status, Title: e.Title}
	}
	for i, v := range b.Visits {
		out.Visits[i] = api.AgencyYear{Agency: v.Agency, AgencyId: v.AgencyID, Cap: v.Cap, Routine: v.Routine, Visits: v.Visits, Year: v.Year}
	}
	out.Alerts = []api.Alert{}
	for _, a := range b.Alerts {
		out.Alerts = append(out.Alerts, alertOut(a, names))
	}
	return out, nil
}

// ListSnapshots lists the monthly summaries.
func (s *Server) ListSnapshots(ctx context.Context, _ api.ListSnapshotsRequestObject) (api.ListSnapshotsResponseObject, error) {
	snaps, err := s.deps.Oversight.Snapshots(ctx, actor(ctx))
	if err != nil {
		return nil, err
	}
	out := api.ListSnapshots200JSONResponse{Items: make([]api.Snapshot, len(snaps))}
	for i, sn := range snaps {
		out.Items[i] = api.Snapshot{CreatedAt: sn.CreatedAt, Id: sn.ID, Kind: sn.Kind, Period: sn.Period}
	}
	return out, nil
}

// DownloadSnapshot returns a monthly summary workbook.
func (s *Server) DownloadSnapshot(ctx context.Context, req api.DownloadSnapshotRequestObject) (api.DownloadSnapshotResponseObject, error) {
	sn, body, err := s.deps.Oversight.SnapshotFile(ctx, actor(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	return download{name: fmt.Sprintf("%s-%s.xlsx", sn.Kind, sn.Period), contentType: export.XLSXContentType, body: body}, nil
}
