// Package veiltest runs Veil the way clients see it, for tests: a fresh
// store per test (SQLite always; PostgreSQL when VEIL_TEST_POSTGRES_URL is
// set), the real HTTP handler on a loopback server, real GraphQL documents.
package veiltest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"veil/account"
	"veil/app"
	"veil/crypt"
	"veil/gid"
	"veil/graph"
	"veil/httpapi"
	"veil/identity"
	"veil/ratelimit"
	"veil/store"
)

// PostgresEnv names the variable holding the PostgreSQL URL for tests.
const PostgresEnv = "VEIL_TEST_POSTGRES_URL"

// LogEnv names the variable holding a file every test process appends its
// log to (the default logger's output, and the log of every server process
// a test starts), so that one run's whole log can be searched for personal
// values afterwards (TestTheRunsLogHoldsNoPersonalValue, .ci/run).
const LogEnv = "VEIL_TEST_LOG"

var runLog struct {
	once sync.Once
	file *os.File
}

// logToRunLog sends the default logger to the file LogEnv names, once per
// process, at debug level; it returns the file, or nil when LogEnv is unset.
func logToRunLog(t testing.TB) *os.File {
	runLog.once.Do(func() {
		path := os.Getenv(LogEnv)
		if path == "" {
			return
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			t.Fatalf("open the run log: %v", err)
		}
		runLog.file = f
		slog.SetDefault(slog.New(slog.NewJSONHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug})))
	})
	return runLog.file
}

// Now is the fixed clock of every test environment: noon in Beijing on
// 15 June 2026.
var Now = time.Date(2026, 6, 15, 12, 0, 0, 0, time.FixedZone("CST", 8*3600))

// Env is one running Veil for one test.
type Env struct {
	T testing.TB
	// App is the application under test, built as the server builds it.
	App      *app.App
	Store    *store.Store
	Accounts *account.Service
	// Server serves the real handler; Baseline serves the same schema with
	// the classification engine removed (every field raw), for comparison.
	Server   *httptest.Server
	Baseline *httptest.Server
	// Outbox is the development SMS outbox file.
	Outbox string
	// Clock is the time the environment runs at; tests may move it.
	Clock time.Time
	// DatabaseURL is the store's URL, for a second process on the same data.
	DatabaseURL string
}

// EachStore runs fn as a subtest on a fresh SQLite store and, when
// VEIL_TEST_POSTGRES_URL is set, on a fresh PostgreSQL schema.
func EachStore(t *testing.T, fn func(t *testing.T, env *Env)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		fn(t, New(t, "sqlite:"+filepath.Join(t.TempDir(), "veil.db")))
	})
	t.Run("postgres", func(t *testing.T) {
		base := os.Getenv(PostgresEnv)
		if base == "" {
			t.Skipf("%s is not set: set it to a PostgreSQL URL (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run this test on PostgreSQL", PostgresEnv)
		}
		fn(t, New(t, FreshPostgresSchema(t, base)))
	})
}

// FreshPostgresSchema creates an empty schema, dropped when the test ends,
// and returns a URL whose connections use it.
func FreshPostgresSchema(t testing.TB, base string) string {
	t.Helper()
	buf := make([]byte, 6)
	rand.Read(buf)
	name := "veiltest_" + hex.EncodeToString(buf)
	db, err := sql.Open("postgres", base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE SCHEMA " + name); err != nil {
		db.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		db.Exec("DROP SCHEMA " + name + " CASCADE")
		db.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}

// HTTPOptions are the HTTP limits of test servers: the defaults, with
// rates high enough that only tests of the limits meet them.
var HTTPOptions = httpapi.Options{SessionRate: 1000, SessionBurst: 1000, AnonymousRate: 1000, AnonymousBurst: 1000}

// Keyring is the fixed encryption keyring of every test environment.
var Keyring = &crypt.Keyring{
	Current: "test1",
	Keys:    map[string][]byte{"test1": []byte("veiltest data key, 32 bytes long")},
	Index:   []byte("veiltest index key, 32 bytes lon"),
}

// Option changes how New builds an environment.
type Option func(*settings)

type settings struct {
	http      httpapi.Options
	signIn    *ratelimit.Limiter
	documents *graph.Documents
}

// WithHTTPOptions sets the HTTP layer's limits.
func WithHTTPOptions(o httpapi.Options) Option { return func(s *settings) { s.http = o } }

// WithDocuments accepts the trusted documents d only (staff excepted).
func WithDocuments(d *graph.Documents) Option { return func(s *settings) { s.documents = d } }

// WithSignInLimiter limits sign-in per address.
func WithSignInLimiter(l *ratelimit.Limiter) Option { return func(s *settings) { s.signIn = l } }

// New starts Veil on the store at databaseURL.
func New(t testing.TB, databaseURL string, options ...Option) *Env {
	t.Helper()
	logToRunLog(t)
	if err := crypt.Use(Keyring); err != nil {
		t.Fatal(err)
	}
	env := &Env{T: t, Outbox: filepath.Join(t.TempDir(), "sms-outbox.txt"), Clock: Now, DatabaseURL: databaseURL}
	set := settings{http: HTTPOptions}
	for _, o := range options {
		o(&set)
	}
	a, err := app.New(context.Background(), app.Config{
		DatabaseURL:   databaseURL,
		SMS:           &account.Outbox{Path: env.Outbox},
		CodeKey:       []byte("veiltest code key, 32 bytes long"),
		Verifier:      identity.DevVerifier{},
		Face:          identity.DevFace{},
		SignInLimiter: set.signIn,
		Documents:     set.documents,
		HTTP:          set.http,
		Now:           env.now,
	})
	if err != nil {
		t.Fatalf("build the app: %v", err)
	}
	t.Cleanup(func() { a.Store.Close() })
	env.App, env.Store, env.Accounts = a, a.Store, a.Accounts
	env.Server = httptest.NewServer(a.Handler)
	env.Baseline = httptest.NewServer(a.Baseline())
	t.Cleanup(env.Server.Close)
	t.Cleanup(env.Baseline.Close)
	return env
}

func (e *Env) now() time.Time { return e.Clock }

// Response is a decoded GraphQL response.
type Response struct {
	Status     int
	Data       map[string]any
	Errors     []Error
	Extensions map[string]any
	Raw        string
}

// Error is one entry of a response's errors.
type Error struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Code returns the extensions.code of the first error, or "".
func (r Response) Code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// Request is one GraphQL request.
type Request struct {
	Token string
	// Authorization, when set, is sent as the header as it is, instead of
	// "Bearer " + Token.
	Authorization string
	Purpose       string
	Query         string
	Variables     map[string]any
}

// Do posts req to the real handler.
func (e *Env) Do(req Request) Response { return e.post(e.Server.URL, req) }

// DoBaseline posts req to the handler without the classification engine.
func (e *Env) DoBaseline(req Request) Response { return e.post(e.Baseline.URL, req) }

func (e *Env) post(base string, req Request) Response {
	e.T.Helper()
	hr, err := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(e.body(req)))
	if err != nil {
		e.T.Fatal(err)
	}
	hr.Header.Set("Content-Type", "application/json")
	authorize(hr.Header, req)
	return e.send(hr, "", "")
}

// body is req as a GraphQL-over-HTTP POST body.
func (e *Env) body(req Request) []byte {
	e.T.Helper()
	body, err := json.Marshal(map[string]any{"query": req.Query, "variables": req.Variables})
	if err != nil {
		e.T.Fatal(err)
	}
	return body
}

// authorize sets req's credentials and purpose on h: the Authorization
// header as given, or else a bearer token.
func authorize(h http.Header, req Request) {
	if req.Authorization != "" {
		h.Set("Authorization", req.Authorization)
	}
	if req.Token != "" {
		h.Set("Authorization", "Bearer "+req.Token)
	}
	if req.Purpose != "" {
		h.Set("X-Access-Purpose", req.Purpose)
	}
}

// Get sends query anonymously over GET to the real handler.
func (e *Env) Get(query string) Response {
	e.T.Helper()
	hr, err := http.NewRequest(http.MethodGet, e.Server.URL+"/graphql?query="+url.QueryEscape(query), nil)
	if err != nil {
		e.T.Fatal(err)
	}
	return e.send(hr, "", "")
}

// PostRaw posts an arbitrary body to base+"/graphql".
func (e *Env) PostRaw(base, token, purpose, contentType string, body []byte) Response {
	e.T.Helper()
	hr, err := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
	if err != nil {
		e.T.Fatal(err)
	}
	hr.Header.Set("Content-Type", contentType)
	return e.send(hr, token, purpose)
}

func (e *Env) send(hr *http.Request, token, purpose string) Response {
	e.T.Helper()
	authorize(hr.Header, Request{Token: token, Purpose: purpose})
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		e.T.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		e.T.Fatal(err)
	}
	var out struct {
		Data       map[string]any `json:"data"`
		Errors     []Error        `json:"errors"`
		Extensions map[string]any `json:"extensions"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		e.T.Fatalf("response is not JSON (status %d): %s", resp.StatusCode, raw)
	}
	return Response{Status: resp.StatusCode, Data: out.Data, Errors: out.Errors, Extensions: out.Extensions, Raw: string(raw)}
}

// MustDo is Do that fails the test on any GraphQL error.
func (e *Env) MustDo(req Request) Response {
	e.T.Helper()
	r := e.Do(req)
	if len(r.Errors) > 0 {
		e.T.Fatalf("unexpected errors: %s", r.Raw)
	}
	return r
}

// RefuseInserts installs a trigger that makes every INSERT into table
// fail, on either store: for tests of what happens when a write fails.
func (e *Env) RefuseInserts(table string) {
	e.T.Helper()
	name := "refuse_" + table
	stmts := []string{`CREATE TRIGGER ` + name + ` BEFORE INSERT ON ` + table + ` BEGIN SELECT RAISE(ABORT, 'refused'); END`}
	if e.Store.Dialect == "postgres" {
		stmts = []string{
			`CREATE FUNCTION ` + name + `() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$ LANGUAGE plpgsql`,
			`CREATE TRIGGER ` + name + ` BEFORE INSERT ON ` + table + ` FOR EACH ROW EXECUTE FUNCTION ` + name + `()`,
		}
	}
	for _, stmt := range stmts {
		if _, err := e.Store.DB.Exec(stmt); err != nil {
			e.T.Fatal(err)
		}
	}
}

// LastCode returns the newest login code sent to phone, from the outbox.
func (e *Env) LastCode(phone string) string {
	e.T.Helper()
	buf, err := os.ReadFile(e.Outbox)
	if err != nil {
		e.T.Fatalf("read outbox: %v", err)
	}
	code := ""
	for _, line := range strings.Split(string(buf), "\n") {
		if p, c, ok := strings.Cut(line, "\t"); ok && p == phone {
			code = c
		}
	}
	if code == "" {
		e.T.Fatalf("no code for %s in the outbox", phone)
	}
	return code
}

// Token opens a session for userID and returns its bearer token.
func (e *Env) Token(userID int) string {
	e.T.Helper()
	tok, err := e.Accounts.IssueSession(context.Background(), userID)
	if err != nil {
		e.T.Fatal(err)
	}
	return tok
}

// Dig returns the value at a dotted path in v ("node.orders.totalCount").
func Dig(v any, path string) any {
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// ID returns the opaque GraphQL ID of row id, as clients see and send it
// (package gid), under the test keyring.
func ID(id int) string {
	if err := crypt.Use(Keyring); err != nil {
		panic(err)
	}
	s, err := gid.Encode(id)
	if err != nil {
		panic(err)
	}
	return s
}

// RowID returns the row ID of an opaque GraphQL ID, or 0 when it does not
// open.
func RowID(id any) int {
	s, _ := id.(string)
	n, err := gid.Decode(s)
	if err != nil {
		return 0
	}
	return n
}

// StartServerProcess builds the server command and runs it as a separate
// process on databaseURL, with the test keyring, and returns its base URL.
// The process is interrupted when the test ends.
func StartServerProcess(t testing.TB, databaseURL string) string {
	t.Helper()
	return StartServer(t, databaseURL).URL
}

// ServerProcess is a server command running as a process of its own.
type ServerProcess struct {
	// URL is its base URL.
	URL string
	cmd *exec.Cmd
}

// Kill ends the process at once (SIGKILL), as a crash would: requests in
// flight get no answer.
func (p *ServerProcess) Kill() {
	p.cmd.Process.Kill()
	p.cmd.Wait()
}

// StartServer is StartServerProcess, returning the process.
func StartServer(t testing.TB, databaseURL string) *ServerProcess {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "veil")
	if out, err := exec.Command("go", "build", "-o", bin, "veil/server").CombinedOutput(); err != nil {
		t.Fatalf("build server: %v\n%s", err, out)
	}
	keys := filepath.Join(t.TempDir(), "keys.json")
	if err := Keyring.WriteFile(keys); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-sms-outbox", filepath.Join(t.TempDir(), "outbox.txt"), "-key-file", keys)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+databaseURL)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() })
	addr := regexp.MustCompile(`url=http://([0-9.:]+)/graphql`)
	sc := bufio.NewScanner(stderr)
	deadline := time.After(90 * time.Second) // generous: CI runs packages side by side on 2 cores
	found := make(chan string, 1)
	runLog := logToRunLog(t)
	go func() {
		for sc.Scan() {
			if runLog != nil {
				fmt.Fprintln(runLog, sc.Text())
			}
			if m := addr.FindStringSubmatch(sc.Text()); m != nil {
				found <- "http://" + m[1]
			}
		}
	}()
	select {
	case u := <-found:
		return &ServerProcess{URL: u, cmd: cmd}
	case <-deadline:
		t.Fatal("the server process did not start")
		return nil
	}
}

// Poster sends one prepared request again and again with as little client
// work as possible, for benchmarks that measure the server: the body and
// headers are built once and the answer is read, not decoded.
type Poster struct {
	client  *http.Client
	url     string
	body    []byte
	headers http.Header
	buf     bytes.Buffer
}

// Poster prepares req for the real handler, or for the baseline.
func (e *Env) Poster(req Request, baseline bool) *Poster {
	e.T.Helper()
	srv := e.Server
	if baseline {
		srv = e.Baseline
	}
	h := http.Header{"Content-Type": {"application/json"}}
	authorize(h, req)
	return &Poster{client: srv.Client(), url: srv.URL + "/graphql", body: e.body(req), headers: h}
}

// Post sends the request once; an answer other than 200 with data and no
// errors is an error.
func (p *Poster) Post() error {
	hr, err := http.NewRequest(http.MethodPost, p.url, bytes.NewReader(p.body))
	if err != nil {
		return err
	}
	hr.Header = p.headers.Clone()
	resp, err := p.client.Do(hr)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	p.buf.Reset()
	if _, err := p.buf.ReadFrom(resp.Body); err != nil {
		return err
	}
	// gqlgen writes "errors" before "data".
	if b := p.buf.Bytes(); resp.StatusCode != http.StatusOK || !bytes.HasPrefix(b, []byte(`{"data":`)) {
		return fmt.Errorf("status %d: %.300s", resp.StatusCode, b)
	}
	return nil
}

// CPUTime is the process's user and system CPU time so far, for
// benchmarks that compare CPU per request (client and server both run in
// the test process).
func CPUTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
