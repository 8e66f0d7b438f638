package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"veil/ent/user"
	"veil/seed"
	"veil/veiltest"
	"veil/veiltest/browser"
)

// TestWebSessionInHeadlessChromium signs in from a page of the site in
// Chromium with a cookie session (POLICY.md P2), reads me with it, and
// finds the token out of reach of scripts; then a page of another site
// posts a cancellation as a form and as a fetch: neither acts, and the
// session and the account live on.
func TestWebSessionInHeadlessChromium(t *testing.T) {
	ctx := browser.Start(t, "localhost")
	env := veiltest.New(t, "sqlite:"+filepath.Join(t.TempDir(), "veil.db"))
	env.Clock = time.Now()
	if err := seed.EnsureCatalog(context.Background(), env.Store.Client); err != nil {
		t.Fatal(err)
	}
	own := env.Server.URL
	cancel := `{"query":"mutation { cancelAccount(confirm: true) { cancelled } }"}`
	// The other site's page: a form that posts the cancellation as soon
	// as it loads, the one cross-site request an HTML page can send with
	// a JSON-looking body.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A text/plain form sends name=value: the body reads as
		// {"query":"mutation ...","x":"="}.
		name := strings.TrimSuffix(cancel, "}") + `,"x":"`
		fmt.Fprintf(w, `<!doctype html><form id="f" method="POST" action="%s/graphql" enctype="text/plain"><input name='%s' value='"}'></form>`+
			`<script>if (location.hash === "#form") document.getElementById("f").submit()</script>`, own, name)
	}))
	defer evil.Close()
	evilURL := strings.Replace(evil.URL, "127.0.0.1", "localhost", 1)

	phone := "13400000009"
	post := `q => fetch("/graphql", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({query: q})}).then(r => r.json())`
	run := func(expr string) string {
		t.Helper()
		out, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(`+post+`)(`+expr+`).then(JSON.stringify)`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		return out
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(own+"/console/")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	run(`'mutation { requestLoginCode(phone: "` + phone + `") { expiresInSeconds } }'`)
	signedIn := run(`'mutation { login(phone: "` + phone + `", code: "` + env.LastCode(phone) + `", cookie: true) { token } }'`)
	if !strings.Contains(signedIn, `"token":""`) {
		t.Fatalf("signing in: %s", signedIn)
	}
	me := `'{ me { phone } }'`
	if got := run(me); !strings.Contains(got, phone) {
		t.Fatalf("me with the cookie session: %s", got)
	}
	if cookies, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.cookie`)); err != nil || strings.Contains(cookies, "veil_session") {
		t.Errorf("a script reads the session cookie: %q (%v)", cookies, err)
	}

	// The other site: its form posts, and its fetch tries.
	if err := chromedp.Do(ctx, chromedp.Navigate(evilURL+"/#form")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`location.href.startsWith("`+own+`")`)); err != nil {
		t.Fatalf("the form did not post: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(evilURL+"/")); err != nil {
		t.Fatal(err)
	}
	fetched, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch("`+own+`/graphql", {method: "POST", credentials: "include", headers: {"Content-Type": "application/json"}, body: '`+cancel+`'}).then(r => "answered " + r.status, e => "blocked")`, chromedp.EvalAwaitPromise))
	if err != nil || fetched != "blocked" {
		t.Errorf("another site's fetch: %s (%v)", fetched, err)
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(own+"/console/")); err != nil {
		t.Fatal(err)
	}
	if got := run(me); !strings.Contains(got, phone) {
		t.Errorf("after the other site's attempts, me: %s", got)
	}
	u, err := env.Store.Client.User.Query().Where(user.Phone(phone)).Only(context.Background())
	if err != nil || u.Status != user.StatusACTIVE {
		t.Errorf("the account after the other site's attempts: %v %v", u, err)
	}
	// Signing out ends the session for the page.
	run(`'mutation { logout }'`)
	if got := run(me); !strings.Contains(got, `"me":null`) {
		t.Errorf("me after logout: %s", got)
	}
}
