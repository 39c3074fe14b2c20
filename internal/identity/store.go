package identity

import (
	"context"

	"github.com/uptrace/bun"
)

func (s *Service) userByUsername(ctx context.Context, db bun.IDB, username string) (*User, error) {
	u := new(User)
	err := db.NewSelect().Model(u).Relation("Agency").Relation("Enterprise").Relation("Officer").
		Where("lower(?TableAlias.username) = lower(?)", username).Scan(ctx)
	return u, err
}

func (s *Service) userByID(ctx context.Context, db bun.IDB, id int64) (*User, error) {
	u := new(User)
	err := db.NewSelect().Model(u).Relation("Agency").Relation("Enterprise").Relation("Officer").
		Where("?TableAlias.id = ?", id).Scan(ctx)
	return u, err
}
