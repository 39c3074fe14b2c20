package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// htmlErrors wraps the server's error handler, which turns every error into
// problem+json (and logs server faults once). A browser asking for a page
// gets the same problem as a page in the site's style, the detail in plain
// words; the API and other clients get the JSON untouched.
func (p *pages) htmlErrors(problemJSON echo.HTTPErrorHandler) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		req := c.Request()
		if c.Response().Committed || strings.HasPrefix(req.URL.Path, "/api/") || req.Header.Get("HX-Request") != "" ||
			!strings.Contains(req.Header.Get("Accept"), "text/html") {
			problemJSON(err, c)
			return
		}
		res := c.Response()
		w := res.Writer
		capture := &captured{header: http.Header{}}
		res.Writer = capture
		problemJSON(err, c)
		res.Writer, res.Committed, res.Size = w, false, 0
		var pr struct {
			Type      string `json:"type"`
			Status    int    `json:"status"`
			Detail    string `json:"detail"`
			RequestID string `json:"request_id"`
		}
		if json.Unmarshal(capture.body.Bytes(), &pr) != nil || pr.Status == 0 {
			pr.Status = capture.status
		}
		if v := capture.header.Get("Retry-After"); v != "" {
			res.Header().Set("Retry-After", v)
		}
		lang := langOf(c)
		msg := plain(lang, pr.Detail)
		if z, ok := plainStatus[pr.Status]; ok && (msg == "" || pr.Status >= 500 || pr.Status == http.StatusNotFound) {
			msg = bilingual(lang, z)
		}
		if strings.HasSuffix(pr.Type, "/csrf") {
			msg = bilingual(lang, "页面已过期，请刷新页面后再提交 / this page is out of date; reload it and submit again")
		}
		_ = p.render(c, pr.Status, "error.html", map[string]any{"Title": "出错了", "Error": msg,
			"RequestID": pr.RequestID, "Home": homeOf(actorOf(c).Role)})
	}
}

// plainStatus says what a status means to someone using the site.
var plainStatus = map[int]string{
	http.StatusNotFound:              "找不到这个页面，可能地址有误或已被删除 / there is no such page; the address may be wrong",
	http.StatusMethodNotAllowed:      "这个页面不能这样打开 / this page cannot be opened this way",
	http.StatusRequestEntityTooLarge: "文件太大，请压缩后再上传（每个不超过 20 MB）/ the file is too large (20 MB at most)",
	http.StatusTooManyRequests:       "操作太频繁，请稍后再试 / too many tries, please wait a moment",
	http.StatusInternalServerError:   "系统出错了，请稍后再试；如果一再出现，请把下面的编号告诉管理员 / something went wrong on our side; if it keeps happening, give the number below to the administrator",
	http.StatusServiceUnavailable:    "系统繁忙，请稍后再试 / the system is busy, please try again shortly",
}

// captured is a response writer that keeps what is written to it.
type captured struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (c *captured) Header() http.Header         { return c.header }
func (c *captured) Write(b []byte) (int, error) { return c.body.Write(b) }
func (c *captured) WriteHeader(status int)      { c.status = status }
