package httpapi

import (
	"context"

	"greenchannel/api"
	"greenchannel/internal/identity"
)

// ListTowns lists the district's towns.
func (s *Server) ListTowns(ctx context.Context, _ api.ListTownsRequestObject) (api.ListTownsResponseObject, error) {
	towns, err := s.deps.Identity.Towns(ctx)
	if err != nil {
		return nil, err
	}
	out := api.ListTowns200JSONResponse{Items: make([]api.Town, len(towns))}
	for i, t := range towns {
		out.Items[i] = api.Town{Code: t.Code, Name: t.Name}
	}
	return out, nil
}

// ListAgencies lists agencies.
func (s *Server) ListAgencies(ctx context.Context, req api.ListAgenciesRequestObject) (api.ListAgenciesResponseObject, error) {
	after, err := decodeIDCursor(req.Params.Cursor)
	if err != nil {
		return nil, err
	}
	f := identity.AgencyFilter{Page: identity.Page{AfterID: after, Limit: limitOf(req.Params.Limit)}}
	if req.Params.Kind != nil {
		f.Kind = identity.AgencyKind(*req.Params.Kind)
	}
	items, more, err := s.deps.Identity.ListAgencies(ctx, actor(ctx), f)
	if err != nil {
		return nil, err
	}
	out := api.ListAgencies200JSONResponse{Items: make([]api.Agency, len(items))}
	for i, a := range items {
		out.Items[i] = agencyOut(a)
	}
	if len(items) > 0 {
		out.NextCursor = encodeIDCursor(more, items[len(items)-1].ID)
	}
	return out, nil
}

// CreateAgency creates an agency.
func (s *Server) CreateAgency(ctx context.Context, req api.CreateAgencyRequestObject) (api.CreateAgencyResponseObject, error) {
	kind := identity.AgencyKind(req.Body.Kind)
	a, err := s.deps.Identity.SaveAgency(ctx, actor(ctx), 0, identity.AgencyInput{
		Code: &req.Body.Code, Name: &req.Body.Name, Kind: &kind, Towns: req.Body.Towns,
	})
	if err != nil {
		return nil, err
	}
	return api.CreateAgency201JSONResponse(agencyOut(a)), nil
}

// GetAgency returns an agency.
func (s *Server) GetAgency(ctx context.Context, req api.GetAgencyRequestObject) (api.GetAgencyResponseObject, error) {
	a, err := s.deps.Identity.Agency(ctx, actor(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	return api.GetAgency200JSONResponse(agencyOut(a)), nil
}

// UpdateAgency changes an agency.
func (s *Server) UpdateAgency(ctx context.Context, req api.UpdateAgencyRequestObject) (api.UpdateAgencyResponseObject, error) {
	a, err := s.deps.Identity.SaveAgency(ctx, actor(ctx), req.Id, identity.AgencyInput{
		Name: req.Body.Name, Towns: req.Body.Towns, Active: req.Body.Active,
	})
	if err != nil {
		return nil, err
	}
	return api.UpdateAgency200JSONResponse(agencyOut(a)), nil
}

// ListUsers lists users.
func (s *Server) ListUsers(ctx context.Context, req api.ListUsersRequestObject) (api.ListUsersResponseObject, error) {
	after, err := decodeIDCursor(req.Params.Cursor)
	if err != nil {
		return nil, err
	}
	f := identity.UserFilter{Page: identity.Page{AfterID: after, Limit: limitOf(req.Params.Limit)}}
	if req.Params.Username != nil {
		f.Username = *req.Params.Username
	}
	if req.Params.Role != nil {
		f.Role = identity.Role(*req.Params.Role)
	}
	if req.Params.AgencyId != nil {
		f.AgencyID = *req.Params.AgencyId
	}
	items, more, err := s.deps.Identity.ListUsers(ctx, actor(ctx), f)
	if err != nil {
		return nil, err
	}
	out := api.ListUsers200JSONResponse{Items: make([]api.User, len(items))}
	for i, u := range items {
		out.Items[i] = userOut(u)
	}
	if len(items) > 0 {
		out.NextCursor = encodeIDCursor(more, items[len(items)-1].ID)
	}
	return out, nil
}

// CreateUser creates a user.
func (s *Server) CreateUser(ctx context.Context, req api.CreateUserRequestObject) (api.CreateUserResponseObject, error) {
	b := req.Body
	role := identity.Role(b.Role)
	u, err := s.deps.Identity.SaveUser(ctx, actor(ctx), 0, identity.UserInput{
		Username: &b.Username, DisplayName: &b.DisplayName, Role: &role, Password: &b.Password,
		AgencyID: b.AgencyId, EnterpriseID: b.EnterpriseId, Phone: b.Phone,
	})
	if err != nil {
		return nil, err
	}
	return api.CreateUser201JSONResponse(userOut(u)), nil
}

// GetUser returns a user.
func (s *Server) GetUser(ctx context.Context, req api.GetUserRequestObject) (api.GetUserResponseObject, error) {
	u, err := s.deps.Identity.User(ctx, actor(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	return api.GetUser200JSONResponse(userOut(u)), nil
}

// UpdateUser changes a user.
func (s *Server) UpdateUser(ctx context.Context, req api.UpdateUserRequestObject) (api.UpdateUserResponseObject, error) {
	b := req.Body
	in := identity.UserInput{DisplayName: b.DisplayName, AgencyID: b.AgencyId, EnterpriseID: b.EnterpriseId, Phone: b.Phone, Disabled: b.Disabled}
	if b.Role != nil {
		r := identity.Role(*b.Role)
		in.Role = &r
	}
	u, err := s.deps.Identity.SaveUser(ctx, actor(ctx), req.Id, in)
	if err != nil {
		return nil, err
	}
	return api.UpdateUser200JSONResponse(userOut(u)), nil
}

// ResetPassword sets a user's password.
func (s *Server) ResetPassword(ctx context.Context, req api.ResetPasswordRequestObject) (api.ResetPasswordResponseObject, error) {
	if _, err := s.deps.Identity.SaveUser(ctx, actor(ctx), req.Id, identity.UserInput{Password: &req.Body.Password}); err != nil {
		return nil, err
	}
	return api.ResetPassword204Response{}, nil
}

// SetOfficerProfile sets an officer's routing profile.
func (s *Server) SetOfficerProfile(ctx context.Context, req api.SetOfficerProfileRequestObject) (api.SetOfficerProfileResponseObject, error) {
	b := req.Body
	in := identity.OfficerInput{Skills: b.Skills, Capacity: b.Capacity, OnDuty: b.OnDuty}
	if b.Towns != nil {
		in.Towns = *b.Towns
	}
	p, err := s.deps.Identity.SetOfficerProfile(ctx, actor(ctx), req.Id, in)
	if err != nil {
		return nil, err
	}
	return api.SetOfficerProfile200JSONResponse(*officerOut(&p)), nil
}

// ListEnterprises lists enterprises.
func (s *Server) ListEnterprises(ctx context.Context, req api.ListEnterprisesRequestObject) (api.ListEnterprisesResponseObject, error) {
	after, err := decodeIDCursor(req.Params.Cursor)
	if err != nil {
		return nil, err
	}
	f := identity.EnterpriseFilter{Page: identity.Page{AfterID: after, Limit: limitOf(req.Params.Limit)}, NoDisturb: req.Params.NoDisturb}
	if req.Params.Q != nil {
		f.Q = *req.Params.Q
	}
	if req.Params.Town != nil {
		f.Town = *req.Params.Town
	}
	items, more, err := s.deps.Identity.ListEnterprises(ctx, actor(ctx), f)
	if err != nil {
		return nil, err
	}
	out := api.ListEnterprises200JSONResponse{Items: make([]api.Enterprise, len(items))}
	for i, e := range items {
		out.Items[i] = enterpriseOut(e)
	}
	if len(items) > 0 {
		out.NextCursor = encodeIDCursor(more, items[len(items)-1].ID)
	}
	return out, nil
}

// CreateEnterprise registers an enterprise.
func (s *Server) CreateEnterprise(ctx context.Context, req api.CreateEnterpriseRequestObject) (api.CreateEnterpriseResponseObject, error) {
	b := req.Body
	var grade *string
	if b.Grade != nil {
		g := string(*b.Grade)
		grade = &g
	}
	e, err := s.deps.Identity.SaveEnterprise(ctx, actor(ctx), 0, identity.EnterpriseInput{
		USCC: &b.Uscc, Name: &b.Name, Town: b.Town, Industry: b.Industry, Address: b.Address,
		ContactName: b.ContactName, ContactPhone: b.ContactPhone, Grade: grade, CheckOverride: b.CheckOverrideReason,
	})
	if err != nil {
		return nil, err
	}
	return api.CreateEnterprise201JSONResponse(enterpriseOut(e)), nil
}

// GetEnterprise returns an enterprise.
func (s *Server) GetEnterprise(ctx context.Context, req api.GetEnterpriseRequestObject) (api.GetEnterpriseResponseObject, error) {
	e, err := s.deps.Identity.Enterprise(ctx, actor(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	return api.GetEnterprise200JSONResponse(enterpriseOut(e)), nil
}

// UpdateEnterprise changes an enterprise.
func (s *Server) UpdateEnterprise(ctx context.Context, req api.UpdateEnterpriseRequestObject) (api.UpdateEnterpriseResponseObject, error) {
	b := req.Body
	var grade *string
	if b.Grade != nil {
		g := string(*b.Grade)
		grade = &g
	}
	e, err := s.deps.Identity.SaveEnterprise(ctx, actor(ctx), req.Id, identity.EnterpriseInput{
		Name: b.Name, Town: b.Town, Industry: b.Industry, Address: b.Address,
		ContactName: b.ContactName, ContactPhone: b.ContactPhone, Grade: grade,
	})
	if err != nil {
		return nil, err
	}
	return api.UpdateEnterprise200JSONResponse(enterpriseOut(e)), nil
}

// SetNoDisturb changes an enterprise's no-disturb listing.
func (s *Server) SetNoDisturb(ctx context.Context, req api.SetNoDisturbRequestObject) (api.SetNoDisturbResponseObject, error) {
	b := req.Body
	in := identity.NoDisturbInput{On: b.NoDisturb}
	if b.Basis != nil {
		in.Basis = *b.Basis
	}
	if b.From != nil {
		t := b.From.Time
		in.From = &t
	}
	if b.To != nil {
		t := b.To.Time
		in.To = &t
	}
	e, err := s.deps.Identity.SetNoDisturb(ctx, actor(ctx), req.Id, in)
	if err != nil {
		return nil, err
	}
	return api.SetNoDisturb200JSONResponse(enterpriseOut(e)), nil
}
