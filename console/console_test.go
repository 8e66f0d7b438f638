package console_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"veil/console"
	"veil/seed"
	"veil/veiltest"
	"veil/veiltest/browser"
)

// TestConsoleInHeadlessChromium opens the console in Chromium with every
// host but the loopback address unresolvable, signs in with a support
// token, runs GraphiQL's query, and checks the masked answer, the privacy
// view, and that no request left the server's origin.
func TestConsoleInHeadlessChromium(t *testing.T) {
	ctx := browser.Start(t)
	env := veiltest.New(t, "sqlite:"+filepath.Join(t.TempDir(), "veil.db"))
	w, err := seed.Demo(context.Background(), env.Store.Client, env.Accounts, env.Clock)
	if err != nil {
		t.Fatal(err)
	}

	// Start the tab, then record every request it makes.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	var mu sync.Mutex
	var requested []string
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			mu.Lock()
			requested = append(requested, e.Request.URL)
			mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}

	err = chromedp.Do(ctx,
		chromedp.Navigate(env.Server.URL+"/console/"),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), w.Tokens["support"]),
		chromedp.Click(chromedp.CSS("#credentials button")),
		chromedp.WaitVisible(chromedp.CSS(".graphiql-execute-button")),
		chromedp.Click(chromedp.CSS(".graphiql-execute-button")),
	)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	result, err := chromedp.Run(ctx, chromedp.Poll[string](
		`(t => t.includes('nickname') ? t : false)((document.querySelector('.result-window') || {}).innerText || '')`))
	if err != nil {
		t.Fatalf("no result in GraphiQL: %v", err)
	}
	// The query and the token stay out of storage that outlives the tab.
	if stored, err := chromedp.Run(ctx, chromedp.Evaluate[int](`localStorage.length`)); err != nil || stored != 0 {
		t.Errorf("GraphiQL left %d entries in localStorage (%v)", stored, err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(env.Server.URL+"/console/privacy")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[string](
		`(t => t.includes('government_id') ? t : false)(document.querySelector('#collected tbody').innerText)`)); err != nil {
		t.Fatalf("the privacy view lists no classes: %v", err)
	}
	adult := w.Users["adult"].Phone
	if !strings.Contains(result, adult[:3]+"****"+adult[7:]) || strings.Contains(result, adult) {
		t.Errorf("GraphiQL shows %.500s; want the adult's phone masked for support without a purpose", result)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(requested) < 5 {
		t.Fatalf("only %d requests seen: the network listener is not working", len(requested))
	}
	for _, u := range requested {
		if !strings.HasPrefix(u, env.Server.URL+"/") && !strings.HasPrefix(u, "data:") {
			t.Errorf("the console requested %s", u)
		}
	}
}

// TestConsoleListsNoDirectory: the console's asset folders are not listed.
func TestConsoleListsNoDirectory(t *testing.T) {
	srv := httptest.NewServer(console.Handler())
	defer srv.Close()
	for _, path := range []string{"/console/assets/", "/console/assets/vendor/", "/console/assets/vendor"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || strings.Contains(string(body), "graphiql.min.js") {
			t.Errorf("GET %s: %d %.200s", path, resp.StatusCode, body)
		}
	}
	resp, err := http.Get(srv.URL + "/console/assets/console.js")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("an asset itself is not served: %v %v", resp, err)
	}
}
