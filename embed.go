// Package greenchannel embeds the API contract, openapi.yaml, so the binary
// serves the exact file it was built from at /openapi.yaml.
package greenchannel

import _ "embed"

// OpenAPIYAML is the contents of openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPIYAML []byte
