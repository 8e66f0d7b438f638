package httpapi

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"veil/fault"
	"veil/reqctx"
)

// SessionCookie is the cookie a web client's session is held in: the
// same opaque token a mobile client sends as a bearer token, so logout,
// cancellation and expiry end it exactly as they end a bearer session.
// Over HTTPS (production) it is SecureSessionCookie instead, whose
// __Host- prefix keeps subdomains and other paths from setting one.
const (
	SessionCookie       = "veil_session"
	SecureSessionCookie = "__Host-veil_session"
)

// VisitorCookie is the analytics cookie: a random id the web app counts
// page views under, set only on the user's ANALYTICS_COOKIES consent and
// removed when it is withdrawn (POLICY.md P2).
const VisitorCookie = "veil_visitor"

// visitorLife is how long an analytics cookie lasts: the retention of
// what is counted under it.
const visitorLife = 180 * 24 * time.Hour

// errForeignOrigin refuses a request carrying the session cookie that
// does not come from the web app's own origin (a cross-site request
// forgery, or a client that should use a bearer token).
var errForeignOrigin = fault.New(fault.Forbidden, "a request signed in with the session cookie must come from this site's own pages (its Origin header); other clients send 'Authorization: Bearer <token>'")

// cookieJar sets and clears the session cookie on one response; it is
// the reqctx.Cookies of a request.
type cookieJar struct {
	w      http.ResponseWriter
	r      *http.Request
	secure bool
	// origins are the origins besides the request's own allowed to use
	// the cookie.
	origins []string
}

// CheckOrigin refuses a request whose Origin is not the site's own (or
// a configured web origin): one without an Origin included, which no
// browser sends for a POST.
func (j *cookieJar) CheckOrigin() error {
	if sameOrigin(j.r, j.secure, j.origins) {
		return nil
	}
	return errForeignOrigin
}

// SetSession holds token in the session cookie until expires: HttpOnly
// (no script reads it), SameSite=Strict (no other site's page sends it),
// Secure outside development, for the whole site.
func (j *cookieJar) SetSession(token string, expires time.Time) {
	j.set(sessionCookieName(j.secure), token, max(1, int(time.Until(expires).Seconds())))
}

// ClearSession removes the session cookie from the browser.
func (j *cookieJar) ClearSession() { j.set(sessionCookieName(j.secure), "", -1) }

// Visitor returns the request's analytics cookie, or "".
func (j *cookieJar) Visitor() string {
	c, err := j.r.Cookie(VisitorCookie)
	if err != nil {
		return ""
	}
	return c.Value
}

// SetVisitor sets a new random analytics cookie.
func (j *cookieJar) SetVisitor() {
	buf := make([]byte, 16)
	rand.Read(buf)
	j.set(VisitorCookie, hex.EncodeToString(buf), int(visitorLife.Seconds()))
}

// ClearVisitor removes the analytics cookie.
func (j *cookieJar) ClearVisitor() { j.set(VisitorCookie, "", -1) }

// set sets (maxAge > 0) or removes (maxAge < 0) one of Veil's cookies, all
// of which are HttpOnly, SameSite=Strict, for the whole site, and Secure
// outside development.
func (j *cookieJar) set(name, value string, maxAge int) {
	c := &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true, Secure: j.secure, SameSite: http.SameSiteStrictMode}
	if maxAge > 0 {
		c.Expires = time.Now().Add(time.Duration(maxAge) * time.Second).UTC()
	}
	http.SetCookie(j.w, c)
}

// withCookies gives each request its cookie jar.
func withCookies(opts Options, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := reqctx.From(r.Context())
		info.Cookies = &cookieJar{w: w, r: r, secure: opts.SecureCookies, origins: opts.WebOrigins}
		next.ServeHTTP(w, r.WithContext(reqctx.With(r.Context(), info)))
	})
}

// sessionCookieName is the session cookie's name over HTTPS (secure) or
// plain HTTP.
func sessionCookieName(secure bool) string {
	if secure {
		return SecureSessionCookie
	}
	return SessionCookie
}

// errTwoSessions refuses a request that carries more than one session
// cookie: another page of the host planted one (cookie tossing), and
// acting as either could be acting as a stranger.
var errTwoSessions = fault.New(fault.Unauthenticated, "this browser holds more than one session cookie, one not set by this site: clear this site's cookies and sign in again")

// sessionCookie returns the request's session cookie token, or "", and
// errTwoSessions when it carries several.
func sessionCookie(r *http.Request, secure bool) (string, error) {
	name := sessionCookieName(secure)
	var found []string
	for _, c := range r.Cookies() {
		if c.Name == name {
			found = append(found, c.Value)
		}
	}
	switch len(found) {
	case 0:
		return "", nil
	case 1:
		return found[0], nil
	}
	return "", errTwoSessions
}

// crossSite reports whether the browser says another site, or another
// origin of this site, made the request (Sec-Fetch-Site): a page
// elsewhere on the host may not act, or read, with the cookie. A link
// the user follows or types ("none") and the site's own pages may.
func crossSite(r *http.Request, origins []string) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "none", "same-origin":
		return false
	}
	return !slices.Contains(origins, r.Header.Get("Origin"))
}

// sameOrigin reports whether r's Origin is the origin it was sent to (the
// scheme of the connection, https behind a TLS proxy when secure, and
// its Host) or one of origins. A fetch from another site's page says
// where it comes from in Origin; Sec-Fetch-Site, when sent, must agree.
func sameOrigin(r *http.Request, secure bool, origins []string) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || origin == "null" {
		return false
	}
	// Acting needs more than reading: not even a link the user follows
	// ("none") may act with the cookie.
	if crossSite(r, origins) || r.Header.Get("Sec-Fetch-Site") == "none" && !slices.Contains(origins, origin) {
		return false
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	scheme := "http"
	if r.TLS != nil || secure {
		scheme = "https"
	}
	if strings.EqualFold(u.Scheme, scheme) && strings.EqualFold(u.Host, r.Host) {
		return true
	}
	return slices.Contains(origins, origin)
}
