package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"veil/graph"
	"veil/httpapi"
	"veil/ratelimit"
	"veil/seed"
	"veil/veiltest"
)

func sqliteEnv(t *testing.T, opts ...veiltest.Option) *veiltest.Env {
	t.Helper()
	return veiltest.New(t, "sqlite:"+filepath.Join(t.TempDir(), "veil.db"), opts...)
}

// TestEachLimitJustUnderAndJustOver sends, for every document limit, a
// query at the limit (accepted) and one past it (VALIDATION_FAILED).
func TestEachLimitJustUnderAndJustOver(t *testing.T) {
	env := sqliteEnv(t)
	w, err := seed.Demo(context.Background(), env.Store.Client, env.Accounts, env.Clock)
	if err != nil {
		t.Fatal(err)
	}
	l := graph.DefaultLimits
	nest := func(levels int) string { // me is level 1; each guardian adds one
		return "{ me { " + strings.Repeat("guardian { ", levels-2) + "id" + strings.Repeat(" }", levels-2) + " } }"
	}
	aliases := func(n int) string {
		var b strings.Builder
		b.WriteString("{ ")
		for i := range n {
			fmt.Fprintf(&b, "a%d: me { id } ", i)
		}
		return b.String() + "}"
	}
	directives := func(n int) string {
		return "{ me { " + strings.Repeat("id @include(if: true) ", n) + "} }"
	}
	tokens := func(n int) string { // "{", "me", "{", n ids, "}", "}"
		return "{ me { " + strings.Repeat("id ", n-5) + "} }"
	}
	cost := func(perUser int) string { // 1 + 100 + 100 + 100 + 100*perUser*3
		return fmt.Sprintf("{ users(first: 100) { edges { node { orders(first: %d) { edges { node { id } } } } } } }", perUser)
	}
	tests := []struct {
		name        string
		under, over string
	}{
		{"depth", nest(l.Depth), nest(l.Depth + 1)},
		{"aliases", aliases(l.Aliases), aliases(l.Aliases + 1)},
		{"directives", directives(l.Directives), directives(l.Directives + 1)},
		{"tokens", tokens(l.Tokens - 1), tokens(l.Tokens + 1)},
		{"cost", cost(32), cost(34)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r := env.Do(veiltest.Request{Token: w.Tokens["support"], Query: tt.under}); len(r.Errors) > 0 {
				t.Errorf("at the limit: %.300s", r.Raw)
			}
			r := env.Do(veiltest.Request{Token: w.Tokens["support"], Query: tt.over})
			if r.Code() != "VALIDATION_FAILED" || r.Data != nil {
				t.Errorf("past the limit: %.300s", r.Raw)
			}
		})
	}
	t.Run("body size", func(t *testing.T) {
		body := func(n int) []byte {
			q := `{"query":"{ me { id } }` + strings.Repeat(" ", n) + `"}`
			return []byte(q)
		}
		if r := env.PostRaw(env.Server.URL, w.Tokens["adult"], "", "application/json", body(1<<20-100)); r.Status != http.StatusOK {
			t.Errorf("just under 1 MiB: %d %.200s", r.Status, r.Raw)
		}
		if r := env.PostRaw(env.Server.URL, w.Tokens["adult"], "", "application/json", body(1<<20)); r.Status != http.StatusRequestEntityTooLarge {
			t.Errorf("just over 1 MiB: %d", r.Status)
		}
	})
}

// TestRateLimits meets each rate limit: the request after the burst gets
// RATE_LIMITED with a retry hint, in the body and in Retry-After.
func TestRateLimits(t *testing.T) {
	env := sqliteEnv(t,
		veiltest.WithHTTPOptions(httpapi.Options{SessionRate: rate.Every(time.Hour), SessionBurst: 3, AnonymousRate: rate.Every(time.Hour), AnonymousBurst: 4}),
		veiltest.WithSignInLimiter(ratelimit.New(rate.Every(time.Hour), 2)))
	w, err := seed.Demo(context.Background(), env.Store.Client, env.Accounts, env.Clock)
	if err != nil {
		t.Fatal(err)
	}
	check := func(t *testing.T, r veiltest.Response) {
		t.Helper()
		if r.Code() != "RATE_LIMITED" || r.Errors[0].Extensions["retryAfterSeconds"] == nil {
			t.Errorf("want RATE_LIMITED with a retry hint: %d %s", r.Status, r.Raw)
		}
	}
	t.Run("per session", func(t *testing.T) {
		for i := range 3 {
			if r := env.Do(veiltest.Request{Token: w.Tokens["adult"], Query: "{ me { id } }"}); len(r.Errors) > 0 {
				t.Fatalf("request %d: %s", i+1, r.Raw)
			}
		}
		r := env.Do(veiltest.Request{Token: w.Tokens["adult"], Query: "{ me { id } }"})
		check(t, r)
		if r.Status != http.StatusTooManyRequests {
			t.Errorf("status %d", r.Status)
		}
		if r := env.Do(veiltest.Request{Token: w.Tokens["teen"], Query: "{ me { id } }"}); len(r.Errors) > 0 {
			t.Errorf("another session was limited too: %s", r.Raw)
		}
	})
	t.Run("sign-in per address", func(t *testing.T) {
		login := veiltest.Request{Query: `mutation { requestLoginCode(phone: "13712345678") { expiresInSeconds } }`}
		env.Do(login) // 1: sent
		env.Do(login) // 2: the per-phone limit answers, the address budget is spent
		check(t, env.Do(veiltest.Request{Query: `mutation { login(phone: "13712345670", code: "123456") { token } }`}))
	})
	t.Run("anonymous per address", func(t *testing.T) {
		// Three of the four anonymous requests went to signing in above.
		if r := env.Do(veiltest.Request{Query: "{ listings { totalCount } }"}); len(r.Errors) > 0 {
			t.Fatalf("the fourth anonymous request: %s", r.Raw)
		}
		check(t, env.Do(veiltest.Request{Query: "{ listings { totalCount } }"}))
	})
}

// TestUnknownTokensAreRateLimited: requests with a bearer token that
// does not exist count against their address's anonymous limit, so
// guessing tokens (each a look-up in the store) is bounded like anything
// else an anonymous caller does.
func TestUnknownTokensAreRateLimited(t *testing.T) {
	env := sqliteEnv(t, veiltest.WithHTTPOptions(httpapi.Options{SessionRate: rate.Every(time.Hour), SessionBurst: 3, AnonymousRate: rate.Every(time.Hour), AnonymousBurst: 4}))
	statuses := map[int]int{}
	for i := range 8 {
		r := env.Do(veiltest.Request{Token: fmt.Sprintf("veil_%064d", i), Query: "{ me { id } }"})
		statuses[r.Status]++
		if r.Status == http.StatusTooManyRequests && r.Code() != "RATE_LIMITED" {
			t.Errorf("429 without RATE_LIMITED: %s", r.Raw)
		}
	}
	if statuses[http.StatusUnauthorized] != 4 || statuses[http.StatusTooManyRequests] != 4 {
		t.Errorf("statuses %v: want the anonymous burst of 4 answered 401, the rest 429", statuses)
	}
}

// TestGraphQLOverHTTP checks media types, status codes and negotiation.
func TestGraphQLOverHTTP(t *testing.T) {
	env := sqliteEnv(t)
	post := func(accept, query string) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, env.Server.URL+"/graphql", strings.NewReader(`{"query":"`+query+`"}`))
		req.Header.Set("Content-Type", "application/json")
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		req.Header.Set("X-Request-Id", "client-chosen-id-42")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	tests := []struct {
		name, accept, query, wantType string
		wantStatus                    int
	}{
		{"graphql-response+json", "application/graphql-response+json", "{ listings { totalCount } }", "application/graphql-response+json", 200},
		{"a document error with graphql-response+json is a 400", "application/graphql-response+json", "{ nope }", "application/graphql-response+json", 400},
		{"plain JSON", "application/json", "{ listings { totalCount } }", "application/json", 200},
		{"no Accept", "", "{ listings { totalCount } }", "application/json", 200},
		{"nothing acceptable", "text/html", "{ listings { totalCount } }", "application/json", 406},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := post(tt.accept, tt.query)
			if resp.StatusCode != tt.wantStatus || !strings.HasPrefix(resp.Header.Get("Content-Type"), tt.wantType) {
				t.Errorf("got %d %s, want %d %s", resp.StatusCode, resp.Header.Get("Content-Type"), tt.wantStatus, tt.wantType)
			}
			// The id is Veil's own: a client's header never reaches the log.
			if id := resp.Header.Get("X-Request-Id"); len(id) != 16 || id == "client-chosen-id-42" {
				t.Errorf("request id %q", id)
			}
		})
	}
}

// TestOperationsEndpoints checks health, readiness and metrics, and that
// readiness turns red when the store goes away.
func TestOperationsEndpoints(t *testing.T) {
	env := sqliteEnv(t)
	w, err := seed.Demo(context.Background(), env.Store.Client, env.Accounts, env.Clock)
	if err != nil {
		t.Fatal(err)
	}
	env.MustDo(veiltest.Request{Token: w.Tokens["support"], Query: `query Peek($id: ID!) { node(id: $id) { ... on User { phone } } }`,
		Variables: map[string]any{"id": veiltest.ID(w.Users["adult"].ID)}})
	// Operation names are the client's: none may become a label.
	for i := range 20 {
		env.Do(veiltest.Request{Query: fmt.Sprintf(`query Leak13800138000n%d { dataInventory { markdown } }`, i)})
	}
	env.Do(veiltest.Request{Query: `query Leak13800138000x { nosuchField }`})
	get := func(path string) (int, string) {
		resp, err := http.Get(env.Server.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Errorf("/healthz %d", code)
	}
	if code, _ := get("/readyz"); code != 200 {
		t.Errorf("/readyz %d", code)
	}
	code, body := get("/metrics")
	for _, want := range []string{
		`veil_graphql_requests_total{operation="query node",outcome="ok"}`,
		`veil_graphql_requests_total{operation="query dataInventory",outcome="ok"}`,
		`veil_graphql_requests_total{operation="unknown",outcome="error"}`,
		`veil_graphql_request_duration_seconds_bucket{operation="query node"`,
		`veil_withheld_values_total{class="contact",decision="MASKED"}`,
		`veil_audit_entries_total{action="CONSENT_GRANTED"}`,
	} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(body, "Leak") || strings.Contains(body, "Peek") {
		t.Error("/metrics holds a client's operation name")
	}
	env.Store.DB.Close()
	if code, _ := get("/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz with the store gone: %d", code)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Errorf("/healthz with the store gone: %d", code)
	}
}
