package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"veil/classification"
	"veil/httpapi"
	"veil/seed"
	"veil/veiltest"
)

// cookieCall is one request of a web page: with the session cookie (when
// not empty), from origin (when not empty).
type cookieCall struct {
	base, cookie, origin, query string
	// visitor is the analytics cookie to send.
	visitor string
}

type cookieAnswer struct {
	status int
	body   map[string]any
	raw    string
	set    *http.Cookie
	// visitor is the analytics cookie the answer set or cleared.
	visitor *http.Cookie
}

func (c cookieCall) do(t *testing.T) cookieAnswer {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": c.query})
	req, err := http.NewRequest(http.MethodPost, c.base+"/graphql", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.origin != "" {
		req.Header.Set("Origin", c.origin)
	}
	if c.cookie != "" {
		req.AddCookie(&http.Cookie{Name: httpapi.SessionCookie, Value: c.cookie})
	}
	if c.visitor != "" {
		req.AddCookie(&http.Cookie{Name: httpapi.VisitorCookie, Value: c.visitor})
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := cookieAnswer{status: resp.StatusCode, raw: string(raw)}
	json.Unmarshal(raw, &a.body)
	for _, ck := range resp.Cookies() {
		switch ck.Name {
		case httpapi.SessionCookie:
			a.set = ck
		case httpapi.VisitorCookie:
			a.visitor = ck
		}
	}
	return a
}

func (a cookieAnswer) code() string {
	errs, _ := a.body["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	code, _ := veiltest.Dig(errs[0], "extensions.code").(string)
	return code
}

// TestWebSessionsLiveInACookieOnlyThisSiteMayUse signs a web client in
// with cookie: true (POLICY.md P2): the session is an HttpOnly,
// SameSite=Strict cookie and the answer holds no token; the site's own
// pages act with it; a request with it from another origin, or with no
// origin, is refused before anything runs, and a sign-in from another
// origin spends no code; logout ends it and drops the cookie; a
// cancellation ends it at once on another server process too.
func TestWebSessionsLiveInACookieOnlyThisSiteMayUse(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		// The second process runs on the real clock: sign in on it too.
		env.Clock = time.Now()
		if err := seed.EnsureCatalog(context.Background(), env.Store.Client); err != nil {
			t.Fatal(err)
		}
		own := env.Server.URL
		signIn := func(phone, origin string) cookieAnswer {
			t.Helper()
			env.MustDo(veiltest.Request{Query: `mutation($p: String!) { requestLoginCode(phone: $p) { expiresInSeconds } }`, Variables: map[string]any{"p": phone}})
			code := env.LastCode(phone)
			a := cookieCall{base: own, origin: "https://evil.example", query: `mutation { login(phone: "` + phone + `", code: "` + code + `", cookie: true) { token } }`}.do(t)
			if a.code() != "FORBIDDEN" || a.set != nil {
				t.Errorf("a cookie sign-in from another origin: %d %s", a.status, a.raw)
			}
			return cookieCall{base: own, origin: origin, query: `mutation { login(phone: "` + phone + `", code: "` + code + `", cookie: true) { token expiresAt } }`}.do(t)
		}
		a := signIn("13400000001", own)
		if a.set == nil || !a.set.HttpOnly || a.set.SameSite != http.SameSiteStrictMode || a.set.Value == "" || a.set.Path != "/" {
			t.Fatalf("the session cookie: %+v (%s)", a.set, a.raw)
		}
		if a.set.Secure {
			t.Error("a Secure cookie in development, where the server speaks plain HTTP")
		}
		if tok := veiltest.Dig(a.body, "data.login.token"); tok != "" {
			t.Errorf("a cookie sign-in answered a token: %v", tok)
		}
		cookie := a.set.Value

		me := `{ me { nickname } }`
		if a := (cookieCall{base: own, cookie: cookie, origin: own, query: me}).do(t); veiltest.Dig(a.body, "data.me") == nil {
			t.Fatalf("the site's own page reading me: %s", a.raw)
		}
		// A link followed to a GET query carries the cookie too, and may
		// read (SameSite=Strict keeps other sites' links from sending it).
		resp, err := http.DefaultClient.Do(func() *http.Request {
			r, _ := http.NewRequest(http.MethodGet, own+"/graphql?query="+strings.ReplaceAll(me, " ", "+"), nil)
			r.AddCookie(&http.Cookie{Name: httpapi.SessionCookie, Value: cookie})
			return r
		}())
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Errorf("a GET query with the cookie: %v %v", err, resp)
		} else {
			resp.Body.Close()
		}
		cancel := `mutation { cancelAccount(confirm: true) { cancelled } }`
		for _, origin := range []string{"https://evil.example", "", "null", strings.Replace(own, "http://", "https://", 1)} {
			a := cookieCall{base: own, cookie: cookie, origin: origin, query: cancel}.do(t)
			if a.status != http.StatusForbidden || a.code() != "FORBIDDEN" {
				t.Errorf("a cancellation with the cookie from origin %q: %d %s", origin, a.status, a.raw)
			}
		}
		if a := (cookieCall{base: own, cookie: cookie, origin: own, query: me}).do(t); veiltest.Dig(a.body, "data.me") == nil {
			t.Fatalf("the refused requests ended the session: %s", a.raw)
		}
		// A bearer token is not a cookie: no origin needed.
		if r := env.Do(veiltest.Request{Token: cookie, Query: me}); r.Data["me"] == nil {
			t.Errorf("the session's token as a bearer token: %s", r.Raw)
		}

		a = cookieCall{base: own, cookie: cookie, origin: own, query: `mutation { logout }`}.do(t)
		if a.set == nil || a.set.MaxAge >= 0 || a.set.Value != "" {
			t.Errorf("logout did not drop the cookie: %+v %s", a.set, a.raw)
		}
		a = cookieCall{base: own, cookie: cookie, origin: own, query: me}.do(t)
		if a.code() != "UNAUTHENTICATED" || a.set == nil || a.set.MaxAge >= 0 {
			t.Errorf("the cookie after logout: %+v %s", a.set, a.raw)
		}

		// Cancelled on this process, refused on another at once.
		cookie = signIn("13400000002", own).set.Value
		other := veiltest.StartServerProcess(t, env.DatabaseURL)
		if a := (cookieCall{base: other, cookie: cookie, origin: other, query: me}).do(t); veiltest.Dig(a.body, "data.me") == nil {
			t.Fatalf("the other process refuses a live cookie: %s", a.raw)
		}
		if a := (cookieCall{base: own, cookie: cookie, origin: own, query: cancel}).do(t); veiltest.Dig(a.body, "data.cancelAccount.cancelled") != true || a.set == nil || a.set.MaxAge >= 0 {
			t.Fatalf("cancelling with the cookie (which it drops): %+v %s", a.set, a.raw)
		}
		if a := (cookieCall{base: other, cookie: cookie, origin: other, query: me}).do(t); a.code() != "ACCOUNT_CANCELLED" || a.set == nil || a.set.MaxAge >= 0 {
			t.Errorf("the other process after the cancellation: %s", a.raw)
		}
	})
}

// signInWithCookie signs phone in from the site's own page and returns the
// session cookie.
func signInWithCookie(t *testing.T, env *veiltest.Env, phone string) string {
	t.Helper()
	env.MustDo(veiltest.Request{Query: `mutation($p: String!) { requestLoginCode(phone: $p) { expiresInSeconds } }`, Variables: map[string]any{"p": phone}})
	a := cookieCall{base: env.Server.URL, origin: env.Server.URL,
		query: `mutation { login(phone: "` + phone + `", code: "` + env.LastCode(phone) + `", cookie: true) { token } }`}.do(t)
	if a.set == nil {
		t.Fatalf("no session cookie: %s", a.raw)
	}
	return a.set.Value
}

// TestAnalyticsCookiesFollowTheirConsent (POLICY.md P2): the analytics
// cookie is set only on the ANALYTICS_COOKIES consent, given from the
// site's own page; page views count under it as a route template and a
// hash of the cookie, never the account; withdrawing removes the cookie
// and what was counted, and a cookie whose consent is gone counts nothing.
func TestAnalyticsCookiesFollowTheirConsent(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		ctx := classification.AsSystem(context.Background())
		if err := seed.EnsureCatalog(ctx, env.Store.Client); err != nil {
			t.Fatal(err)
		}
		own := env.Server.URL
		session := signInWithCookie(t, env, "13400000011")
		call := func(visitor, query string) cookieAnswer {
			return cookieCall{base: own, cookie: session, origin: own, visitor: visitor, query: query}.do(t)
		}
		view := `mutation { recordPageView(page: "/listing/8842?q=13812345678") }`
		if a := call("", view); veiltest.Dig(a.body, "data.recordPageView") != false {
			t.Errorf("a page view without the cookie: %s", a.raw)
		}
		if a := call("", `mutation { grantConsent(purpose: MARKETING) { id } }`); a.visitor != nil {
			t.Errorf("another consent set the analytics cookie: %+v", a.visitor)
		}
		if a := call("forged", view); veiltest.Dig(a.body, "data.recordPageView") != false || a.visitor == nil || a.visitor.MaxAge >= 0 {
			t.Errorf("a page view with a cookie but no consent: %+v %s", a.visitor, a.raw)
		}
		a := call("", `mutation { grantConsent(purpose: ANALYTICS_COOKIES) { id } }`)
		if a.visitor == nil || a.visitor.Value == "" || !a.visitor.HttpOnly || a.visitor.SameSite != http.SameSiteStrictMode {
			t.Fatalf("the analytics cookie on consent: %+v %s", a.visitor, a.raw)
		}
		visitor := a.visitor.Value
		for range 2 {
			if a := call(visitor, view); veiltest.Dig(a.body, "data.recordPageView") != true {
				t.Fatalf("a page view under consent: %s", a.raw)
			}
		}
		visits := env.Store.Client.WebVisit.Query().AllX(ctx)
		if len(visits) != 2 || visits[0].Page != "/listing/:id" || visits[0].Visitor == visitor || strings.Contains(visits[0].Visitor, visitor) {
			t.Errorf("the counted views: %+v", visits)
		}
		a = call(visitor, `mutation { withdrawConsent(purpose: ANALYTICS_COOKIES) { withdrawn } }`)
		if a.visitor == nil || a.visitor.MaxAge >= 0 {
			t.Errorf("withdrawing kept the analytics cookie: %+v %s", a.visitor, a.raw)
		}
		if n := env.Store.Client.WebVisit.Query().CountX(ctx); n != 0 {
			t.Errorf("%d page views left after the withdrawal", n)
		}
		if a := call(visitor, view); veiltest.Dig(a.body, "data.recordPageView") != false || env.Store.Client.WebVisit.Query().CountX(ctx) != 0 {
			t.Errorf("the old cookie after the withdrawal: %s", a.raw)
		}

		// Consent again, count, and withdraw from the app (a bearer token,
		// no cookie): what the browser counted goes too.
		visitor = call("", `mutation { grantConsent(purpose: ANALYTICS_COOKIES) { id } }`).visitor.Value
		call(visitor, view)
		if n := env.Store.Client.WebVisit.Query().CountX(ctx); n != 1 {
			t.Fatalf("%d page views counted after consenting again", n)
		}
		env.MustDo(veiltest.Request{Token: session, Query: `mutation { withdrawConsent(purpose: ANALYTICS_COOKIES) { withdrawn } }`})
		if n := env.Store.Client.WebVisit.Query().CountX(ctx); n != 0 {
			t.Errorf("%d page views left after a withdrawal from another device", n)
		}
	})
}

// TestCookieTossingAndSameSitePagesAreRefused: a request carrying two
// session cookies (one planted by another page of the host) acts as no
// one; another origin of the same site may not read with the cookie
// (GET /export runs an export); over HTTPS the cookie has the __Host-
// prefix, which no other path or subdomain can set.
func TestCookieTossingAndSameSitePagesAreRefused(t *testing.T) {
	env := veiltest.New(t, "sqlite:"+t.TempDir()+"/veil.db")
	env.Clock = time.Now()
	if err := seed.EnsureCatalog(context.Background(), env.Store.Client); err != nil {
		t.Fatal(err)
	}
	cookie := signInWithCookie(t, env, "13400000021")
	send := func(method, path string, header http.Header, cookies ...string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, env.Server.URL+path, nil)
		for k, v := range header {
			req.Header[k] = v
		}
		for _, c := range cookies {
			req.AddCookie(&http.Cookie{Name: httpapi.SessionCookie, Value: c})
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	if resp := send(http.MethodGet, "/export", nil, cookie); resp.StatusCode != http.StatusOK {
		t.Fatalf("the site's own export link: %d", resp.StatusCode)
	}
	if resp := send(http.MethodGet, "/export", http.Header{"Sec-Fetch-Site": {"same-site"}}, cookie); resp.StatusCode != http.StatusForbidden {
		t.Errorf("an export loaded by another origin of the site: %d", resp.StatusCode)
	}
	if resp := send(http.MethodGet, "/graphql?query={me{nickname}}", http.Header{"Sec-Fetch-Site": {"cross-site"}}, cookie); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a cross-site read with the cookie: %d", resp.StatusCode)
	}
	planted := signInWithCookie(t, env, "13400000022")
	if resp := send(http.MethodGet, "/graphql?query={me{nickname}}", nil, planted, cookie); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("two session cookies: %d", resp.StatusCode)
	}

	secure := veiltest.HTTPOptions
	secure.SecureCookies = true
	tls := veiltest.New(t, "sqlite:"+t.TempDir()+"/veil.db", veiltest.WithHTTPOptions(secure))
	tls.Clock = time.Now()
	if err := seed.EnsureCatalog(context.Background(), tls.Store.Client); err != nil {
		t.Fatal(err)
	}
	phone := "13400000023"
	tls.MustDo(veiltest.Request{Query: `mutation($p: String!) { requestLoginCode(phone: $p) { expiresInSeconds } }`, Variables: map[string]any{"p": phone}})
	body, _ := json.Marshal(map[string]any{"query": `mutation { login(phone: "` + phone + `", code: "` + tls.LastCode(phone) + `", cookie: true) { token } }`})
	req, _ := http.NewRequest(http.MethodPost, tls.Server.URL+"/graphql", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", strings.Replace(tls.Server.URL, "http://", "https://", 1))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var set *http.Cookie
	for _, c := range resp.Cookies() {
		set = c
	}
	if set == nil || set.Name != httpapi.SecureSessionCookie || !set.Secure || set.Path != "/" || set.Domain != "" {
		t.Errorf("the session cookie over HTTPS: %+v", set)
	}
}
