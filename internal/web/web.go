// Package web serves the server-rendered pages and their static assets,
// all embedded in the binary: the deployment network is closed, so nothing
// is ever loaded from a CDN.
package web

import (
	"embed"
	"io/fs"
	"net/http"

	"github.com/labstack/echo/v4"
)

//go:embed all:static
var static embed.FS

// Register mounts the static files, /docs and /openapi.yaml on e.
func Register(e *echo.Echo, spec []byte) {
	sub, _ := fs.Sub(static, "static")
	e.GET("/static/*", echo.WrapHandler(http.StripPrefix("/static/", http.FileServer(http.FS(sub)))))
	e.GET("/openapi.yaml", func(c echo.Context) error {
		return c.Blob(http.StatusOK, "application/yaml; charset=utf-8", spec)
	})
	e.GET("/docs", docs)
}

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
