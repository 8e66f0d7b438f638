package graph_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"veil/classification"
	"veil/seed"
	"veil/tracing"
	"veil/veiltest"
)

// TestSpansHoldNoPersonalValue records every span of a sign-in, every
// persona's own reads and the staff's audited reads, with an in-memory
// exporter, and finds none of the seeded personal values, tokens or the
// login code in any span's name, attributes, events or status; and each
// kind of span (HTTP request, operation, resolver, SQL statement, audit
// append) is there.
func TestSpansHoldNoPersonalValue(t *testing.T) {
	recorder := tracetest.NewSpanRecorder()
	tracing.Use(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(recorder)))
	t.Cleanup(func() { tracing.Use(nil) })
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		ctx := context.Background()
		w, err := seed.Demo(ctx, env.Store.Client, env.Accounts, env.Clock)
		if err != nil {
			t.Fatal(err)
		}
		needles := []string{"13987654321", "李四", "北京市东城区东长安街1号", "39.9087", "116.3975", "idphoto://"}
		for name, u := range w.Users {
			needles = append(needles, u.Phone, u.Nickname, w.Tokens[name])
			if u.RealName != "" {
				needles = append(needles, u.RealName, u.IDNumber)
			}
		}
		// A sign-in: a phone and a code in variables.
		phone := "13712345678"
		env.MustDo(veiltest.Request{Query: `mutation($p: String!) { requestLoginCode(phone: $p) { expiresInSeconds } }`, Variables: map[string]any{"p": phone}})
		code := env.LastCode(phone)
		r := env.MustDo(veiltest.Request{Query: `mutation($p: String!, $c: String!) { login(phone: $p, code: $c) { token } }`, Variables: map[string]any{"p": phone, "c": code}})
		needles = append(needles, phone, code, fmt.Sprint(veiltest.Dig(r.Data, "login.token")))

		own := `{ me { id nickname phone realName idNumber ageGroup contacts { name phone } locations { latitude longitude address } orders(first: 5) { edges { node { orderNo recipientPhone } } } } }`
		for _, token := range w.Tokens {
			env.Do(veiltest.Request{Token: token, Query: own})
		}
		staff := `{ users(first: 20) { edges { node { id nickname phone realName idNumber birthDate contacts { name phone } } } } }`
		env.MustDo(veiltest.Request{Token: w.Tokens["support"], Purpose: string(classification.AfterSales), Query: staff})
		env.Do(veiltest.Request{Token: w.Tokens["auditor"], Purpose: string(classification.LegalHold), Query: staff})
		// An operation name and an alias of the client's choosing.
		env.MustDo(veiltest.Request{Token: w.Tokens["adult"], Query: `query Op13800000001 { x13800000001: me { nickname } }`})
		needles = append(needles, "Op13800000001", "x13800000001")

		kinds := map[string]bool{}
		for _, s := range recorder.Ended() {
			texts := []string{s.Name(), s.Status().Description}
			for _, a := range s.Attributes() {
				texts = append(texts, string(a.Key), a.Value.Emit())
			}
			for _, e := range s.Events() {
				texts = append(texts, e.Name)
				for _, a := range e.Attributes {
					texts = append(texts, string(a.Key), a.Value.Emit())
				}
			}
			for _, text := range texts {
				for _, n := range needles {
					if n != "" && strings.Contains(text, n) {
						t.Errorf("span %q holds %q", s.Name(), n)
					}
				}
			}
			for _, kind := range []string{"HTTP POST /graphql", "graphql query me", "graphql mutation login", "resolve Query.me", "resolve User.contacts", "sql SELECT", "sql INSERT", "audit record", "audit append"} {
				if s.Name() == kind {
					kinds[kind] = true
				}
			}
		}
		for _, kind := range []string{"HTTP POST /graphql", "graphql query me", "graphql mutation login", "resolve Query.me", "resolve User.contacts", "sql SELECT", "sql INSERT", "audit record", "audit append"} {
			if !kinds[kind] {
				t.Errorf("no span %q among %d", kind, len(recorder.Ended()))
			}
		}
	})
}
