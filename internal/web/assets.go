package web

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// staticFiles serves the embedded assets for slow links: compressed, with
// an ETag from the content (embedded files carry no modification time), so
// a repeat visit revalidates with a 304 instead of downloading again.
// Vendored libraries change only with the lock file and may be kept a day.
func staticFiles(files fs.FS) echo.HandlerFunc {
	etags := map[string]string{}
	_ = fs.WalkDir(files, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(files, path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		etags[path] = `"` + hex.EncodeToString(sum[:8]) + `"`
		return nil
	})
	server := http.StripPrefix("/static/", http.FileServer(http.FS(files)))
	return func(c echo.Context) error {
		path := strings.TrimPrefix(c.Request().URL.Path, "/static/")
		if tag, ok := etags[path]; ok {
			h := c.Response().Header()
			h.Set("ETag", tag)
			if strings.HasPrefix(path, "vendor/") {
				h.Set("Cache-Control", "public, max-age=86400")
			} else {
				h.Set("Cache-Control", "no-cache")
			}
			if c.Request().Header.Get("If-None-Match") == tag {
				return c.NoContent(http.StatusNotModified)
			}
		}
		server.ServeHTTP(c.Response(), c.Request())
		return nil
	}
}

// compress gzips pages and assets (not the API, whose downloads are
// already compressed or streamed).
var compress = middleware.GzipWithConfig(middleware.GzipConfig{Level: 5, MinLength: 1024})
