package httpapi_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"veil/ent/user"
	"veil/seed"
	"veil/veiltest"
)

const (
	requestCode = `mutation($phone: String!) { requestLoginCode(phone: $phone) { expiresInSeconds retryAfterSeconds } }`
	login       = `mutation($phone: String!, $code: String!) { login(phone: $phone, code: $code) { token expiresAt user { id phone } } }`
)

// counts returns the number of login codes, sessions and users.
func counts(t *testing.T, env *veiltest.Env) [3]int {
	t.Helper()
	ctx := context.Background()
	c := env.Store.Client
	codes, err1 := c.LoginCode.Query().Count(ctx)
	sessions, err2 := c.Session.Query().Count(ctx)
	users, err3 := c.User.Query().Count(ctx)
	for _, err := range []error{err1, err2, err3} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return [3]int{codes, sessions, users}
}

// captureLog sends the default logger to a buffer for the test.
func captureLog(t *testing.T) *syncBuffer {
	buf := &syncBuffer{}
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(prev) })
	return buf
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestLoginWithSMSCode(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		logs := captureLog(t)
		const phone = "13812345678"
		r := env.MustDo(veiltest.Request{Query: requestCode, Variables: map[string]any{"phone": "+86 138-1234-5678"}})
		if got := veiltest.Dig(r.Data, "requestLoginCode.expiresInSeconds"); got != float64(300) {
			t.Errorf("expiresInSeconds = %v, want 300", got)
		}
		code := env.LastCode(phone)
		if strings.Contains(r.Raw, code) {
			t.Error("the code is in the response")
		}

		r = env.MustDo(veiltest.Request{Query: login, Variables: map[string]any{"phone": phone, "code": code}})
		token, _ := veiltest.Dig(r.Data, "login.token").(string)
		if token == "" {
			t.Fatalf("no token: %s", r.Raw)
		}
		if got := veiltest.Dig(r.Data, "login.user.phone"); got != nil {
			t.Errorf("login payload phone = %v, want it withheld from the anonymous caller", got)
		}
		me := env.MustDo(veiltest.Request{Token: token, Query: "{ me { phone ageGroup } }"})
		if got := veiltest.Dig(me.Data, "me.phone"); got != phone {
			t.Errorf("me.phone = %v, want %s", got, phone)
		}
		if got := veiltest.Dig(me.Data, "me.ageGroup"); got != "UNKNOWN" {
			t.Errorf("me.ageGroup = %v, want UNKNOWN before real-name verification", got)
		}

		t.Run("a code works once", func(t *testing.T) {
			again := env.Do(veiltest.Request{Query: login, Variables: map[string]any{"phone": phone, "code": code}})
			if again.Code() != "UNAUTHENTICATED" {
				t.Errorf("reused code: %s", again.Raw)
			}
		})
		t.Run("a second login finds the same account", func(t *testing.T) {
			env.Clock = env.Clock.Add(2 * time.Minute)
			env.MustDo(veiltest.Request{Query: requestCode, Variables: map[string]any{"phone": phone}})
			r := env.MustDo(veiltest.Request{Query: login, Variables: map[string]any{"phone": phone, "code": env.LastCode(phone)}})
			n, err := env.Store.Client.User.Query().Where(user.Phone(phone)).Count(context.Background())
			if err != nil || n != 1 {
				t.Errorf("%d accounts for one phone (%v): %s", n, err, r.Raw)
			}
		})
		t.Run("logout revokes the token", func(t *testing.T) {
			env.MustDo(veiltest.Request{Token: token, Query: "mutation { logout }"})
			r := env.Do(veiltest.Request{Token: token, Query: "{ me { id } }"})
			if r.Code() != "UNAUTHENTICATED" || r.Status != http.StatusUnauthorized {
				t.Errorf("revoked token: %d %s", r.Status, r.Raw)
			}
		})
		if strings.Contains(logs.String(), code) || strings.Contains(logs.String(), phone) {
			t.Errorf("the log holds the code or the phone:\n%s", logs.String())
		}
	})
}

func TestLoginCodeLimits(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		const phone = "13912345678"
		ask := func() veiltest.Response {
			return env.Do(veiltest.Request{Query: requestCode, Variables: map[string]any{"phone": phone}})
		}
		env.MustDo(veiltest.Request{Query: requestCode, Variables: map[string]any{"phone": phone}})

		t.Run("a second code within a minute is refused with a retry hint", func(t *testing.T) {
			r := ask()
			if r.Code() != "RATE_LIMITED" || r.Errors[0].Extensions["retryAfterSeconds"] != float64(60) {
				t.Errorf("got %s", r.Raw)
			}
		})
		t.Run("five codes an hour, then refused", func(t *testing.T) {
			for i := 0; i < 4; i++ {
				env.Clock = env.Clock.Add(61 * time.Second)
				if r := ask(); len(r.Errors) > 0 {
					t.Fatalf("code %d refused: %s", i+2, r.Raw)
				}
			}
			env.Clock = env.Clock.Add(61 * time.Second)
			if r := ask(); r.Code() != "RATE_LIMITED" {
				t.Errorf("sixth code in an hour: %s", r.Raw)
			}
		})
		t.Run("wrong guesses burn the code", func(t *testing.T) {
			code := env.LastCode(phone)
			wrong := "000000"
			if code == wrong {
				wrong = "111111"
			}
			for i := 0; i < 5; i++ {
				r := env.Do(veiltest.Request{Query: login, Variables: map[string]any{"phone": phone, "code": wrong}})
				if r.Code() != "UNAUTHENTICATED" {
					t.Fatalf("wrong code: %s", r.Raw)
				}
			}
			r := env.Do(veiltest.Request{Query: login, Variables: map[string]any{"phone": phone, "code": code}})
			if r.Code() != "UNAUTHENTICATED" {
				t.Errorf("right code after 5 wrong guesses: %s", r.Raw)
			}
		})
		t.Run("an expired code is refused", func(t *testing.T) {
			env.Clock = env.Clock.Add(2 * time.Hour)
			env.MustDo(veiltest.Request{Query: requestCode, Variables: map[string]any{"phone": phone}})
			code := env.LastCode(phone)
			env.Clock = env.Clock.Add(5*time.Minute + time.Second)
			r := env.Do(veiltest.Request{Query: login, Variables: map[string]any{"phone": phone, "code": code}})
			if r.Code() != "UNAUTHENTICATED" {
				t.Errorf("expired code: %s", r.Raw)
			}
		})
	})
}

// TestBadInputChangesNothing sends malformed requests and checks each gets
// its code and leaves codes, sessions and users as they were.
func TestBadInputChangesNothing(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		w, err := seed.Demo(context.Background(), env.Store.Client, env.Accounts, env.Clock)
		if err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name       string
			do         func() veiltest.Response
			wantCode   string
			wantStatus int
			wantField  string
		}{
			{"malformed phone", func() veiltest.Response {
				return env.Do(veiltest.Request{Query: requestCode, Variables: map[string]any{"phone": "12345"}})
			}, "VALIDATION_FAILED", http.StatusOK, "phone"},
			{"landline number", func() veiltest.Response {
				return env.Do(veiltest.Request{Query: requestCode, Variables: map[string]any{"phone": "01012345678"}})
			}, "VALIDATION_FAILED", http.StatusOK, "phone"},
			{"login with a malformed code", func() veiltest.Response {
				return env.Do(veiltest.Request{Query: login, Variables: map[string]any{"phone": "13800000001", "code": "12ab"}})
			}, "VALIDATION_FAILED", http.StatusOK, "code"},
			{"login with a wrong code", func() veiltest.Response {
				return env.Do(veiltest.Request{Query: login, Variables: map[string]any{"phone": "13800000001", "code": "123456"}})
			}, "UNAUTHENTICATED", http.StatusOK, ""},
			{"unknown token", func() veiltest.Response {
				return env.Do(veiltest.Request{Token: "veil_unknown", Query: "{ me { id } }"})
			}, "UNAUTHENTICATED", http.StatusUnauthorized, ""},
			{"credentials in another scheme", func() veiltest.Response {
				return env.Do(veiltest.Request{Authorization: "Basic YWRtaW46YWRtaW4=", Query: "{ me { id } }"})
			}, "UNAUTHENTICATED", http.StatusUnauthorized, ""},
			{"an empty bearer token", func() veiltest.Response {
				return env.Do(veiltest.Request{Authorization: "Bearer ", Query: "{ me { id } }"})
			}, "UNAUTHENTICATED", http.StatusUnauthorized, ""},
			{"garbage JSON body", func() veiltest.Response {
				return env.PostRaw(env.Server.URL, "", "", "application/json", []byte(`{"query": `))
			}, "VALIDATION_FAILED", http.StatusBadRequest, "body"},
			{"body without a query", func() veiltest.Response {
				return env.PostRaw(env.Server.URL, "", "", "application/json", []byte(`{"variables": {}}`))
			}, "VALIDATION_FAILED", http.StatusBadRequest, "query"},
			{"oversized body", func() veiltest.Response {
				return env.PostRaw(env.Server.URL, "", "", "application/json", []byte(`{"query":"`+strings.Repeat(" ", 2<<20)+`{me{id}}"}`))
			}, "VALIDATION_FAILED", http.StatusRequestEntityTooLarge, "body"},
			{"a form post", func() veiltest.Response {
				return env.PostRaw(env.Server.URL, "", "", "application/x-www-form-urlencoded", []byte(`query=mutation+%7Blogout%7D`))
			}, "VALIDATION_FAILED", http.StatusUnsupportedMediaType, "Content-Type"},
			{"a mutation over GET", func() veiltest.Response {
				return env.Get(`mutation { requestLoginCode(phone: "13800000001") { expiresInSeconds } }`)
			}, "VALIDATION_FAILED", http.StatusMethodNotAllowed, "query"},
			{"syntax error", func() veiltest.Response {
				return env.Do(veiltest.Request{Query: "{ me { id "})
			}, "VALIDATION_FAILED", http.StatusOK, ""},
			{"unknown field", func() veiltest.Response {
				return env.Do(veiltest.Request{Query: "{ me { password } }"})
			}, "VALIDATION_FAILED", http.StatusOK, ""},
			{"a user declaring an access purpose", func() veiltest.Response {
				return env.Do(veiltest.Request{Token: w.Tokens["adult"], Purpose: "after_sales", Query: "{ me { id } }"})
			}, "FORBIDDEN", http.StatusForbidden, ""},
			{"staff declaring another role's purpose", func() veiltest.Response {
				return env.Do(veiltest.Request{Token: w.Tokens["support"], Purpose: "fraud_investigation", Query: "{ me { id } }"})
			}, "FORBIDDEN", http.StatusForbidden, ""},
			{"an unknown purpose", func() veiltest.Response {
				return env.Do(veiltest.Request{Token: w.Tokens["support"], Purpose: "curiosity", Query: "{ me { id } }"})
			}, "VALIDATION_FAILED", http.StatusBadRequest, "X-Access-Purpose"},
			{"a user listing all users", func() veiltest.Response {
				return env.Do(veiltest.Request{Token: w.Tokens["adult"], Query: "{ users { totalCount } }"})
			}, "FORBIDDEN", http.StatusOK, ""},
			{"a page larger than 100", func() veiltest.Response {
				return env.Do(veiltest.Request{Token: w.Tokens["support"], Query: "{ users(first: 101) { totalCount } }"})
			}, "VALIDATION_FAILED", http.StatusOK, "first"},
			{"introspection without an admin token", func() veiltest.Response {
				return env.Do(veiltest.Request{Token: w.Tokens["support"], Query: "{ __schema { types { name } } }"})
			}, "FORBIDDEN", http.StatusOK, ""},
			{"introspection through a fragment", func() veiltest.Response {
				return env.Do(veiltest.Request{Query: "query { ...F } fragment F on Query { __type(name: \"User\") { name } }"})
			}, "FORBIDDEN", http.StatusOK, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := counts(t, env)
				r := tt.do()
				if tt.wantCode != "" && r.Code() != tt.wantCode {
					t.Errorf("code = %q, want %q: %s", r.Code(), tt.wantCode, r.Raw)
				}
				for _, e := range r.Errors {
					if e.Extensions["code"] == nil {
						t.Errorf("error without a code: %s", r.Raw)
					}
				}
				if tt.wantStatus != 0 && r.Status != tt.wantStatus {
					t.Errorf("status = %d, want %d", r.Status, tt.wantStatus)
				}
				if tt.wantField != "" && r.Errors[0].Extensions["field"] != tt.wantField {
					t.Errorf("field = %v, want %s", r.Errors[0].Extensions["field"], tt.wantField)
				}
				if after := counts(t, env); after != before {
					t.Errorf("rows changed: %v -> %v", before, after)
				}
			})
		}
		t.Run("a query over GET works", func(t *testing.T) {
			r := env.Get("{ listings { totalCount } }")
			if r.Status != http.StatusOK || veiltest.Dig(r.Data, "listings.totalCount") != float64(len(w.Listings)) {
				t.Errorf("got %d %s", r.Status, r.Raw)
			}
		})
		t.Run("admins may introspect", func(t *testing.T) {
			r := env.MustDo(veiltest.Request{Token: w.Tokens["admin"], Query: "{ __schema { queryType { name } } }"})
			if veiltest.Dig(r.Data, "__schema.queryType.name") != "Query" {
				t.Errorf("got %s", r.Raw)
			}
		})
		t.Run("a cancelled account's token stops working", func(t *testing.T) {
			if err := env.Store.Client.User.UpdateOne(w.Users["unverified"]).SetStatus(user.StatusCANCELLED).Exec(context.Background()); err != nil {
				t.Fatal(err)
			}
			r := env.Do(veiltest.Request{Token: w.Tokens["unverified"], Query: "{ me { id } }"})
			if r.Code() != "ACCOUNT_CANCELLED" || r.Status != http.StatusUnauthorized {
				t.Errorf("got %d %s", r.Status, r.Raw)
			}
		})
	})
}

// TestInternalErrorsRevealNothing breaks the store under a running server:
// clients get INTERNAL with no detail, and the log gets the cause.
func TestInternalErrorsRevealNothing(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		w, err := seed.Demo(context.Background(), env.Store.Client, env.Accounts, env.Clock)
		if err != nil {
			t.Fatal(err)
		}
		logs := captureLog(t)
		env.Store.DB.Close()
		for name, req := range map[string]veiltest.Request{
			"anonymous query": {Query: "{ listings { totalCount } }"},
			"signed-in query": {Token: w.Tokens["adult"], Query: "{ me { id } }"},
		} {
			t.Run(name, func(t *testing.T) {
				r := env.Do(req)
				if r.Code() != "INTERNAL" || r.Errors[0].Message != "internal error" {
					t.Errorf("got %s", r.Raw)
				}
				for _, leak := range []string{"sql", "SELECT", "closed", "goroutine", ".go:"} {
					if strings.Contains(r.Raw, leak) {
						t.Errorf("response reveals %q: %s", leak, r.Raw)
					}
				}
			})
		}
		if !strings.Contains(logs.String(), "database is closed") {
			t.Errorf("the cause was not logged:\n%s", logs.String())
		}
	})
}
