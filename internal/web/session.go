package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"greenchannel/internal/identity"
	"greenchannel/internal/platform/fault"
	"greenchannel/internal/platform/httpx"
)

func csrfOf(c echo.Context) string { return httpx.CSRFToken(c) }

func (p *pages) loginForm(c echo.Context) error {
	if _, ok := identity.ActorFrom(c.Request().Context()); ok {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	return p.render(c, http.StatusOK, "login.html", map[string]any{"Title": "登录"})
}

// login opens a web session. The session token goes only into an HttpOnly,
// SameSite=Lax cookie; the CSRF token is rendered into each page's forms.
func (p *pages) login(c echo.Context) error {
	username, password := c.FormValue("username"), c.FormValue("password")
	sess, _, err := p.Identity.LoginSession(c.Request().Context(), username, password, c.RealIP())
	if err != nil {
		f, ok := fault.As(err)
		if !ok {
			return err
		}
		status := http.StatusUnauthorized
		if f.Kind == fault.RateLimited {
			status = http.StatusTooManyRequests
			c.Response().Header().Set("Retry-After", strconv.Itoa(int(f.RetryAfter.Seconds())+1))
		}
		return p.render(c, status, "login.html", map[string]any{"Title": "登录", "Error": f.Msg, "Username": username})
	}
	c.SetCookie(&http.Cookie{
		Name: httpx.SessionCookie, Value: sess.Token, Path: "/", HttpOnly: true,
		Secure: p.SecureCookies, SameSite: http.SameSiteLaxMode,
		Expires: time.Now().Add(identity.DefaultLimits.SessionTTL),
	})
	return c.Redirect(http.StatusSeeOther, "/")
}

func (p *pages) logout(c echo.Context) error {
	if ck, err := c.Cookie(httpx.SessionCookie); err == nil {
		if err := p.Identity.LogoutSession(c.Request().Context(), ck.Value); err != nil {
			return err
		}
	}
	c.SetCookie(&http.Cookie{Name: httpx.SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: p.SecureCookies, SameSite: http.SameSiteLaxMode})
	return c.Redirect(http.StatusSeeOther, "/login")
}

// home sends each role to its home screen; the administrator gets a page
// of links (API reference, queue monitor).
func (p *pages) home(c echo.Context) error {
	a, ok := identity.ActorFrom(c.Request().Context())
	if !ok {
		return c.Redirect(http.StatusSeeOther, "/login")
	}
	if to := homeOf(a.Role); to != "/" {
		return c.Redirect(http.StatusSeeOther, to)
	}
	return p.render(c, http.StatusOK, "home.html", map[string]any{"Title": "系统管理"})
}
