package httpapi

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"greenchannel/api"
	"greenchannel/internal/casework"
	"greenchannel/internal/identity"
	"greenchannel/internal/platform/fault"
	"greenchannel/internal/sla"
)

// ListCategories lists the request categories.
func (s *Server) ListCategories(ctx context.Context, _ api.ListCategoriesRequestObject) (api.ListCategoriesResponseObject, error) {
	cats, err := s.deps.Casework.Categories(ctx)
	if err != nil {
		return nil, err
	}
	out := api.ListCategories200JSONResponse{Items: make([]api.Category, len(cats))}
	for i, c := range cats {
		emergency := c.SLAKind == "emergency"
		out.Items[i] = api.Category{Code: c.Code, NameZh: c.NameZh, NameEn: c.NameEn, DescriptionZh: c.DescriptionZh,
			AgencyKind: api.AgencyKind(c.AgencyKind), DefaultPriority: api.Priority(c.DefaultPriority), Emergency: &emergency}
	}
	return out, nil
}

// CreateRequest files a request.
func (s *Server) CreateRequest(ctx context.Context, req api.CreateRequestRequestObject) (api.CreateRequestResponseObject, error) {
	b := req.Body
	in := casework.NewRequest{Category: b.Category, Title: b.Title, Description: b.Description,
		ContactName: deref(b.ContactName), ContactPhone: deref(b.ContactPhone)}
	if b.Priority != nil {
		in.Priority = casework.Priority(*b.Priority)
	}
	if req.Params.IdempotencyKey != nil {
		in.IdempotencyKey = *req.Params.IdempotencyKey
	}
	r, _, err := s.deps.Casework.Create(ctx, actor(ctx), in)
	body, tag, err := s.tagged(ctx, &r, err)
	if err != nil {
		return nil, err
	}
	loc := fmt.Sprintf("/api/v1/requests/%d", r.ID)
	return api.CreateRequest201JSONResponse{Body: body,
		Headers: api.CreateRequest201ResponseHeaders{Location: &loc, ETag: tag}}, nil
}

// ListRequests lists the requests the caller may see.
func (s *Server) ListRequests(ctx context.Context, req api.ListRequestsRequestObject) (api.ListRequestsResponseObject, error) {
	p := req.Params
	before, err := decodeIDCursor(p.Cursor)
	if err != nil {
		return nil, err
	}
	f := casework.Filter{BeforeID: before, Limit: limitOf(p.Limit), CreatedFrom: p.CreatedFrom, CreatedTo: p.CreatedTo,
		Category: deref(p.Category), Q: deref(p.Q)}
	if p.Status != nil {
		for _, st := range *p.Status {
			f.Status = append(f.Status, casework.Status(st))
		}
	}
	if p.AgencyId != nil {
		f.AgencyID = *p.AgencyId
	}
	if p.AssigneeId != nil {
		f.AssigneeID = *p.AssigneeId
	}
	items, more, err := s.deps.Casework.List(ctx, actor(ctx), f)
	if err != nil {
		return nil, err
	}
	views, err := s.requestsOut(ctx, items)
	if err != nil {
		return nil, err
	}
	out := api.ListRequests200JSONResponse{Items: views}
	if len(items) > 0 {
		out.NextCursor = encodeIDCursor(more, items[len(items)-1].ID)
	}
	return out, nil
}

// GetRequest returns a request.
func (s *Server) GetRequest(ctx context.Context, req api.GetRequestRequestObject) (api.GetRequestResponseObject, error) {
	r, err := s.deps.Casework.Get(ctx, actor(ctx), req.Id)
	body, tag, err := s.tagged(ctx, &r, err)
	if err != nil {
		return nil, err
	}
	return api.GetRequest200JSONResponse{Body: body, Headers: api.GetRequest200ResponseHeaders{ETag: tag}}, nil
}

// ActOnRequest takes a step on a request.
func (s *Server) ActOnRequest(ctx context.Context, req api.ActOnRequestRequestObject) (api.ActOnRequestResponseObject, error) {
	b := req.Body
	in := casework.ActInput{Action: casework.Action(b.Action), Body: deref(b.Body), Reason: deref(b.Reason)}
	if b.TargetAgencyId != nil {
		in.TargetAgencyID = *b.TargetAgencyId
	}
	if b.AssigneeId != nil {
		in.AssigneeID = *b.AssigneeId
	}
	if req.Params.IfMatch != nil {
		v, err := parseETag(*req.Params.IfMatch)
		if err != nil {
			return nil, err
		}
		in.Version = &v
	}
	r, err := s.deps.Casework.Act(ctx, actor(ctx), req.Id, in)
	body, tag, err := s.tagged(ctx, &r, err)
	if err != nil {
		return nil, err
	}
	return api.ActOnRequest200JSONResponse{Body: body, Headers: api.ActOnRequest200ResponseHeaders{ETag: tag}}, nil
}

// PostRequestMessage writes a message or an internal note.
func (s *Server) PostRequestMessage(ctx context.Context, req api.PostRequestMessageRequestObject) (api.PostRequestMessageResponseObject, error) {
	internal := req.Body.Internal != nil && *req.Body.Internal
	r, err := s.deps.Casework.PostMessage(ctx, actor(ctx), req.Id, req.Body.Body, internal)
	body, tag, err := s.tagged(ctx, &r, err)
	if err != nil {
		return nil, err
	}
	return api.PostRequestMessage201JSONResponse{Body: body, Headers: api.PostRequestMessage201ResponseHeaders{ETag: tag}}, nil
}

// UploadAttachment stores the "file" part of a multipart upload.
func (s *Server) UploadAttachment(ctx context.Context, req api.UploadAttachmentRequestObject) (api.UploadAttachmentResponseObject, error) {
	for {
		part, err := req.Body.NextPart()
		if err == io.EOF {
			return nil, fault.InvalidField("file", "请选择要上传的文件 / send the file in a part named file")
		}
		if err != nil {
			return nil, fault.InvalidField("file", "the upload is not valid multipart/form-data")
		}
		if part.FormName() != "file" {
			continue
		}
		att, err := s.deps.Casework.Attach(ctx, actor(ctx), req.Id, part.FileName(), part)
		if err != nil {
			return nil, err
		}
		return api.UploadAttachment201JSONResponse(attachmentOut(att)), nil
	}
}

// ListAttachments lists a request's files.
func (s *Server) ListAttachments(ctx context.Context, req api.ListAttachmentsRequestObject) (api.ListAttachmentsResponseObject, error) {
	atts, err := s.deps.Casework.Attachments(ctx, actor(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	out := api.ListAttachments200JSONResponse{Items: make([]api.Attachment, len(atts))}
	for i, a := range atts {
		out.Items[i] = attachmentOut(a)
	}
	return out, nil
}

// DownloadAttachment streams a file with its sniffed type.
func (s *Server) DownloadAttachment(ctx context.Context, req api.DownloadAttachmentRequestObject) (api.DownloadAttachmentResponseObject, error) {
	att, f, err := s.deps.Casework.OpenAttachment(ctx, actor(ctx), req.Id, req.AttachmentId)
	if err != nil {
		return nil, err
	}
	return fileResponse{att: att, body: f}, nil
}

// fileResponse writes a stored file with its own content type, which the
// generated octet-stream response would overwrite.
type fileResponse struct {
	att  casework.Attachment
	body io.ReadCloser
}

func (r fileResponse) VisitDownloadAttachmentResponse(w http.ResponseWriter) error {
	defer r.body.Close()
	w.Header().Set("Content-Type", r.att.ContentType)
	w.Header().Set("Content-Length", strconv.FormatInt(r.att.Size, 10))
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": r.att.Filename}))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, err := io.Copy(w, r.body)
	return err
}

// GetRequestTimeline returns a request's events.
func (s *Server) GetRequestTimeline(ctx context.Context, req api.GetRequestTimelineRequestObject) (api.GetRequestTimelineResponseObject, error) {
	events, err := s.deps.Casework.Timeline(ctx, actor(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	out := api.GetRequestTimeline200JSONResponse{Items: make([]api.TimelineEvent, len(events))}
	for i, e := range events {
		internal := e.Internal
		out.Items[i] = api.TimelineEvent{Id: e.ID, At: e.At, Kind: e.Kind, Internal: &internal, Data: e.Data, Actor: userRef(e.Actor)}
	}
	return out, nil
}

// GiveRequestFeedback records the enterprise's rating.
func (s *Server) GiveRequestFeedback(ctx context.Context, req api.GiveRequestFeedbackRequestObject) (api.GiveRequestFeedbackResponseObject, error) {
	fb, err := s.deps.Casework.GiveFeedback(ctx, actor(ctx), req.Id, req.Body.Rating, deref(req.Body.Comment))
	if err != nil {
		return nil, err
	}
	return api.GiveRequestFeedback201JSONResponse{Rating: fb.Rating, Comment: fb.Comment, CreatedAt: fb.CreatedAt}, nil
}

// GetQueue returns the caller's work, the nearest SLA deadline first.
func (s *Server) GetQueue(ctx context.Context, _ api.GetQueueRequestObject) (api.GetQueueResponseObject, error) {
	items, err := s.deps.Casework.Queue(ctx, actor(ctx))
	if err != nil {
		return nil, err
	}
	views, err := s.requestsOut(ctx, items)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(views, func(i, j int) bool { return urgency(views[i]).Before(urgency(views[j])) })
	return api.GetQueue200JSONResponse{Items: views}, nil
}

// urgency is a request's nearest running deadline; paused or clockless
// requests sort last (in the order casework gave: priority, then age).
func urgency(r api.Request) time.Time {
	best := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	if r.Sla == nil {
		return best
	}
	for _, c := range []*api.SLAClock{r.Sla.Acknowledge, r.Sla.Resolution, r.Sla.NextResponse} {
		if c != nil && c.DueAt != nil && (c.State == api.Running || c.State == api.Breached) && c.DueAt.Before(best) {
			best = *c.DueAt
		}
	}
	return best
}

func (s *Server) requestsOut(ctx context.Context, rs []casework.Request) ([]api.Request, error) {
	ids := make([]int64, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	blocks, err := s.deps.SLA.Blocks(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]api.Request, len(rs))
	for i := range rs {
		out[i] = s.requestView(ctx, &rs[i], blocks)
	}
	return out, nil
}

// requestOut is one request with its SLA clocks.
func (s *Server) requestOut(ctx context.Context, r *casework.Request) (api.Request, error) {
	out, err := s.requestsOut(ctx, []casework.Request{*r})
	if err != nil {
		return api.Request{}, err
	}
	return out[0], nil
}

func (s *Server) requestView(ctx context.Context, r *casework.Request, blocks map[int64]sla.Block) api.Request {
	a := actor(ctx)
	allowed := casework.AllowedActions(a, r)
	names := make([]string, len(allowed))
	for i, x := range allowed {
		names[i] = string(x)
	}
	out := api.Request{
		Id: r.ID, TicketNo: r.TicketNo, Category: r.Category, Title: r.Title, Description: r.Description,
		Status: api.RequestStatus(r.Status), Priority: api.Priority(r.Priority), Version: r.Version,
		ContactName: &r.ContactName, ContactPhone: &r.ContactPhone,
		Agency: agencyRef(r.Agency), Assignee: userRef(r.Assignee), Resolution: r.Resolution,
		ReopenCount: r.ReopenCount, AllowedActions: names,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, AcceptedAt: r.AcceptedAt, ResolvedAt: r.ResolvedAt, ClosedAt: r.ClosedAt,
	}
	if r.Enterprise != nil {
		out.Enterprise = *enterpriseRef(r.Enterprise)
	} else {
		out.Enterprise = api.EnterpriseRef{Id: r.EnterpriseID}
	}
	if b, ok := blocks[r.ID]; ok {
		out.Sla = &api.SLA{Acknowledge: clockOut(b.Acknowledge), Resolution: clockOut(b.Resolution), NextResponse: clockOut(b.NextResponse)}
	}
	return out
}

func clockOut(v *sla.View) *api.SLAClock {
	if v == nil {
		return nil
	}
	out := &api.SLAClock{State: api.SLAClockState(v.State), DueAt: v.DueAt, RemainingMinutes: v.RemainingMinutes,
		TargetMinutes: v.TargetMinutes, Provisional: v.Provisional, PausedMinutes: v.PausedMinutes,
		OverPauseCap: &v.OverPauseCap, Cycle: &v.Cycle}
	out.Pauses = make([]struct {
		From   time.Time  `json:"from"`
		Reason string     `json:"reason"`
		To     *time.Time `json:"to,omitempty"`
	}, len(v.Pauses))
	for i, p := range v.Pauses {
		out.Pauses[i].From, out.Pauses[i].Reason, out.Pauses[i].To = p.From, p.Reason, p.To
	}
	return out
}

func attachmentOut(a casework.Attachment) api.Attachment {
	return api.Attachment{Id: a.ID, Filename: a.Filename, ContentType: a.ContentType, Size: a.Size, Sha256: a.SHA256, CreatedAt: a.CreatedAt}
}

func userRef(u *identity.User) *api.UserRef {
	if u == nil {
		return nil
	}
	return &api.UserRef{Id: u.ID, Username: u.Username, DisplayName: u.DisplayName}
}

func etag(version int) string { return `"` + strconv.Itoa(version) + `"` }

// tagged turns a domain call's result into the response body and its ETag.
func (s *Server) tagged(ctx context.Context, r *casework.Request, err error) (api.Request, *string, error) {
	if err != nil {
		return api.Request{}, nil, err
	}
	body, err := s.requestOut(ctx, r)
	if err != nil {
		return api.Request{}, nil, err
	}
	tag := etag(r.Version)
	return body, &tag, nil
}

func parseETag(s string) (int, error) {
	v := strings.Trim(strings.TrimPrefix(strings.TrimSpace(s), "W/"), `"`)
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, &fault.Error{Kind: fault.PreconditionFailed, Msg: "If-Match 不是本接口给出的 ETag / If-Match is not an ETag this API gave out"}
	}
	return n, nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
