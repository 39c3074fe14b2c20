// Package web serves the server-rendered pages and their static assets,
// all embedded in the binary: the deployment network is closed, so nothing
// is ever loaded from a CDN.
package web

import (
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"greenchannel/internal/casework"
	"greenchannel/internal/identity"
	"greenchannel/internal/inspection"
	"greenchannel/internal/oversight"
	"greenchannel/internal/sla"
)

//go:embed all:static
var static embed.FS

//go:embed templates/*.html
var templateFS embed.FS

// Deps are what the pages need.
type Deps struct {
	Spec          []byte // openapi.yaml, served as is
	Identity      *identity.Service
	Log           *slog.Logger
	SecureCookies bool // set the Secure flag (served over TLS)
	Casework      *casework.Service
	SLA           *sla.Service
	Inspection    *inspection.Service
	Oversight     *oversight.Service
}

type pages struct {
	Deps
	tmpl *template.Template
}

// Register mounts the pages, static files, /docs and /openapi.yaml on e.
func Register(e *echo.Echo, d Deps) {
	p := &pages{Deps: d, tmpl: template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.html"))}
	sub, _ := fs.Sub(static, "static")
	e.GET("/static/*", echo.WrapHandler(http.StripPrefix("/static/", http.FileServer(http.FS(sub)))))
	e.GET("/openapi.yaml", func(c echo.Context) error {
		return c.Blob(http.StatusOK, "application/yaml; charset=utf-8", d.Spec)
	})
	e.GET("/docs", docs)
	e.GET("/login", p.loginForm)
	e.POST("/login", p.login)
	e.POST("/logout", p.logout)
	e.GET("/", p.home)
	p.routes(e)
}

func (p *pages) render(c echo.Context, status int, name string, data map[string]any) error {
	if data == nil {
		data = map[string]any{}
	}
	data["CSRF"] = csrfOf(c)
	data["HTMX"] = haveHTMX
	if a, ok := identity.ActorFrom(c.Request().Context()); ok {
		data["Actor"] = a
	}
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	c.Response().WriteHeader(status)
	return p.tmpl.ExecuteTemplate(c.Response(), name, data)
}

// haveHTMX says whether make assets put htmx into this binary. Without it
// the pages are plain forms and links, which work the same.
var haveHTMX = func() bool {
	_, err := fs.Stat(static, "static/vendor/htmx/htmx.min.js")
	return err == nil
}()

func docs(c echo.Context) error {
	if _, err := fs.Stat(static, "static/vendor/swagger-ui/swagger-ui-bundle.js"); err != nil {
		return c.HTML(http.StatusOK, `<!doctype html><meta charset="utf-8"><title>API reference</title>
<p>The API reference viewer was not built into this binary (run <code>make assets</code>).
The contract itself is at <a href="/openapi.yaml">/openapi.yaml</a>.</p>`)
	}
	return c.HTML(http.StatusOK, docsPage)
}

const docsPage = `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>greenchannel API 参考 / API reference</title>
<link rel="stylesheet" href="/static/vendor/swagger-ui/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/static/vendor/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/static/docs.js"></script>
</body>
</html>`
