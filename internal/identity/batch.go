package identity

import (
	"database/sql"
	"errors"

	"github.com/jackc/pgx/v5"

	"greenchannel/internal/platform/pg"
)

// Reads of this package's rows that another package's transaction queues
// in its own batch (pg.Batch), to have them in the same round trip as its
// own reads.

// QueueEnterprise adds the read of the enterprise with credit code uscc
// into e, its row locked to the end of the transaction when lock is set;
// found reports whether there was one.
func QueueEnterprise(b *pg.Batch, uscc USCC, lock bool, e *Enterprise, found *bool) {
	query := enterpriseSQL + ` WHERE uscc = $1`
	if lock {
		query += " FOR NO KEY UPDATE"
	}
	queueEnterprise(b, e, found, query, string(uscc))
}

// QueueEnterpriseByID adds the read of enterprise id into e; found reports
// whether there was one.
func QueueEnterpriseByID(b *pg.Batch, id int64, e *Enterprise, found *bool) {
	queueEnterprise(b, e, found, enterpriseSQL+` WHERE id = $1`, id)
}

const enterpriseSQL = `SELECT id, uscc, name, town_code, industry, address, contact_name, contact_phone, grade, uscc_check_override,
	  no_disturb, no_disturb_from, no_disturb_to, no_disturb_basis, created_at, updated_at
	FROM enterprises`

func queueEnterprise(b *pg.Batch, e *Enterprise, found *bool, query string, arg any) {
	b.QueryRow(func(row pgx.Row) error {
		err := row.Scan(&e.ID, &e.USCC, &e.Name, &e.TownCode, &e.Industry, &e.Address, &e.ContactName, &e.ContactPhone, &e.Grade,
			&e.USCCCheckOverride, &e.NoDisturb, &e.NoDisturbFrom, &e.NoDisturbTo, &e.NoDisturbBasis, &e.CreatedAt, &e.UpdatedAt)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		*found = err == nil
		return err
	}, query, arg)
}

// QueueAgency adds the read of agency id into a.
func QueueAgency(b *pg.Batch, id int64, a *Agency) {
	b.QueryRow(func(row pgx.Row) error {
		return row.Scan(&a.ID, &a.Code, &a.Name, &a.Kind, &a.Towns, &a.Active, &a.CreatedAt, &a.UpdatedAt)
	}, `SELECT id, code, name, kind, towns, active, created_at, updated_at FROM agencies WHERE id = $1`, id)
}

// QueueUsers adds the read of the users with the given ids, by id, into
// users; their password hashes are left out.
func QueueUsers(b *pg.Batch, ids []int64, users *[]User) {
	b.Query(func(rows pgx.Rows) error {
		var u User
		err := rows.Scan(&u.ID, &u.Username, &u.DisplayName, &u.Role, &u.AgencyID, &u.EnterpriseID, &u.Phone, &u.DisabledAt,
			&u.CreatedAt, &u.UpdatedAt)
		*users = append(*users, u)
		return err
	}, `SELECT id, username, display_name, role, agency_id, enterprise_id, phone, disabled_at, created_at, updated_at
	FROM users WHERE id = ANY($1) ORDER BY id`, ids)
}
