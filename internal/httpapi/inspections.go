package httpapi

import (
	"bytes"
	"context"

	openapi_types "github.com/oapi-codegen/runtime/types"

	"greenchannel/api"
	"greenchannel/internal/inspection"
)

// ListInspectionItems lists the items the caller may use.
func (s *Server) ListInspectionItems(ctx context.Context, _ api.ListInspectionItemsRequestObject) (api.ListInspectionItemsResponseObject, error) {
	items, err := s.deps.Inspection.Items(ctx, actor(ctx))
	if err != nil {
		return nil, err
	}
	out := api.ListInspectionItems200JSONResponse{Items: make([]api.InspectionItem, len(items))}
	for i, it := range items {
		out.Items[i] = api.InspectionItem{Code: it.Code, Name: it.Name, LegalBasis: it.LegalBasis, Sector: it.Sector,
			ListClass: api.InspectionItemListClass(it.ListClass), OffsiteCapable: it.OffsiteCapable, Status: api.InspectionItemStatus(it.Status)}
	}
	return out, nil
}

// CreateInspection runs the pre-checks and issues a code.
func (s *Server) CreateInspection(ctx context.Context, req api.CreateInspectionRequestObject) (api.CreateInspectionResponseObject, error) {
	b := req.Body
	in := inspection.IssueInput{USCC: b.Uscc, Items: b.Items, Mode: string(b.Mode), Kind: string(b.Kind),
		Trigger: deref(b.Trigger), TriggerRef: deref(b.TriggerRef), From: b.WindowFrom, To: b.WindowTo,
		Inspectors: b.Inspectors, OverrideReason: deref(b.OverrideReason)}
	if b.PlanId != nil {
		in.PlanID = *b.PlanId
	}
	if b.JointAgencyIds != nil {
		in.JointAgencies = *b.JointAgencyIds
	}
	i, err := s.deps.Inspection.Issue(ctx, actor(ctx), in)
	if err != nil {
		return nil, err
	}
	return api.CreateInspection201JSONResponse(s.inspectionOut(&i)), nil
}

// ListInspections lists inspections.
func (s *Server) ListInspections(ctx context.Context, req api.ListInspectionsRequestObject) (api.ListInspectionsResponseObject, error) {
	p := req.Params
	before, err := decodeIDCursor(p.Cursor)
	if err != nil {
		return nil, err
	}
	f := inspection.Filter{BeforeID: before, Limit: limitOf(p.Limit), Item: deref(p.Item), From: p.From, To: p.To,
		EnterpriseID: deref(p.EnterpriseId), AgencyID: deref(p.AgencyId)}
	if p.Status != nil {
		f.Status = string(*p.Status)
	}
	items, more, err := s.deps.Inspection.List(ctx, actor(ctx), f)
	if err != nil {
		return nil, err
	}
	out := api.ListInspections200JSONResponse{Items: make([]api.Inspection, len(items))}
	for i := range items {
		out.Items[i] = s.inspectionOut(&items[i])
	}
	if len(items) > 0 {
		out.NextCursor = encodeIDCursor(more, items[len(items)-1].ID)
	}
	return out, nil
}

// GetInspection returns an inspection.
func (s *Server) GetInspection(ctx context.Context, req api.GetInspectionRequestObject) (api.GetInspectionResponseObject, error) {
	i, err := s.deps.Inspection.Get(ctx, actor(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	return api.GetInspection200JSONResponse(s.inspectionOut(&i)), nil
}

// GetInspectionQRSVG renders the code as an SVG QR.
func (s *Server) GetInspectionQRSVG(ctx context.Context, req api.GetInspectionQRSVGRequestObject) (api.GetInspectionQRSVGResponseObject, error) {
	i, err := s.deps.Inspection.Get(ctx, actor(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	svg, err := s.deps.Inspection.QRSVG(i.Code)
	if err != nil {
		return nil, err
	}
	return api.GetInspectionQRSVG200ImagesvgXmlResponse{Body: bytes.NewReader(svg), ContentLength: int64(len(svg))}, nil
}

// GetInspectionQRPNG renders the code as a PNG QR.
func (s *Server) GetInspectionQRPNG(ctx context.Context, req api.GetInspectionQRPNGRequestObject) (api.GetInspectionQRPNGResponseObject, error) {
	i, err := s.deps.Inspection.Get(ctx, actor(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	png, err := s.deps.Inspection.QRPNG(i.Code, 512)
	if err != nil {
		return nil, err
	}
	return api.GetInspectionQRPNG200ImagepngResponse{Body: bytes.NewReader(png), ContentLength: int64(len(png))}, nil
}

// RecordInspection records the visit.
func (s *Server) RecordInspection(ctx context.Context, req api.RecordInspectionRequestObject) (api.RecordInspectionResponseObject, error) {
	b := req.Body
	in := inspection.RecordInput{Start: b.Start, End: b.End, Outcome: string(b.Outcome), RectifyDays: deref(b.RectifyDays)}
	if b.PenaltyAmount != nil {
		in.PenaltyAmount = float64(*b.PenaltyAmount)
	}
	if b.Documents != nil {
		in.Documents = *b.Documents
	}
	if b.Findings != nil {
		for _, f := range *b.Findings {
			in.Findings = append(in.Findings, map[string]any{"item": f.Item, "result": f.Result, "note": deref(f.Note)})
		}
	}
	i, err := s.deps.Inspection.Record(ctx, actor(ctx), req.Id, in)
	if err != nil {
		return nil, err
	}
	return api.RecordInspection200JSONResponse(s.inspectionOut(&i)), nil
}

// CancelInspection cancels a code.
func (s *Server) CancelInspection(ctx context.Context, req api.CancelInspectionRequestObject) (api.CancelInspectionResponseObject, error) {
	i, err := s.deps.Inspection.Cancel(ctx, actor(ctx), req.Id, req.Body.Reason)
	if err != nil {
		return nil, err
	}
	return api.CancelInspection200JSONResponse(s.inspectionOut(&i)), nil
}

// EvaluateInspection records the enterprise's rating.
func (s *Server) EvaluateInspection(ctx context.Context, req api.EvaluateInspectionRequestObject) (api.EvaluateInspectionResponseObject, error) {
	b := req.Body
	var tags []string
	if b.Tags != nil {
		tags = *b.Tags
	}
	ev, err := s.deps.Inspection.Evaluate(ctx, actor(ctx), req.Id, b.Rating, tags, deref(b.Comment), deref(b.Complaint))
	if err != nil {
		return nil, err
	}
	return api.EvaluateInspection201JSONResponse(evaluationOut(ev)), nil
}

// GetInspectionEvaluation returns the rating to the enterprise or oversight.
func (s *Server) GetInspectionEvaluation(ctx context.Context, req api.GetInspectionEvaluationRequestObject) (api.GetInspectionEvaluationResponseObject, error) {
	ev, err := s.deps.Inspection.Evaluation(ctx, actor(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	return api.GetInspectionEvaluation200JSONResponse(evaluationOut(ev)), nil
}

// VerifyInspectionCode answers a scan, for anyone.
func (s *Server) VerifyInspectionCode(ctx context.Context, req api.VerifyInspectionCodeRequestObject) (api.VerifyInspectionCodeResponseObject, error) {
	v, err := s.deps.Inspection.Verify(ctx, req.Code)
	if err != nil {
		return nil, err
	}
	out := api.VerifyInspectionCode200JSONResponse{Valid: v.Valid, Message: v.Reason}
	if v.Valid {
		out.Message = "有效的检查码 / a valid inspection code"
	}
	if i := v.Inspection; i != nil {
		out.Status, out.Kind, out.Mode = &i.Status, &i.Kind, &i.Mode
		out.WindowFrom, out.WindowTo = &i.WindowFrom, &i.WindowTo
		if i.Agency != nil {
			out.Agency = &i.Agency.Name
		}
		if i.Enterprise != nil {
			out.Enterprise = &i.Enterprise.Name
		}
		items := make([]struct {
			Code       string `json:"code"`
			LegalBasis string `json:"legal_basis"`
			Name       string `json:"name"`
		}, len(v.Items))
		for k, it := range v.Items {
			items[k].Code, items[k].LegalBasis, items[k].Name = it.Code, it.LegalBasis, it.Name
		}
		out.Items = &items
		people := make([]struct {
			Certificate string `json:"certificate"`
			Name        string `json:"name"`
		}, len(v.Inspectors))
		for k, p := range v.Inspectors {
			people[k].Certificate, people[k].Name = p.Certificate, p.Name
		}
		out.Inspectors = &people
	}
	return out, nil
}

// ConfirmInspectionCode records the inspectors' arrival.
func (s *Server) ConfirmInspectionCode(ctx context.Context, req api.ConfirmInspectionCodeRequestObject) (api.ConfirmInspectionCodeResponseObject, error) {
	i, err := s.deps.Inspection.Confirm(ctx, actor(ctx), req.Code)
	if err != nil {
		return nil, err
	}
	return api.ConfirmInspectionCode200JSONResponse(s.inspectionOut(&i)), nil
}

func (s *Server) inspectionOut(i *inspection.Inspection) api.Inspection {
	out := api.Inspection{Id: i.ID, Code: i.Code, VerifyUrl: s.deps.Inspection.VerifyURL(i.Code), Status: api.InspectionStatus(i.Status),
		Mode: i.Mode, Kind: i.Kind, Trigger: i.TriggerType, Items: i.ItemCodes, WindowFrom: i.WindowFrom, WindowTo: i.WindowTo,
		JointAgencyIds: &i.JointAgencyIDs, OverrideReason: i.OverrideReason, ConfirmedAt: i.ConfirmedAt, Outcome: i.Outcome,
		CancelReason: i.CancelReason, CreatedAt: i.CreatedAt, Inspectors: []api.UserRef{}, Warnings: []api.InspectionCheck{}}
	if i.Enterprise != nil {
		out.Enterprise = *enterpriseRef(i.Enterprise)
	}
	if i.Agency != nil {
		out.Agency = *agencyRef(i.Agency)
	}
	for k := range i.Inspectors {
		out.Inspectors = append(out.Inspectors, *userRef(&i.Inspectors[k]))
	}
	for _, c := range i.Checks {
		if c.Severity == "warn" || c.Overridden {
			overridden := c.Overridden
			data := c.Data
			out.Warnings = append(out.Warnings, api.InspectionCheck{Rule: c.Rule, Severity: api.InspectionCheckSeverity(c.Severity),
				MessageZh: c.MessageZh, MessageEn: c.MessageEn, Overridden: &overridden, Data: &data})
		}
	}
	if i.RectifyDue != nil {
		out.RectifyDue = &openapi_types.Date{Time: *i.RectifyDue}
	}
	if i.PenaltyAmount != nil {
		amount := float32(*i.PenaltyAmount)
		out.PenaltyAmount = &amount
	}
	return out
}

func evaluationOut(ev inspection.Evaluation) api.Evaluation {
	return api.Evaluation{Rating: ev.Rating, Tags: ev.Tags, Comment: ev.Comment, Complaint: ev.Complaint, CreatedAt: ev.CreatedAt}
}
