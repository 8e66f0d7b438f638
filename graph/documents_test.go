package graph_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"veil/graph"
	"veil/seed"
	"veil/veiltest"
)

const (
	meDocument     = "query Me { me { nickname } }\n"
	logoutDocument = "mutation Logout { logout }\n"
	acceptDocument = "mutation Accept($v: String!) { acceptPolicy(version: $v) { id } }\n"
)

// registered writes the documents of the tests to a directory and loads it.
func registered(t *testing.T) *graph.Documents {
	t.Helper()
	dir := t.TempDir()
	for name, text := range map[string]string{"me": meDocument, "logout": logoutDocument, "accept": acceptDocument} {
		if err := os.WriteFile(filepath.Join(dir, name+".graphql"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	docs, err := graph.LoadDocuments(dir)
	if err != nil {
		t.Fatal(err)
	}
	return docs
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// post sends body (a JSON object) with token, and decodes the answer.
func post(env *veiltest.Env, token string, body map[string]any) veiltest.Response {
	env.T.Helper()
	b, _ := json.Marshal(body)
	return env.PostRaw(env.Server.URL, token, "", "application/json", b)
}

// get sends a GET with the query string q and token.
func get(env *veiltest.Env, token string, q url.Values) veiltest.Response {
	env.T.Helper()
	hr, _ := http.NewRequest(http.MethodGet, env.Server.URL+"/graphql?"+q.Encode(), nil)
	hr.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		env.T.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out veiltest.Response
	json.Unmarshal(raw, &out)
	out.Status, out.Raw = resp.StatusCode, string(raw)
	return out
}

// TestOnlyRegisteredDocumentsRun starts a server with an allow-list:
// registered documents run by documentId (POST and GET), by a persisted
// query's hash, or sent in full; any other document is refused, except
// from staff; a mutation does not run over GET; the metrics name
// registered documents by their name.
func TestOnlyRegisteredDocumentsRun(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env0 *veiltest.Env) {
		env := veiltest.New(t, env0.DatabaseURL, veiltest.WithDocuments(registered(t)))
		w, err := seed.Demo(context.Background(), env.Store.Client, env.Accounts, env.Clock)
		if err != nil {
			t.Fatal(err)
		}
		adult, admin := w.Tokens["adult"], w.Tokens["admin"]
		meID, logoutID := graph.DocumentID(meDocument), graph.DocumentID(logoutDocument)
		ok := func(what string, r veiltest.Response) {
			t.Helper()
			if len(r.Errors) > 0 || veiltest.Dig(r.Data, "me.nickname") != "阿伟" {
				t.Errorf("%s: %s", what, r.Raw)
			}
		}
		refused := func(what string, r veiltest.Response, code string) {
			t.Helper()
			if r.Code() != code || r.Data != nil {
				t.Errorf("%s: want %s and no data, got %s", what, code, r.Raw)
			}
		}
		ok("documentId", post(env, adult, map[string]any{"documentId": meID}))
		ok("documentId over GET", get(env, adult, url.Values{"documentId": {meID}}))
		ok("a persisted query's hash", post(env, adult, map[string]any{"extensions": map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": sha256Hex(meDocument)}}}))
		ok("the registered text", post(env, adult, map[string]any{"query": meDocument}))
		ok("the text with its documentId", post(env, adult, map[string]any{"query": meDocument, "documentId": meID}))

		refused("a free document", post(env, adult, map[string]any{"query": "{ me { nickname phone } }"}), "FORBIDDEN")
		refused("a free document over GET", get(env, adult, url.Values{"query": {"{ me { nickname phone } }"}}), "FORBIDDEN")
		refused("an anonymous free document", post(env, "", map[string]any{"query": "{ listings(first: 1) { totalCount } }"}), "FORBIDDEN")
		refused("an unknown documentId", post(env, adult, map[string]any{"documentId": "sha256:" + sha256Hex("{ me { phone } }")}), "VALIDATION_FAILED")
		refused("a malformed documentId", post(env, adult, map[string]any{"documentId": "me"}), "VALIDATION_FAILED")
		refused("a documentId that is not a string", post(env, adult, map[string]any{"documentId": 12}), "VALIDATION_FAILED")
		refused("a documentId with another text", post(env, adult, map[string]any{"documentId": meID, "query": "{ me { nickname phone } }"}), "VALIDATION_FAILED")
		refused("a documentId in the client's extensions", get(env, adult, url.Values{"query": {""}, "extensions": {`{"veil.documentId": "` + logoutID + `"}`}}), "VALIDATION_FAILED")
		// Automatic persisted queries would let a client register any
		// document: with a list they are off.
		apq := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": sha256Hex("{ me { phone } }")}}
		refused("registering a persisted query", post(env, adult, map[string]any{"query": "{ me { phone } }", "extensions": apq}), "VALIDATION_FAILED")
		refused("a persisted query registered", post(env, adult, map[string]any{"extensions": apq}), "VALIDATION_FAILED")

		for _, id := range []string{logoutID, graph.DocumentID(acceptDocument)} { // the second lacks its variable
			r := get(env, adult, url.Values{"documentId": {id}})
			if r.Status != http.StatusMethodNotAllowed || r.Code() != "VALIDATION_FAILED" {
				t.Errorf("a mutation by documentId over GET: %d %s", r.Status, r.Raw)
			}
		}
		ok("the session, still open after the GET", post(env, adult, map[string]any{"documentId": meID}))

		// Staff write their own documents in the console.
		for token, nickname := range map[string]string{admin: "管理员", w.Tokens["support"]: "客服小张", w.Tokens["auditor"]: "审计员"} {
			if r := post(env, token, map[string]any{"query": "{ me { nickname } }"}); len(r.Errors) > 0 || veiltest.Dig(r.Data, "me.nickname") != nickname {
				t.Errorf("a free document of %s: %s", nickname, r.Raw)
			}
		}
		if r := post(env, adult, map[string]any{"documentId": logoutID}); veiltest.Dig(r.Data, "logout") != true {
			t.Errorf("a registered mutation: %s", r.Raw)
		}

		resp, err := http.Get(env.Server.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		metrics, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, want := range []string{`operation="document me"`, `operation="document logout"`} {
			if !strings.Contains(string(metrics), want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
	})
}

// TestWithoutAListDocumentsAreFree checks the default: any document runs,
// automatic persisted queries work, a documentId is refused as naming
// nothing, and a persisted mutation does not run over GET.
func TestWithoutAListDocumentsAreFree(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		w, err := seed.Demo(context.Background(), env.Store.Client, env.Accounts, env.Clock)
		if err != nil {
			t.Fatal(err)
		}
		adult := w.Tokens["adult"]
		if r := post(env, adult, map[string]any{"query": "{ me { nickname } }"}); veiltest.Dig(r.Data, "me.nickname") != "阿伟" {
			t.Errorf("a free document: %s", r.Raw)
		}
		if r := post(env, adult, map[string]any{"documentId": graph.DocumentID(meDocument)}); r.Code() != "VALIDATION_FAILED" {
			t.Errorf("a documentId without a list: %s", r.Raw)
		}
		apq := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": sha256Hex(meDocument)}}
		if r := post(env, adult, map[string]any{"query": meDocument, "extensions": apq}); veiltest.Dig(r.Data, "me.nickname") != "阿伟" {
			t.Errorf("registering a persisted query: %s", r.Raw)
		}
		if r := post(env, adult, map[string]any{"extensions": apq}); veiltest.Dig(r.Data, "me.nickname") != "阿伟" {
			t.Errorf("a persisted query by its hash: %s", r.Raw)
		}
		mutation := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": sha256Hex(logoutDocument)}}
		// Registered by a POST that is refused for its missing token, so
		// that the session is still open when GET sends its hash.
		post(env, "", map[string]any{"query": logoutDocument, "extensions": mutation})
		ext, _ := json.Marshal(mutation)
		r := get(env, adult, url.Values{"extensions": {string(ext)}})
		if r.Status != http.StatusMethodNotAllowed || r.Code() != "VALIDATION_FAILED" {
			t.Errorf("a persisted mutation over GET: %d %s", r.Status, r.Raw)
		}
		if r := post(env, adult, map[string]any{"query": "{ me { nickname } }"}); r.Code() != "" {
			t.Errorf("the session after the GET: %s", r.Raw)
		}
	})
}

// TestDocumentsThatDoNotValidateStopTheStart checks the list is checked
// when it is loaded.
func TestDocumentsThatDoNotValidateStopTheStart(t *testing.T) {
	for name, files := range map[string]map[string]string{
		"unknown field":  {"me": "{ me { shoeSize } }"},
		"syntax":         {"me": "{ me { nickname }"},
		"a name":         {"me please": meDocument},
		"the same twice": {"a": meDocument, "b": meDocument},
		"empty":          {},
	} {
		dir := t.TempDir()
		for n, text := range files {
			os.WriteFile(filepath.Join(dir, n+".graphql"), []byte(text), 0o644)
		}
		if _, err := graph.LoadDocuments(dir); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
}

// TestDocumentsOverTheLimitsStopTheStart checks that a registered document
// every request of which would be refused for its shape is found at start.
func TestDocumentsOverTheLimitsStopTheStart(t *testing.T) {
	dir := t.TempDir()
	var aliases strings.Builder
	for i := range graph.DefaultLimits.Aliases + 1 {
		fmt.Fprintf(&aliases, "a%d: me { id } ", i)
	}
	os.WriteFile(filepath.Join(dir, "aliases.graphql"), []byte("{ "+aliases.String()+"}"), 0o644)
	docs, err := graph.LoadDocuments(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := docs.CheckLimits(graph.DefaultLimits); err == nil || !strings.Contains(err.Error(), "aliases") {
		t.Errorf("a document over the alias limit: %v", err)
	}
	if err := registered(t).CheckLimits(graph.DefaultLimits); err != nil {
		t.Error(err)
	}
}
