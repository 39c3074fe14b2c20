package inspection

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/uptrace/bun/dialect/pgdialect"

	"greenchannel/internal/identity"
	"greenchannel/internal/platform/pg"
)

// verifySQL reads everything the public page shows in one statement: the
// page is the most read thing in the system (every visit is scanned, often
// more than once). It runs prepared (pg.QueryRowPrepared): under a burst of scans,
// planning it cost more than running it and queued the backends on
// PostgreSQL's lock manager.
const verifySQL = `SELECT i.id, i.enterprise_id, i.agency_id, i.item_codes, i.mode, i.kind, i.status, i.window_from, i.window_to,
	  a.name AS agency, e.name AS enterprise,
	  (SELECT coalesce(json_agg(json_build_object('code', it.code, 'name', it.name, 'legal_basis', it.legal_basis) ORDER BY it.code), '[]')
	   FROM inspection_items it WHERE it.code = ANY(i.item_codes)) AS items,
	  (SELECT coalesce(json_agg(json_build_object('name', u.display_name, 'number', c.number) ORDER BY u.id), '[]')
	   FROM inspection_inspectors x JOIN users u ON u.id = x.user_id LEFT JOIN inspector_certificates c ON c.user_id = u.id
	   WHERE x.inspection_id = i.id) AS people
	FROM inspections i JOIN agencies a ON a.id = i.agency_id JOIN enterprises e ON e.id = i.enterprise_id
	WHERE i.code = $1`

// Verify checks a code for anyone who scanned it. A forged or altered code
// is refused before any lookup; the page of a genuine one comes from the
// cache when it is there (verifycache.go), and whether the code is valid
// is decided now, at each scan.
func (s *Service) Verify(ctx context.Context, raw string) (Verified, error) {
	code := NormalizeCode(raw)
	if !validCode(s.keys, code) {
		return Verified{Reason: "无效的检查码：不是本系统签发的 / not a code issued by this system"}, nil
	}
	page, ok, gen := s.verifyCache.Get(code)
	if !ok {
		var err error
		if page, err = s.readVerifyPage(ctx, code); err != nil {
			return Verified{}, err
		}
		if page == nil {
			return Verified{Reason: "查无此检查码 / no inspection has this code"}, nil
		}
		s.verifyCache.Put(code, page, gen)
	}
	v := *page // pages are shared: Valid and Reason are this scan's own
	i := v.Inspection
	now := s.clock.Now()
	switch {
	case i.Status == Cancelled:
		v.Reason = "该检查已取消 / this inspection was cancelled"
	case now.After(i.WindowTo):
		v.Reason = "检查码已过期 / this code has expired"
	case now.Before(i.WindowFrom.Add(-24 * time.Hour)):
		v.Reason = "检查码尚未生效 / this code is not valid yet"
	default:
		v.Valid = true
	}
	return v, nil
}

// readVerifyPage reads what the page of code shows; nil when no inspection
// has the code.
func (s *Service) readVerifyPage(ctx context.Context, code string) (*Verified, error) {
	i := &Inspection{Code: code, Agency: &identity.Agency{}, Enterprise: &identity.Enterprise{}}
	var items, people []byte
	row, err := pg.QueryRowPrepared(ctx, s.db, verifySQL, code)
	if err != nil {
		return nil, err
	}
	err = row.Scan(&i.ID, &i.EnterpriseID, &i.AgencyID, pgdialect.Array(&i.ItemCodes), &i.Mode, &i.Kind,
		&i.Status, &i.WindowFrom, &i.WindowTo, &i.Agency.Name, &i.Enterprise.Name, &items, &people)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	i.Agency.ID, i.Enterprise.ID = i.AgencyID, i.EnterpriseID
	v := &Verified{Inspection: i}
	var its []struct {
		Code       string `json:"code"`
		Name       string `json:"name"`
		LegalBasis string `json:"legal_basis"`
	}
	if err := json.Unmarshal(items, &its); err != nil {
		return nil, err
	}
	for _, it := range its {
		v.Items = append(v.Items, Item{Code: it.Code, Name: it.Name, LegalBasis: it.LegalBasis})
	}
	var ps []struct {
		Name   string  `json:"name"`
		Number *string `json:"number"`
	}
	if err := json.Unmarshal(people, &ps); err != nil {
		return nil, err
	}
	for _, p := range ps {
		cert := ""
		if p.Number != nil {
			cert = *p.Number
		}
		v.Inspectors = append(v.Inspectors, struct{ Name, Certificate string }{MaskName(p.Name), cert})
	}
	return v, nil
}
