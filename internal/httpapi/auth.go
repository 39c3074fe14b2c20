package httpapi

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"

	"greenchannel/api"
	"greenchannel/internal/identity"
	"greenchannel/internal/platform/httpx"
)

type (
	clientIPKey struct{}
	acceptKey   struct{}
)

// Authenticate reads the bearer token or the session cookie, puts the actor
// into the request context, and enforces CSRF for cookie-authenticated
// state changes. Bearer tokens are not sent by browsers on their own, so
// they need no CSRF token. Requests with no credentials pass through;
// RequireAuth (from the spec) decides whether that is allowed.
func Authenticate(svc *identity.Service) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			ctx := context.WithValue(req.Context(), clientIPKey{}, c.RealIP())
			ctx = context.WithValue(ctx, acceptKey{}, req.Header.Get(echo.HeaderAccept))
			var actor identity.Actor
			var err error
			if h := req.Header.Get(echo.HeaderAuthorization); h != "" {
				tok, ok := strings.CutPrefix(h, "Bearer ")
				if !ok {
					return httpx.Unauthorized("Use: Authorization: Bearer <access token>")
				}
				if actor, err = svc.Authenticate(ctx, strings.TrimSpace(tok)); err != nil {
					return err
				}
			} else if ck, cerr := req.Cookie(httpx.SessionCookie); cerr == nil && ck.Value != "" {
				var csrf string
				actor, csrf, err = svc.SessionActor(ctx, ck.Value)
				if err != nil {
					return err
				}
				if !safeMethod(req.Method) && !csrfMatches(c, csrf) {
					return httpx.NewProblem(http.StatusForbidden, "csrf", "CSRF token missing or wrong",
						"页面已过期，请刷新后重试 / this page is out of date; reload it and try again")
				}
				c.Set(httpx.CSRFKey, csrf)
			}
			if actor.UserID != 0 {
				ctx = identity.WithActor(ctx, actor)
				c.Set(httpx.ActorLogKey, actor.String())
			}
			c.SetRequest(req.WithContext(ctx))
			return next(c)
		}
	}
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

func csrfMatches(c echo.Context, want string) bool {
	got := c.Request().Header.Get("X-CSRF-Token")
	if got == "" {
		ct := c.Request().Header.Get(echo.HeaderContentType)
		if strings.HasPrefix(ct, echo.MIMEApplicationForm) || strings.HasPrefix(ct, echo.MIMEMultipartForm) {
			got = c.FormValue("csrf_token")
		}
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// PublicOperations lists the operations the spec marks `security: []`.
func PublicOperations(doc *openapi3.T) map[string]bool {
	public := map[string]bool{}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			if op.Security != nil && len(*op.Security) == 0 {
				public[op.OperationID] = true
			}
		}
	}
	return public
}

// RequireAuth refuses every non-public operation to a caller with no actor.
func RequireAuth(public map[string]bool) api.StrictMiddlewareFunc {
	return func(f api.StrictHandlerFunc, operationID string) api.StrictHandlerFunc {
		if public[operationID] {
			return f
		}
		return func(c echo.Context, request any) (any, error) {
			if _, ok := identity.ActorFrom(c.Request().Context()); !ok {
				return nil, httpx.Unauthorized("请先登录 / sign in first")
			}
			return f(c, request)
		}
	}
}

// actor returns the signed-in actor; RequireAuth guarantees there is one.
func actor(ctx context.Context) identity.Actor {
	a, _ := identity.ActorFrom(ctx)
	return a
}

func clientIP(ctx context.Context) string {
	ip, _ := ctx.Value(clientIPKey{}).(string)
	return ip
}

// CreateToken signs in with a username and password.
func (s *Server) CreateToken(ctx context.Context, req api.CreateTokenRequestObject) (api.CreateTokenResponseObject, error) {
	t, _, err := s.deps.Identity.Login(ctx, req.Body.Username, req.Body.Password, clientIP(ctx))
	if err != nil {
		return nil, err
	}
	return api.CreateToken200JSONResponse(tokenResponse(t)), nil
}

// RefreshToken spends a refresh token.
func (s *Server) RefreshToken(ctx context.Context, req api.RefreshTokenRequestObject) (api.RefreshTokenResponseObject, error) {
	t, err := s.deps.Identity.Refresh(ctx, req.Body.RefreshToken)
	if err != nil {
		return nil, err
	}
	return api.RefreshToken200JSONResponse(tokenResponse(t)), nil
}

// Logout revokes a refresh token's family.
func (s *Server) Logout(ctx context.Context, req api.LogoutRequestObject) (api.LogoutResponseObject, error) {
	if err := s.deps.Identity.Logout(ctx, req.Body.RefreshToken); err != nil {
		return nil, err
	}
	return api.Logout204Response{}, nil
}

// GetMe returns the signed-in user.
func (s *Server) GetMe(ctx context.Context, _ api.GetMeRequestObject) (api.GetMeResponseObject, error) {
	a := actor(ctx)
	u, err := s.deps.Identity.User(ctx, a, a.UserID)
	if err != nil {
		return nil, err
	}
	return api.GetMe200JSONResponse{
		Id: u.ID, Username: u.Username, DisplayName: u.DisplayName, Role: api.Role(u.Role),
		Agency: agencyRef(u.Agency), Enterprise: enterpriseRef(u.Enterprise),
	}, nil
}

func tokenResponse(t identity.Tokens) api.TokenResponse {
	return api.TokenResponse{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken,
		TokenType: api.Bearer, ExpiresIn: int(t.ExpiresIn.Seconds())}
}

// mayManage refuses reference-data reads on admin paths to non-administrators.
func mayManage(ctx context.Context) error {
	return identity.Authorize(actor(ctx), identity.Manage, identity.Resource{Kind: identity.ResReference})
}
