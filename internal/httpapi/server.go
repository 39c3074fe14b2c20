// Package httpapi implements the REST API described by openapi.yaml: each
// handler decodes the generated request type, calls one domain method and
// encodes the result. Business rules live in the domain packages; errors are
// mapped to problems in errors.go and rendered by httpx's error handler.
package httpapi

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"greenchannel/api"
	"greenchannel/internal/casework"
	"greenchannel/internal/identity"
	"greenchannel/internal/inspection"
	"greenchannel/internal/oversight"
	"greenchannel/internal/platform/httpx"
	"greenchannel/internal/routing"
	"greenchannel/internal/sla"
)

// Deps are the services the handlers call.
type Deps struct {
	Version string
	// Ready checks each dependency; a nil error means it is fine.
	Ready      func(ctx context.Context) map[string]error
	Identity   *identity.Service
	Casework   *casework.Service
	Routing    *routing.Engine
	SLA        *sla.Service
	Inspection *inspection.Service
	Oversight  *oversight.Service
	DB         bun.IDB          // for small reads that have no service of their own (notifications)
	Now        func() time.Time // the clock, for timestamps the handler writes
}

// Server implements api.StrictServerInterface.
type Server struct {
	deps Deps
}

// New returns the API server.
func New(deps Deps) *Server { return &Server{deps: deps} }

var _ api.StrictServerInterface = (*Server)(nil)

// GetHealthz answers while the process runs.
func (s *Server) GetHealthz(ctx context.Context, _ api.GetHealthzRequestObject) (api.GetHealthzResponseObject, error) {
	return api.GetHealthz200JSONResponse{Status: api.Ok, Version: &s.deps.Version, Checks: map[string]string{}}, nil
}

// GetReadyz answers 200 only when every dependency is usable.
func (s *Server) GetReadyz(ctx context.Context, _ api.GetReadyzRequestObject) (api.GetReadyzResponseObject, error) {
	checks := map[string]string{}
	var failed []string
	for name, err := range s.deps.Ready(ctx) {
		if err != nil {
			checks[name] = err.Error()
			failed = append(failed, name+": "+err.Error())
			continue
		}
		checks[name] = "ok"
	}
	if len(failed) > 0 {
		sort.Strings(failed)
		p := httpx.Unavailable("Not ready: " + strings.Join(failed, "; "))
		p.Extra = map[string]any{"checks": checks}
		return nil, p
	}
	return api.GetReadyz200JSONResponse{Status: api.Ok, Version: &s.deps.Version, Checks: checks}, nil
}
