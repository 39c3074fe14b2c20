// Package migrations holds the numbered SQL migrations, embedded into the
// binary and applied by `greenchannel migrate up`.
package migrations

import "embed"

// FS holds every NNNN_name.tx.up.sql / .tx.down.sql pair.
//
//go:embed *.sql
var FS embed.FS
