package pg_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/uptrace/bun"

	"greenchannel/internal/identity"
	"greenchannel/internal/platform/pg"
	"greenchannel/internal/platform/pg/pgtest"
)

// The prepared helpers run in a database, a transaction or a connection,
// and SelectPrepared scans a bun model with its joined relation as Scan does.
func TestPreparedStatementsRunInADatabaseATransactionAndAConnection(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	var agencyID int64
	if err := db.NewRaw("INSERT INTO agencies (code, name, kind) VALUES ('t-court', '测试法院', 'court') RETURNING id").Scan(ctx, &agencyID); err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	for name, idb := range map[string]bun.IDB{"db": db, "tx": tx, "conn": conn} {
		username := "t-" + name
		if _, err := pg.ExecPrepared(ctx, idb, `INSERT INTO users (username, display_name, role, password_hash, agency_id)
			SELECT u, u, 'officer', 'x', $2 FROM unnest($1::text[]) AS u`, []string{username}, agencyID); err != nil {
			t.Fatalf("%s: exec: %v", name, err)
		}
		var u identity.User
		q := idb.NewSelect().Model(&u).Relation("Agency").Where("?TableAlias.username = $1")
		if err := pg.SelectPrepared(ctx, idb, q, username); err != nil {
			t.Fatalf("%s: select: %v", name, err)
		}
		if u.Username != username || u.Agency == nil || u.Agency.Name != "测试法院" {
			t.Fatalf("%s: scanned %+v with agency %+v", name, u, u.Agency)
		}
		var ids []int64
		if err := pg.ScanPrepared(ctx, idb, &ids, "SELECT id FROM users WHERE username = ANY($1)", []string{username, "nobody"}); err != nil || len(ids) != 1 || ids[0] != u.ID {
			t.Fatalf("%s: scan: %v %v", name, ids, err)
		}
		var none identity.User
		if err := pg.SelectPrepared(ctx, idb, idb.NewSelect().Model(&none).Where("?TableAlias.username = $1"), "nobody"); !errors.Is(err, sql.ErrNoRows) {
			t.Fatalf("%s: no row: %v", name, err)
		}
	}
}
