package identity

import (
	"testing"

	"greenchannel/internal/platform/fault"
)

func TestPolicyHidesWhatIsNotYours(t *testing.T) {
	ent := Actor{UserID: 1, Role: RoleEnterprise, EnterpriseID: 10}
	officer := Actor{UserID: 2, Role: RoleOfficer, AgencyID: 100}
	lead := Actor{UserID: 3, Role: RoleLead, AgencyID: 100}
	inspector := Actor{UserID: 4, Role: RoleInspector, AgencyID: 200}
	oversight := Actor{UserID: 5, Role: RoleOversight, AgencyID: 300}
	admin := Actor{UserID: 6, Role: RoleAdmin}

	req := Resource{Kind: ResRequest, EnterpriseID: 10, AgencyID: 100, AssigneeID: 2}
	otherReq := Resource{Kind: ResRequest, EnterpriseID: 11, AgencyID: 101, AssigneeID: 9}
	insp := Resource{Kind: ResInspection, EnterpriseID: 10, AgencyID: 200}
	eval := Resource{Kind: ResEvaluation, EnterpriseID: 10, AgencyID: 200}

	for _, c := range []struct {
		name string
		a    Actor
		act  Action
		r    Resource
		want fault.Kind // 0 = allowed
	}{
		{"enterprise reads own request", ent, Read, req, 0},
		{"enterprise cannot see another's request", ent, Read, otherReq, fault.NotFound},
		{"officer works own assigned request", officer, Work, req, 0},
		{"officer may not lead", officer, Lead, req, fault.Forbidden},
		{"officer cannot see another agency's request", officer, Read, otherReq, fault.NotFound},
		{"lead works any of the agency's requests", lead, Work, Resource{Kind: ResRequest, AgencyID: 100, AssigneeID: 77}, 0},
		{"officer cannot work a colleague's request", officer, Work, Resource{Kind: ResRequest, AgencyID: 100, AssigneeID: 77}, fault.Forbidden},
		{"oversight reads every request", oversight, Read, otherReq, 0},
		{"oversight does not work requests", oversight, Work, req, fault.Forbidden},
		{"admin does not see requests", admin, Read, req, fault.NotFound},
		{"inspector works own agency's inspection", inspector, Work, insp, 0},
		{"inspector never sees the evaluation", inspector, Read, eval, fault.NotFound},
		{"enterprise rates its own inspection", ent, Work, eval, 0},
		{"oversight reads evaluations", oversight, Read, eval, 0},
		{"admin manages reference data", admin, Manage, Resource{Kind: ResReference}, 0},
		{"officer reads reference data", officer, Read, Resource{Kind: ResReference}, 0},
		{"officer cannot manage reference data", officer, Manage, Resource{Kind: ResReference}, fault.Forbidden},
		{"only oversight oversees", lead, Oversee, Resource{Kind: ResOversight}, fault.NotFound},
		{"lead answers own agency's order", lead, Lead, Resource{Kind: ResOrder, AgencyID: 100}, 0},
		{"nobody signed in sees nothing", Actor{}, Read, Resource{Kind: ResReference}, fault.NotFound},
	} {
		err := Authorize(c.a, c.act, c.r)
		if c.want == 0 && err != nil || c.want != 0 && !fault.Is(err, c.want) {
			t.Errorf("%s: got %v", c.name, err)
		}
	}
}
