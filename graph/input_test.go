package graph_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"veil/ent"
	"veil/seed"
	"veil/veiltest"
)

// TestMalformedInputIsCoded sends inputs a client can get wrong: each is
// answered VALIDATION_FAILED in words of the server's own, never INTERNAL,
// and nothing of the request reaches the answer or the log.
func TestMalformedInputIsCoded(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		w, err := seed.Demo(context.Background(), env.Store.Client, env.Accounts, env.Clock)
		if err != nil {
			t.Fatal(err)
		}
		var logs bytes.Buffer
		old := slog.Default()
		slog.SetDefault(slog.New(slog.NewTextHandler(&logs, nil)))
		defer slog.SetDefault(old)
		const canary = "13800999999"
		support, auditor := w.Tokens["support"], w.Tokens["auditor"]
		// A cursor holding a value of another type is refused on
		// PostgreSQL; SQLite compares values of any type, and answers.
		mayAnswer := map[string]bool{"a cursor of another order": true, "a forged cursor value": true, "a forged nested cursor": true, "offset out of range": true}
		bodies := map[string]struct{ token, purpose, body string }{
			"malformed cursor":           {support, "", `{"query":"{ users(first: 2, after: \"` + canary + `\") { totalCount } }"}`},
			"first and last":             {support, "", `{"query":"{ users(first: 2, last: 2) { totalCount } }"}`},
			"empty filter":               {"", "", `{"query":"{ listings(where: {not: {}}) { totalCount } }"}`},
			"empty filter in a list":     {"", "", `{"query":"{ listings(where: {or: [{}]}) { totalCount } }"}`},
			"offset out of range":        {"", "", `{"query":"{ listings(where: {createdAtGT: \"2026-01-01T00:00:00+16:00\"}) { totalCount } }"}`},
			"a huge list in a filter":    {"", "", `{"query":"query($w: ListingWhereInput) { listings(where: $w) { totalCount } }","variables":{"w":{"priceFenIn":[` + strings.Repeat("1,", 70000) + `1]}}}`},
			"a cursor of another order":  {"", "", `{"query":"{ listings(first: 2, after: \"` + cursorOf(3000) + `\", orderBy: {field: CREATED_AT}) { edges { node { id } } } }"}`},
			"a forged cursor value":      {"", "", `{"query":"{ listings(first: 2, after: \"` + cursorOf(canary+" 110101199003071234") + `\", orderBy: {field: PRICE}) { edges { node { id } } } }"}`},
			"a forged nested cursor":     {w.Tokens["adult"], "", `{"query":"{ me { orders(after: \"` + cursorOf("手") + `\") { edges { node { id } } } } }"}`},
			"malformed nested cursor":    {w.Tokens["adult"], "", `{"query":"{ me { id listings(after: \"` + canary + `\") { totalCount } } }"}`},
			"malformed cursor in a list": {support, "", `{"query":"{ users(first: 2) { edges { node { orders(before: \"` + canary + `\") { totalCount } } } } }"}`},
			"malformed cursor variable":  {w.Tokens["adult"], "", `{"query":"query($c: Cursor) { me { orders(after: $c) { totalCount } } }","variables":{"c":"` + canary + `"}}`},
			"bad time in a filter":       {auditor, "audit", `{"query":"{ auditEvents(from: \"` + canary + `\") { totalCount } }"}`},
			"variables not a map":        {"", "", `{"query":"{ dataInventory { markdown } }","variables":"` + canary + `"}`},
			"extensions not a map":       {"", "", `{"query":"{ dataInventory { markdown } }","extensions":"` + canary + `"}`},
			"operationName a number":     {"", "", `{"query":"{ dataInventory { markdown } }","operationName":13800999999}`},
			"unknown persisted hash":     {"", "", `{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"` + strings.Repeat("ab", 32) + `"}}}`},
			"a value of no enum":         {w.Tokens["adult"], "", `{"query":"mutation($p: ConsentPurpose!) { grantConsent(purpose: $p) { id } }","variables":{"p":"` + canary + ` 110101199003071234"}}`},
			"an unknown input field":     {w.Tokens["adult"], "", `{"query":"mutation($in: RealNameInput!) { submitRealName(input: $in) { id } }","variables":{"in":{"realName":"x","idNumber":"y","` + canary + `":1}}}`},
			"a number as an enum":        {w.Tokens["adult"], "", `{"query":"mutation($p: ConsentPurpose!) { grantConsent(purpose: $p) { id } }","variables":{"p":` + canary + `}}`},
		}
		for name, b := range bodies {
			r := env.PostRaw(env.Server.URL, b.token, b.purpose, "application/json", []byte(b.body))
			coded := r.Code() == "VALIDATION_FAILED" || mayAnswer[name] && len(r.Errors) == 0 && r.Status == http.StatusOK
			if !coded || strings.Contains(r.Raw, canary) || strings.Contains(r.Raw, "110101199003071234") {
				t.Errorf("%s: %d %s", name, r.Status, r.Raw)
			}
		}
		hr, _ := http.NewRequest(http.MethodGet, env.Server.URL+"/graphql?query=%7B+me+%7B+id+%7D+%7D&variables=%7B"+canary, nil)
		resp, err := http.DefaultClient.Do(hr)
		if err != nil {
			t.Fatal(err)
		}
		var body bytes.Buffer
		body.ReadFrom(resp.Body)
		resp.Body.Close()
		if !strings.Contains(body.String(), `"code":"VALIDATION_FAILED"`) || strings.Contains(body.String(), canary) {
			t.Errorf("bad variables over GET: %d %s", resp.StatusCode, body.String())
		}
		if strings.Contains(logs.String(), canary) || strings.Contains(logs.String(), "110101199003071234") {
			t.Errorf("the log holds a request's content:\n%s", logs.String())
		}
	})
}

// TestNoSuggestionsMapTheSchema: misspelt names get no "did you mean",
// which would map the schema that introspection hides.
func TestNoSuggestionsMapTheSchema(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		for _, q := range []string{
			`{ listings(where: {hasSellerWit: [{}]}) { totalCount } }`,
			`{ listings(first: 1) { totalCoun } }`,
			`{ listing(first: 1) { totalCount } }`,
			`query($w: ListingWhereInput) { listings(where: $w) { totalCount } }`,
		} {
			r := env.Do(veiltest.Request{Query: q, Variables: map[string]any{"w": map[string]any{"hasSellerWit": true}}})
			if r.Code() != "VALIDATION_FAILED" || strings.Contains(strings.ToLower(r.Raw), "did you mean") {
				t.Errorf("%s: %s", q, r.Raw)
			}
		}
	})
}

// cursorOf is a pagination cursor holding v, as a client could make one.
func cursorOf(v any) string {
	var b bytes.Buffer
	ent.Cursor{ID: 1, Value: v}.MarshalGQL(&b)
	return strings.Trim(b.String(), `"`)
}
