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
	"time"

	"github.com/labstack/echo/v4"

	"greenchannel/internal/casework"
	"greenchannel/internal/identity"
	"greenchannel/internal/inspection"
	"greenchannel/internal/oversight"
	"greenchannel/internal/routing"
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
	Routing       *routing.Engine
	// Now is the service clock; pages hand it to the browser so countdowns
	// tick from the same instant the deadlines were computed at.
	Now func() time.Time
}

type pages struct {
	Deps
	// tmpl holds one parsed template set per language; they differ only
	// in the functions that translate.
	tmpl map[string]*template.Template
}

// Register mounts the pages, static files, /docs and /openapi.yaml on e.
func Register(e *echo.Echo, d Deps) {
	if d.Now == nil {
		d.Now = time.Now
	}
	zh := template.Must(template.New("").Funcs(funcsFor(langZh)).ParseFS(templateFS, "templates/*.html"))
	en := template.Must(zh.Clone()).Funcs(funcsFor(langEn))
	p := &pages{Deps: d, tmpl: map[string]*template.Template{langZh: zh, langEn: en}}
	e.HTTPErrorHandler = p.htmlErrors(e.HTTPErrorHandler)
	sub, _ := fs.Sub(static, "static")
	e.GET("/static/*", staticFiles(sub), compress)
	e.GET("/openapi.yaml", func(c echo.Context) error {
		return c.Blob(http.StatusOK, "application/yaml; charset=utf-8", d.Spec)
	})
	e.GET("/docs", docs)
	e.GET("/login", p.loginForm)
	e.POST("/login", p.login)
	e.POST("/logout", p.logout)
	e.GET("/", p.home)
	e.GET("/lang", setLang)
	p.routes(e)
}

func (p *pages) render(c echo.Context, status int, name string, data map[string]any) error {
	if data == nil {
		data = map[string]any{}
	}
	lang := langOf(c)
	data["CSRF"] = csrfOf(c)
	data["HTMX"] = haveHTMX
	data["Lang"] = lang
	data["Path"] = c.Request().URL.RequestURI()
	data["NowMS"] = p.Now().UnixMilli()
	if a, ok := identity.ActorFrom(c.Request().Context()); ok {
		data["Actor"] = a
	}
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	c.Response().Header().Set("Vary", "Cookie")
	c.Response().WriteHeader(status)
	return p.tmpl[lang].ExecuteTemplate(c.Response(), name, data)
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
