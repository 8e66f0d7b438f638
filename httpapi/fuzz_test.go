package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"veil/fault"
	"veil/seed"
	"veil/veiltest"
)

// Canary values: personal data of the kinds Veil protects, planted in the
// seed corpus (bodies, variables, IDs, headers) and searched for in the log
// after every input. None may ever appear there.
var canaries = []string{
	"卡纳莉试验", "11010519491231002X", "13987650123", "739146", "canary-7Qx9Lw", "veil_canaryTok3n",
}

// fuzzBodies are the seed corpus's POST bodies: real documents, and the
// malformed and hostile inputs that once got INTERNAL or an uncoded answer,
// or reached the log.
var fuzzBodies = []string{
	`{"query":"{ me { id nickname phone } }"}`,
	`{"query":"{ listings(first: 5) { totalCount edges { cursor node { id title } } } }"}`,
	`{"query":"query($id: ID!) { node(id: $id) { id ... on User { nickname phone } } }","variables":{"id":"VXNlcjox"}}`,
	`{"query":"mutation($p: String!) { requestLoginCode(phone: $p) { expiresInSeconds } }","variables":{"p":"13987650123"}}`,
	`{"query":"mutation($p: String!, $c: String!) { login(phone: $p, code: $c) { token } }","variables":{"p":"13987650123","c":"739146"}}`,
	`{"query":"mutation($in: RealNameInput!) { submitRealName(input: $in) { id } }","variables":{"in":{"realName":"卡纳莉试验","idNumber":"11010519491231002X"}}}`,
	`{"query":"mutation($in: [ContactInput!]!) { uploadContacts(input: $in) { id } }","variables":{"in":[{"name":"卡纳莉试验","phone":"13987650123"}]}}`,
	`{"query":"mutation { correctMyData(input: {nickname: \"canary-7Qx9Lw\"}) { nickname } }"}`,
	`{"query":"mutation { linkChild(input: {childPhone: \"13987650123\"}) { requested code } }"}`,
	`{"query":"mutation { linkChild(input: {childPhone: \"13987650123\"}) { requested guardian { id } } }"}`,
	`{"query":"mutation { answerGuardianRequest(requestId: \"canary-7Qx9Lw\", accept: true, code: \"739146\") { id } }"}`,
	// Wrong-typed members of a body that is JSON.
	`{"query":"{ me { id } }","operationName":13987650123,"variables":{"realName":"卡纳莉试验"}}`,
	`{"query":"{ me { id } }","variables":"11010519491231002X"}`,
	`{"query":"{ me { id } }","variables":["13987650123"]}`,
	`{"query":"{ me { id } }","extensions":["739146","canary-7Qx9Lw"]}`,
	`{"query":["卡纳莉试验"]}`,
	`{"query":"{ me { id } }","variables":{"x":1e999999}}`,
	// Malformed and overflowing IDs, cursors and times.
	`{"query":"{ node(id: \"canary-7Qx9Lw\") { id } }"}`,
	`{"query":"{ node(id: \"VXNlcjo5OTk5OTk5OTk5OTk5OTk5OTk5OTk5\") { id } }"}`,
	`{"query":"{ node(id: \"VXNlcjotMQ\") { id } }"}`,
	`{"query":"query($ids: [ID!]!) { nodes(ids: $ids) { id } }","variables":{"ids":["VXNlcjoxMDAwMDAw","VXNlcjoxMDAwMDAx","13987650123"]}}`,
	`{"query":"{ listings(after: \"canary-7Qx9Lw\") { totalCount } }"}`,
	`{"query":"{ me { id listings(after: \"canary-7Qx9Lw\") { totalCount } } }"}`,
	`{"query":"query($c: Cursor) { me { orders(before: $c) { totalCount } } }","variables":{"c":"13987650123"}}`,
	`{"query":"{ listings(first: 2, last: 2) { totalCount } }"}`,
	`{"query":"{ listings(first: -1) { totalCount } }"}`,
	`{"query":"{ listings(first: 99999999999) { totalCount } }"}`,
	`{"query":"{ listings(where: {createdAtGT: \"13987650123\"}) { totalCount } }"}`,
	`{"query":"query($id: ID!) { node(id: $id) { id } }","variables":{"id":13987650123}}`,
	`{"query":"query($id: ID!) { node(id: $id) { id } }","variables":{"id":null}}`,
	// A NUL byte in a string (PostgreSQL refuses it in text).
	`{"query":"mutation($n: String) { correctMyData(input: {nickname: $n}) { nickname } }","variables":{"n":"canary\u0000-7Qx9Lw"}}`,
	`{"query":"mutation($p: String!) { requestLoginCode(phone: $p) { expiresInSeconds } }","variables":{"p":"1398765\u00000123"}}`,
	`{"query":"query($t: String) { listings(where: {titleContains: $t}) { totalCount } }","variables":{"t":"canary\u0000"}}`,
	`{"query":"mutation($in: [ContactInput!]!) { uploadContacts(input: $in) { id } }","variables":{"in":[{"name":"卡纳莉\u0000试验","phone":"13987650123"}]}}`,
	`{"query":"mutation($r: String) { grantConsent(purpose: THIRD_PARTY_SHARING, recipient: $r) { purpose } }","variables":{"r":"canary\u0000-7Qx9Lw"}}`,
	`{"query":"mutation($v: String!) { acceptPolicy(version: $v) { purpose } }","variables":{"v":"canary\u0000"}}`,
	`{"query":"query($n: Int) { listings(first: $n) { totalCount } }","variables":{"n":"13987650123"}}`,
	`{"query":"query($n: Int) { listings(first: $n) { totalCount } }","variables":{"n":13987650123}}`,
	`{"query":"query($k: ConsentPurpose!) { me { id } }","variables":{"k":"canary-7Qx9Lw"}}`,
	`{"query":"query($b: Boolean!) { me { id } }","variables":{"b":"卡纳莉试验"}}`,
	// Persisted queries.
	`{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"11010519491231002X"}}}`,
	`{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"ecf4edb46db40b5132295c0291d62fb65d6759a9eedfa4d5d612dd5ec54a6b38"}}}`,
	`{"query":"{ me { id } }","extensions":{"persistedQuery":{"version":1,"sha256Hash":"canary-7Qx9Lw"}}}`,
	`{"extensions":{"persistedQuery":"739146"}}`,
	// Documents that do not parse or validate, and operation names.
	`{"query":"{ me { id "}`,
	`{"query":"{ me { canary_7Qx9Lw } }"}`,
	`{"query":"query Leak13987650123 { me { id } }","operationName":"Leak13987650123"}`,
	`{"query":"query A { me { id } } query B { me { id } }","operationName":"卡纳莉试验"}`,
	`{"query":"query A { me { id } } query B { me { id } }"}`,
	`{"query":"mutation { cancelAccount(confirm: true) { cancelled } n: correctMyData(input: {nickname: \"canary-7Qx9Lw\"}) { nickname } }"}`,
	`{"query":"{ __schema { types { name } } }"}`,
	`{"query":"{ a: me { id } b: me { id } c: me { id } d: me { id } }"}`,
	`{"query":`,
	`[]`,
	`null`,
	``,
}

// fuzzQueries are the seed corpus's GET query strings.
var fuzzQueries = []string{
	"query=" + url.QueryEscape("{ listings { totalCount } }"),
	"query=" + url.QueryEscape("query($id: ID!) { node(id: $id) { id } }") + "&variables=" + url.QueryEscape(`{"id":"canary-7Qx9Lw"}`),
	"query=" + url.QueryEscape("{ me { id } }") + "&variables=" + url.QueryEscape(`["13987650123"]`),
	"query=" + url.QueryEscape("{ me { id } }") + "&variables=11010519491231002X",
	"query=" + url.QueryEscape("{ me { id } }") + "&extensions=" + url.QueryEscape(`"739146"`),
	"query=" + url.QueryEscape(`mutation { requestLoginCode(phone: "13987650123") { expiresInSeconds } }`),
	"query=%zz13987650123",
	"extensions=" + url.QueryEscape(`{"persistedQuery":{"version":1,"sha256Hash":"canary-7Qx9Lw"}}`),
	"",
}

// FuzzHandler sends arbitrary requests through the whole HTTP handler, on
// PostgreSQL when VEIL_TEST_POSTGRES_URL is set and on SQLite otherwise,
// as anonymous callers, users, staff, admins and bearers of a forged
// token. Every answer from /graphql must be a JSON GraphQL response whose
// errors all carry a contract code, never INTERNAL (the store is up: every
// failure is the client's input), with no 5xx status; and the log must
// hold no canary value. CI runs it for a bounded time (.ci/run); its
// corpus is the seeds below and testdata/fuzz/FuzzHandler.
func FuzzHandler(f *testing.F) {
	database := "sqlite:" + filepath.Join(f.TempDir(), "veil.db")
	if base := os.Getenv(veiltest.PostgresEnv); base != "" {
		database = veiltest.FreshPostgresSchema(f, base)
	}
	env := veiltest.New(f, database)
	w, err := seed.Demo(context.Background(), env.Store.Client, env.Accounts, env.Clock)
	if err != nil {
		f.Fatal(err)
	}
	bearers := []string{"", w.Tokens["adult"], w.Tokens["teen"], w.Tokens["child"], w.Tokens["guardian"],
		w.Tokens["unverified"], w.Tokens["support"], w.Tokens["admin"], "veil_canaryTok3n"}
	var logs syncBuffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	f.Cleanup(func() { slog.SetDefault(prev) })

	for i, body := range fuzzBodies {
		f.Add("POST", uint8(i), "", "application/json", "", "", "", []byte(body))
	}
	for i, q := range fuzzQueries {
		f.Add("GET", uint8(i), "", "", "application/graphql-response+json", "", q, []byte(nil))
	}
	// Headers: a purpose and a request id are the client's words too.
	f.Add("POST", uint8(6), "after_sales", "application/json", "", "13987650123", "", []byte(fuzzBodies[2]))
	f.Add("POST", uint8(6), "canary-7Qx9Lw", "application/json", "", "", "", []byte(fuzzBodies[0]))
	f.Add("POST", uint8(1), "", "application/json; charset=卡纳莉试验", "", "", "", []byte(fuzzBodies[0]))
	f.Add("POST", uint8(1), "", "application/json", "text/卡纳莉试验", "", "", []byte(fuzzBodies[0]))
	f.Add("PUT", uint8(0), "", "application/json", "", "", "", []byte(fuzzBodies[0]))
	f.Add("POST", uint8(0), "", "application/x-www-form-urlencoded", "", "", "", []byte("query=13987650123"))

	f.Fuzz(func(t *testing.T, method string, who uint8, purpose, contentType, accept, requestID, rawQuery string, body []byte) {
		r, err := http.NewRequestWithContext(context.Background(), method, "/graphql", bytes.NewReader(body))
		if err != nil {
			return // not a request net/http would deliver
		}
		r.URL.RawQuery = rawQuery
		r.RemoteAddr = "192.0.2.1:4321"
		header := map[string]string{"Content-Type": contentType, "Accept": accept, "X-Access-Purpose": purpose, "X-Request-Id": requestID}
		if token := bearers[int(who)%len(bearers)]; token != "" {
			header["Authorization"] = "Bearer " + token
		}
		for k, v := range header {
			if v != "" {
				r.Header.Set(k, v)
			}
		}
		logged := len(logs.String())
		rec := httptest.NewRecorder()
		env.App.Handler.ServeHTTP(rec, r)

		if rec.Code >= 500 {
			t.Errorf("status %d: %s", rec.Code, rec.Body)
		}
		checkGraphQLAnswer(t, rec.Body.Bytes(), documentNames(rawQuery, body))
		if leaked := logs.String()[logged:]; leaked != "" {
			for _, c := range canaries {
				if holdsCanary(leaked, c) || holdsCanary(leaked, strings.Trim(strconv.QuoteToASCII(c), `"`)) {
					t.Errorf("the log holds the canary %q:\n%s", c, leaked)
				}
			}
		}
	})
}

// holdsCanary reports whether log holds c as a value of its own, not as a
// run of characters inside a longer token: a random request ID, an opaque
// ID or a timestamp holds a run like a 6-digit login code by chance (CI
// once failed on a request ID that did).
func holdsCanary(log, c string) bool {
	word := func(b byte) bool {
		return b == '_' || b == '-' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
	}
	for i := 0; i < len(log); {
		j := strings.Index(log[i:], c)
		if j < 0 {
			return false
		}
		j += i
		if (j == 0 || !word(log[j-1])) && (j+len(c) == len(log) || !word(log[j+len(c)])) {
			return true
		}
		i = j + 1
	}
	return false
}

// checkGraphQLAnswer checks that body is a GraphQL response: an object with
// data or errors, and every error has a message and a contract code other
// than INTERNAL, and repeats no canary value: a message may quote the
// document's names (in names, the client's code), never its values.
func checkGraphQLAnswer(t *testing.T, body []byte, names []string) {
	t.Helper()
	var resp struct {
		Data   *json.RawMessage `json:"data"`
		Errors []struct {
			Message    *string        `json:"message"`
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatalf("the answer is not a JSON object: %v: %s", err, body)
	}
	if resp.Data == nil && len(resp.Errors) == 0 {
		t.Fatalf("the answer has neither data nor errors: %s", body)
	}
	for _, e := range resp.Errors {
		code, _ := e.Extensions["code"].(string)
		switch {
		case e.Message == nil || *e.Message == "":
			t.Errorf("an error without a message: %s", body)
		case !slices.Contains(fault.Codes, fault.Code(code)):
			t.Errorf("an error without a contract code: %s", body)
		case code == string(fault.Internal):
			t.Errorf("INTERNAL for a client's input: %s", body)
		}
		if e.Message == nil {
			continue
		}
		for _, c := range canaries {
			if strings.Contains(*e.Message, c) && !slices.ContainsFunc(names, func(n string) bool { return strings.Contains(n, c) }) {
				t.Errorf("an error message repeats the canary %q: %s", c, body)
			}
		}
	}
}

var graphQLName = regexp.MustCompile(`[_A-Za-z][_0-9A-Za-z]*`)

// documentNames returns the GraphQL names in the request's document (its
// query string for GET, its body's query for POST), string literals left
// out.
func documentNames(rawQuery string, body []byte) []string {
	var doc string
	if q, err := url.ParseQuery(rawQuery); err == nil && q.Get("query") != "" {
		doc = q.Get("query")
	} else {
		var req struct{ Query string }
		json.Unmarshal(body, &req)
		doc = req.Query
	}
	doc = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`).ReplaceAllString(doc, " ")
	return graphQLName.FindAllString(doc, -1)
}

func TestHoldsCanary(t *testing.T) {
	for log, want := range map[string]bool{
		`"code":"739146"`:                       true,
		`code=739146 ok`:                        true,
		"739146":                                true,
		`"request_id":"a1b27391469c3d4e"`:       false,
		`"time":"2026-12-03T08:17:23.7391461Z"`: false,
		`卡纳莉739146`:                             true,
	} {
		if got := holdsCanary(log, "739146"); got != want {
			t.Errorf("holdsCanary(%q) = %v, want %v", log, got, want)
		}
	}
}
