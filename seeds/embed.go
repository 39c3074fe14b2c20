// Package seeds holds the YAML reference data (always loaded) and demo data
// (loaded by `greenchannel seed --demo`), embedded into the binary.
package seeds

import "embed"

// FS holds reference/*.yaml and demo/*.yaml.
//
//go:embed reference demo
var FS embed.FS
