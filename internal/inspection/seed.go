package inspection

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"greenchannel/internal/platform/clock"
)

// Reference is seeds/reference/inspection.yaml.
type Reference struct {
	Items    []Item `yaml:"items"`
	BySector bool   `yaml:"agency_items_by_sector"`
	Caps     []struct {
		Scope string `yaml:"scope"`
		Grade string `yaml:"grade"`
		Max   int    `yaml:"max_per_year"`
	} `yaml:"caps"`
	Triggers []struct {
		Code   string `yaml:"code"`
		NameZh string `yaml:"name_zh"`
		NameEn string `yaml:"name_en"`
	} `yaml:"triggers"`
	Plans []struct {
		Agency     string   `yaml:"agency"`
		Year       int      `yaml:"year"`
		Kind       string   `yaml:"kind"`
		Title      string   `yaml:"title"`
		Items      []string `yaml:"items"`
		ApprovedBy string   `yaml:"approved_by"`
		Approved   string   `yaml:"approved"`
		Filed      string   `yaml:"filed"`
		Published  string   `yaml:"published"`
	} `yaml:"plans"`
}

// Certificate is one entry of seeds/demo/inspectors.yaml.
type Certificate struct {
	Username  string `yaml:"username"`
	Number    string `yaml:"number"`
	ValidFrom string `yaml:"valid_from"`
	ValidTo   string `yaml:"valid_to"`
}

// SeedReference upserts items, agency authority, caps, triggers and plans.
func SeedReference(ctx context.Context, tx bun.Tx, ref Reference) error {
	for _, it := range ref.Items {
		if it.Status == "" {
			it.Status = "published"
		}
		if _, err := tx.NewInsert().Model(&it).On("CONFLICT (code) DO UPDATE").
			Set("name = EXCLUDED.name, legal_basis = EXCLUDED.legal_basis, sector = EXCLUDED.sector, list_class = EXCLUDED.list_class").
			Set("offsite_capable = EXCLUDED.offsite_capable, first_offence_exempt = EXCLUDED.first_offence_exempt").
			ExcludeColumn("updated_at").Exec(ctx); err != nil {
			return fmt.Errorf("item %s: %w", it.Code, err)
		}
	}
	if ref.BySector {
		if _, err := tx.NewRaw(`INSERT INTO agency_items (agency_id, item_code)
			SELECT a.id, i.code FROM inspection_items i JOIN agencies a ON a.code = i.sector ON CONFLICT DO NOTHING`).Exec(ctx); err != nil {
			return err
		}
	}
	if n, err := tx.NewSelect().Table("inspection_caps").Count(ctx); err != nil {
		return err
	} else if n == 0 {
		for _, c := range ref.Caps {
			if _, err := tx.NewRaw(`INSERT INTO inspection_caps (scope, grade, max_per_year) VALUES (?, NULLIF(?, ''), ?)`,
				c.Scope, c.Grade, c.Max).Exec(ctx); err != nil {
				return err
			}
		}
	}
	for _, t := range ref.Triggers {
		if _, err := tx.NewRaw(`INSERT INTO inspection_triggers (code, name_zh, name_en) VALUES (?, ?, ?)
			ON CONFLICT (code) DO UPDATE SET name_zh = EXCLUDED.name_zh, name_en = EXCLUDED.name_en`, t.Code, t.NameZh, t.NameEn).Exec(ctx); err != nil {
			return err
		}
	}
	for _, p := range ref.Plans {
		if _, err := tx.NewRaw(`INSERT INTO inspection_plans (agency_id, year, kind, title, item_codes, approved_by, approved_at, filed_at, published_at)
			SELECT a.id, ?, ?, ?, ?, NULLIF(?, ''), NULLIF(?, '')::timestamptz, NULLIF(?, '')::timestamptz, NULLIF(?, '')::timestamptz
			FROM agencies a WHERE a.code = ? AND NOT EXISTS (SELECT 1 FROM inspection_plans WHERE title = ?)`,
			p.Year, p.Kind, p.Title, pgdialect.Array(p.Items), p.ApprovedBy, p.Approved, p.Filed, p.Published, p.Agency, p.Title).Exec(ctx); err != nil {
			return fmt.Errorf("plan %s: %w", p.Title, err)
		}
	}
	return nil
}

// SeedCertificates gives the demo inspectors their certificates.
func SeedCertificates(ctx context.Context, tx bun.Tx, certs []Certificate) error {
	for _, c := range certs {
		if _, err := tx.NewRaw(`INSERT INTO inspector_certificates (user_id, number, valid_from, valid_to)
			SELECT id, ?, ?, ? FROM users WHERE username = ? ON CONFLICT (user_id) DO NOTHING`,
			c.Number, c.ValidFrom, c.ValidTo, c.Username).Exec(ctx); err != nil {
			return fmt.Errorf("certificate %s: %w", c.Username, err)
		}
	}
	return nil
}

// SeedHistory writes a year of past inspections ending at now, once: a
// realistic spread with a few enterprises inspected too often (over their
// caps, repeat visits in one week) so the oversight screens have something
// true to show. History is written directly, as it happened, without the
// pre-checks of today.
func SeedHistory(ctx context.Context, tx bun.Tx, now time.Time, keys [][]byte) (int, error) {
	if n, err := tx.NewSelect().Table("inspections").Count(ctx); err != nil || n > 0 {
		return 0, err
	}
	var ents []int64
	if err := tx.NewRaw("SELECT id FROM enterprises ORDER BY id").Scan(ctx, &ents); err != nil || len(ents) < 10 {
		return 0, err
	}
	type team struct {
		agency     int64
		inspectors []int64
		items      []string
	}
	var teams []team
	for _, code := range []string{"market", "fire", "emergency", "environment"} {
		var t team
		if err := tx.NewRaw("SELECT id FROM agencies WHERE code = ?", code).Scan(ctx, &t.agency); err != nil {
			return 0, err
		}
		if err := tx.NewRaw("SELECT id FROM users WHERE agency_id = ? AND role = 'inspector' ORDER BY id", t.agency).Scan(ctx, &t.inspectors); err != nil {
			return 0, err
		}
		if err := tx.NewRaw("SELECT item_code FROM agency_items WHERE agency_id = ? ORDER BY 1", t.agency).Scan(ctx, &t.items); err != nil {
			return 0, err
		}
		if len(t.inspectors) >= 2 && len(t.items) > 0 {
			teams = append(teams, t)
		}
	}
	rng := rand.New(rand.NewPCG(2025, 11))
	n := 0
	add := func(ent int64, t team, at time.Time, outcome string) error {
		start := time.Date(at.Year(), at.Month(), at.Day(), 9+rng.IntN(6), 0, 0, 0, clock.Shanghai)
		items := []string{t.items[rng.IntN(len(t.items))]}
		var id int64
		if err := tx.NewRaw(`INSERT INTO inspections (code, enterprise_id, agency_id, created_by, item_codes, mode, kind, window_from, window_to,
			status, confirmed_at, started_at, ended_at, outcome, record, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, 'onsite', 'routine', ?, ?, 'recorded', ?, ?, ?, ?, '{"seeded": true}', ?, ?) RETURNING id`,
			SignCode(keys[0], drawRandom()), ent, t.agency, t.inspectors[0], pgdialect.Array(items), start.Add(-time.Hour), start.Add(8*time.Hour),
			start, start, start.Add(90*time.Minute), outcome, start.AddDate(0, 0, -3), start).Scan(ctx, &id); err != nil {
			return err
		}
		for _, u := range t.inspectors[:2] {
			if _, err := tx.NewRaw("INSERT INTO inspection_inspectors (inspection_id, user_id) VALUES (?, ?)", id, u).Exec(ctx); err != nil {
				return err
			}
		}
		n++
		return nil
	}
	outcomes := []string{"no_issue", "no_issue", "no_issue", "no_issue", "rectify", "no_issue", "case_opened"}
	// A normal year: most enterprises see one or two visits.
	for _, ent := range ents {
		for range 1 + rng.IntN(2) {
			at := now.AddDate(0, 0, -rng.IntN(330)-20)
			if err := add(ent, teams[rng.IntN(len(teams))], at, outcomes[rng.IntN(len(outcomes))]); err != nil {
				return n, err
			}
		}
	}
	// Three enterprises are visited far too often: market regulation five
	// times this year, two of them in one week, plus other agencies nearby.
	for k, ent := range ents[2:5] {
		base := now.AddDate(0, 0, -40-10*k)
		for j, days := range []int{0, 3, 45, 90, 150} {
			if err := add(ent, teams[0], base.AddDate(0, 0, -days), outcomes[j%3]); err != nil {
				return n, err
			}
		}
		if err := add(ent, teams[1], base.AddDate(0, 0, -5), "no_issue"); err != nil {
			return n, err
		}
		if err := add(ent, teams[2], base.AddDate(0, 0, -12), "no_issue"); err != nil {
			return n, err
		}
	}
	// Ratings from the enterprises that have users.
	if _, err := tx.NewRaw(`INSERT INTO inspection_evaluations (inspection_id, enterprise_id, author_id, rating, tags, comment, complaint, created_at)
		SELECT DISTINCT ON (i.id) i.id, i.enterprise_id, u.id,
		       CASE WHEN i.id % 9 = 0 THEN 2 ELSE 4 + (i.id % 2)::int END,
		       CASE WHEN i.id % 9 = 0 THEN ARRAY['重复检查'] ELSE '{}' END,
		       CASE WHEN i.id % 9 = 0 THEN '一周内第二次来查同样的事项' ELSE '检查规范，有指导意义' END,
		       i.id % 18 = 0, i.ended_at + interval '1 day'
		FROM inspections i JOIN users u ON u.enterprise_id = i.enterprise_id ORDER BY i.id, u.id`).Exec(ctx); err != nil {
		return n, err
	}
	return n, nil
}
