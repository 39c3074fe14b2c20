package httpapi

import (
	openapi_types "github.com/oapi-codegen/runtime/types"

	"greenchannel/api"
	"greenchannel/internal/identity"
)

func agencyRef(a *identity.Agency) *api.AgencyRef {
	if a == nil {
		return nil
	}
	return &api.AgencyRef{Id: a.ID, Name: a.Name, Kind: api.AgencyKind(a.Kind)}
}

func enterpriseRef(e *identity.Enterprise) *api.EnterpriseRef {
	if e == nil {
		return nil
	}
	return &api.EnterpriseRef{Id: e.ID, Uscc: string(e.USCC), Name: e.Name}
}

func agencyOut(a identity.Agency) api.Agency {
	return api.Agency{Id: a.ID, Code: a.Code, Name: a.Name, Kind: api.AgencyKind(a.Kind), Towns: nonNilStrings(a.Towns), Active: a.Active}
}

func officerOut(p *identity.OfficerProfile) *api.OfficerProfile {
	if p == nil {
		return nil
	}
	towns := nonNilStrings(p.Towns)
	return &api.OfficerProfile{Skills: nonNilStrings(p.Skills), Capacity: p.Capacity, OnDuty: p.OnDuty, Towns: &towns}
}

func userOut(u identity.User) api.User {
	return api.User{
		Id: u.ID, Username: u.Username, DisplayName: u.DisplayName, Role: api.Role(u.Role),
		Phone: &u.Phone, Disabled: u.DisabledAt != nil,
		Agency: agencyRef(u.Agency), Enterprise: enterpriseRef(u.Enterprise), OfficerProfile: officerOut(u.Officer),
	}
}

func enterpriseOut(e identity.Enterprise) api.Enterprise {
	out := api.Enterprise{
		Id: e.ID, Uscc: string(e.USCC), Name: e.Name, Town: e.TownCode, Industry: e.Industry,
		Address: &e.Address, ContactName: &e.ContactName, ContactPhone: &e.ContactPhone,
		Grade: api.EnterpriseGrade(e.Grade), CheckOverrideReason: e.USCCCheckOverride,
		NoDisturb: e.NoDisturb, NoDisturbBasis: &e.NoDisturbBasis,
	}
	auth, cat := e.USCC.Authority(), e.USCC.Category()
	out.RegisteringAuthority, out.EntityCategory = &auth, &cat
	if e.NoDisturbFrom != nil {
		out.NoDisturbFrom = &openapi_types.Date{Time: *e.NoDisturbFrom}
	}
	if e.NoDisturbTo != nil {
		out.NoDisturbTo = &openapi_types.Date{Time: *e.NoDisturbTo}
	}
	return out
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
