package identity

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// TownSeed, AgencySeed, EnterpriseSeed and UserSeed are the shapes of the
// YAML files under seeds/.
type TownSeed struct {
	Code string `yaml:"code"`
	Name string `yaml:"name"`
}

// AgencySeed is one agency in seeds/reference/agencies.yaml.
type AgencySeed struct {
	Code  string     `yaml:"code"`
	Name  string     `yaml:"name"`
	Kind  AgencyKind `yaml:"kind"`
	Towns []string   `yaml:"towns"`
}

// EnterpriseSeed is one enterprise in seeds/demo/enterprises.yaml.
type EnterpriseSeed struct {
	USCC         string `yaml:"uscc"`
	Name         string `yaml:"name"`
	Town         string `yaml:"town"`
	Industry     string `yaml:"industry"`
	Grade        string `yaml:"grade"`
	ContactName  string `yaml:"contact_name"`
	ContactPhone string `yaml:"contact_phone"`
}

// UserSeed is one user in seeds/demo/users.yaml.
type UserSeed struct {
	Username    string   `yaml:"username"`
	DisplayName string   `yaml:"display_name"`
	Role        Role     `yaml:"role"`
	Agency      string   `yaml:"agency"`     // agency code
	Enterprise  *int     `yaml:"enterprise"` // index into the enterprise seeds
	Skills      []string `yaml:"skills"`
	Capacity    int      `yaml:"capacity"`
}

// SeedReference upserts towns and agencies by code.
func SeedReference(ctx context.Context, tx bun.Tx, towns []TownSeed, agencies []AgencySeed) error {
	for _, t := range towns {
		if _, err := tx.NewRaw(`INSERT INTO towns (code, name) VALUES (?, ?)
			ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name`, t.Code, t.Name).Exec(ctx); err != nil {
			return fmt.Errorf("town %s: %w", t.Code, err)
		}
	}
	for _, a := range agencies {
		if _, err := tx.NewRaw(`INSERT INTO agencies (code, name, kind, towns) VALUES (?, ?, ?, ?)
			ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind, towns = EXCLUDED.towns`,
			a.Code, a.Name, a.Kind, pgdialect.Array(nonNil(a.Towns))).Exec(ctx); err != nil {
			return fmt.Errorf("agency %s: %w", a.Code, err)
		}
	}
	return nil
}

// SeedDemo inserts demo enterprises and users that do not exist yet; what a
// demo user changed since is left alone. All users get password.
func SeedDemo(ctx context.Context, tx bun.Tx, enterprises []EnterpriseSeed, users []UserSeed, password string) error {
	ids := make([]int64, len(enterprises))
	for i, e := range enterprises {
		code, err := ParseUSCC("uscc", e.USCC)
		if err != nil {
			return fmt.Errorf("enterprise %s: %w", e.USCC, err)
		}
		grade := e.Grade
		if grade == "" {
			grade = "B"
		}
		if err := tx.NewRaw(`INSERT INTO enterprises (uscc, name, town_code, industry, grade, contact_name, contact_phone)
			VALUES (?, ?, NULLIF(?, ''), ?, ?, ?, ?)
			ON CONFLICT (uscc) DO UPDATE SET uscc = EXCLUDED.uscc RETURNING id`,
			code, e.Name, e.Town, e.Industry, grade, e.ContactName, e.ContactPhone).Scan(ctx, &ids[i]); err != nil {
			return fmt.Errorf("enterprise %s: %w", e.USCC, err)
		}
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	for _, u := range users {
		var agencyID, enterpriseID *int64
		if u.Agency != "" {
			var id int64
			if err := tx.NewRaw("SELECT id FROM agencies WHERE code = ?", u.Agency).Scan(ctx, &id); err != nil {
				return fmt.Errorf("user %s: agency %s: %w", u.Username, u.Agency, err)
			}
			agencyID = &id
		}
		if u.Enterprise != nil {
			if *u.Enterprise < 0 || *u.Enterprise >= len(ids) {
				return fmt.Errorf("user %s: enterprise index %d out of range", u.Username, *u.Enterprise)
			}
			enterpriseID = &ids[*u.Enterprise]
		}
		var userID int64
		err := tx.NewRaw(`INSERT INTO users (username, display_name, role, password_hash, agency_id, enterprise_id)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (lower(username)) DO UPDATE SET username = users.username RETURNING id`,
			u.Username, u.DisplayName, u.Role, hash, agencyID, enterpriseID).Scan(ctx, &userID)
		if err != nil {
			return fmt.Errorf("user %s: %w", u.Username, err)
		}
		if u.Role == RoleOfficer || u.Role == RoleLead {
			capacity := u.Capacity
			if capacity == 0 {
				capacity = 10
			}
			if _, err := tx.NewRaw(`INSERT INTO officer_profiles (user_id, skills, capacity, on_duty, towns)
				VALUES (?, ?, ?, true, '{}') ON CONFLICT (user_id) DO NOTHING`, userID, pgdialect.Array(nonNil(u.Skills)), capacity).Exec(ctx); err != nil {
				return fmt.Errorf("officer %s: %w", u.Username, err)
			}
		}
	}
	return nil
}
