// Package api is generated from openapi.yaml by oapi-codegen: the types, the
// strict Echo server interface and the embedded spec. Do not edit api.gen.go;
// change openapi.yaml and run `go generate ./api`.
package api

//go:generate go tool oapi-codegen -config oapi-codegen.yaml ../openapi.yaml
