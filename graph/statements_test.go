package graph_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"veil/classification"
	"veil/ent"
	"veil/ent/order"
	"veil/ledger"
	"veil/seed"
	"veil/veiltest"
)

// deepSelection selects every field of def, and of the records under it
// to depth levels, with connections paged by page.
func deepSelection(def *ast.Definition, depth, page int) string {
	var b strings.Builder
	for _, f := range def.Fields {
		t := gqlSchema.Types[f.Type.Name()]
		switch {
		case t.Kind != ast.Object:
			b.WriteString(f.Name + " ")
		case depth == 0:
			continue
		case strings.HasSuffix(t.Name, "Connection"):
			node := gqlSchema.Types[strings.TrimSuffix(t.Name, "Connection")]
			fmt.Fprintf(&b, "%s(first: %d) { totalCount edges { cursor node { %s } } } ", f.Name, page, deepSelection(node, depth-1, page))
		default:
			fmt.Fprintf(&b, "%s { %s } ", f.Name, deepSelection(t, depth-1, page))
		}
	}
	return b.String()
}

// TestStatementsPerRequestDoNotGrowWithListSize asks every connection the
// schema exposes at the root, with every field of its records and of the
// records under them, as a viewer who reads everything raw (so every
// subject, guardian, consent and audit look-up runs), for pages of 12 and
// of 20: the number of SQL statements must be the same.
func TestStatementsPerRequestDoNotGrowWithListSize(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		ctx := context.Background()
		w, err := seed.Demo(ctx, env.Store.Client, env.Accounts, env.Clock)
		if err != nil {
			t.Fatal(err)
		}
		// Twelve more users with a record of every kind.
		seller := w.Users["guardian"]
		l := w.Listings[0]
		for i := range 12 {
			u, err := seed.EnsureUser(ctx, env.Store.Client, seed.Person{
				Phone: fmt.Sprintf("1360000%04d", i), Nickname: fmt.Sprintf("u%02d", i),
				RealName: "测试", Birth: seed.YearsAgo(env.Clock, 30, i), Seq: 200 + i,
			}, env.Clock)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range classification.ConsentPurposes {
				if err := seed.EnsureConsent(ctx, env.Store.Client, u.ID, p, 0, env.Clock); err != nil {
					t.Fatal(err)
				}
			}
			if err := seed.EnsureCollected(ctx, env.Store.Client, u, env.Clock); err != nil {
				t.Fatal(err)
			}
			if err := seed.EnsureRightsRequest(ctx, env.Store.Client, u, env.Clock); err != nil {
				t.Fatal(err)
			}
			// Orders in several states: grouping a count by anything but
			// the parent would split it.
			for j, status := range []order.Status{order.StatusPAID, order.StatusCOMPLETED, order.StatusCANCELLED} {
				o, err := seed.EnsureOrder(ctx, env.Store.Client, fmt.Sprintf("S%02d-%d", i, j), u, l, status, env.Clock)
				if err != nil {
					t.Fatal(err)
				}
				if err := seed.EnsureSharing(classification.AsSystem(ctx), env.Store.Client, o, env.Clock); err != nil {
					t.Fatal(err)
				}
			}
		}
		_ = seller
		for i := range 12 {
			v := fmt.Sprintf("2022-%02d-01", i+1)
			if _, err := ledger.Publish(ctx, env.Store.Client, w.Users["admin"].ID, ledger.PublishInput{Version: v, Summary: "minor edit", Text: "text " + v}, env.Clock); err != nil {
				t.Fatal(err)
			}
		}
		// The auditor under a legal hold reads every class raw (and so
		// writes an audit entry per subject and class).
		token, purpose := w.Tokens["auditor"], string(classification.LegalHold)
		roots, nestedCounts := 0, 0
		for _, f := range gqlSchema.Query.Fields {
			conn := gqlSchema.Types[f.Type.Name()]
			if conn == nil || !strings.HasSuffix(conn.Name, "Connection") {
				continue
			}
			roots++
			node := gqlSchema.Types[strings.TrimSuffix(conn.Name, "Connection")]
			t.Run(f.Name, func(t *testing.T) {
				var trace []string
				env.Store.Counter.Trace = func(q string) { trace = append(trace, q[:min(len(q), 90)]) }
				defer func() { env.Store.Counter.Trace = nil }()
				count := func(n int) int64 {
					trace = trace[:0]
					q := fmt.Sprintf("{ %s(first: %d) { totalCount edges { node { %s } } } }", f.Name, n, deepSelection(node, 1, 5))
					// The baseline first: the layer's request appends audit
					// entries, after it has counted them.
					base := env.DoBaseline(veiltest.Request{Token: token, Purpose: purpose, Query: q})
					before := env.Store.Counter.Statements()
					r := env.Do(veiltest.Request{Token: token, Purpose: purpose, Query: q})
					after := env.Store.Counter.Statements()
					if len(r.Errors) > 0 {
						t.Fatalf("%.400s", r.Raw)
					}
					if got := len(veiltest.Dig(r.Data, f.Name+".edges").([]any)); got < min(n, 2) {
						t.Fatalf("only %d %s to page through", got, f.Name)
					}
					// The layer widens what queries load (the subject
					// columns); counts, nested ones included, must not move.
					got, want := totalCounts(r.Data, ""), totalCounts(base.Data, "")
					if strings.Join(got, " ") != strings.Join(want, " ") {
						t.Errorf("totalCount with the layer %v, without %v", got, want)
					}
					nestedCounts += len(want) - 1
					return after - before
				}
				// Both pages hold records of every kind (so the same look-ups
				// run), one far more of them than the other.
				small := count(12)
				smallTrace := append([]string(nil), trace...)
				large := count(20)
				t.Logf("%s: %d statements for 12, %d for 20", f.Name, small, large)
				if small != large {
					t.Errorf("statements grow with the page: %d for 12, %d for 20:\n%s\n---\n%s", small, large, strings.Join(smallTrace, "\n"), strings.Join(trace, "\n"))
				}
			})
		}
		if roots < 5 || nestedCounts < 10 {
			t.Errorf("only %d root connections and %d nested counts compared", roots, nestedCounts)
		}
		_ = ent.Tables
	})
}

// totalCounts lists every totalCount in a response with its path, in a
// stable order.
func totalCounts(v any, path string) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if k == "totalCount" {
				out = append(out, fmt.Sprintf("%s=%v", path, v[k]))
				continue
			}
			out = append(out, totalCounts(v[k], path+"."+k)...)
		}
	case []any:
		for i, e := range v {
			out = append(out, totalCounts(e, fmt.Sprintf("%s.%d", path, i))...)
		}
	}
	return out
}

// TestBatchWritesCheckConsentOnce records 2 and 100 activity events: the
// consent check of a batch costs the same statements whatever its size.
func TestBatchWritesCheckConsentOnce(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		f := newFixture(t, env, true)
		f.grant(classification.ConsentActivity)
		count := func(n int) int64 {
			before := env.Store.Counter.Statements()
			env.MustDo(veiltest.Request{Token: f.token, Query: `mutation($in: [ActivityInput!]!) { recordActivity(input: $in) }`,
				Variables: map[string]any{"in": repeat(n, activity)}})
			return env.Store.Counter.Statements() - before
		}
		if small, large := count(2), count(100); small != large {
			t.Errorf("statements: %d for 2 events, %d for 100", small, large)
		}
	})
}

// TestSigningInARequestIsOneStatement: the session, its account's state and
// role come in one statement, for a user and for staff, and nothing else
// is read to answer a query that reads nothing.
func TestSigningInARequestIsOneStatement(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		w, err := seed.Demo(context.Background(), env.Store.Client, env.Accounts, env.Clock)
		if err != nil {
			t.Fatal(err)
		}
		for _, who := range []struct{ token, purpose string }{
			{w.Tokens["adult"], ""}, {w.Tokens["support"], "after_sales"},
		} {
			before := env.Store.Counter.Statements()
			env.MustDo(veiltest.Request{Token: who.token, Purpose: who.purpose, Query: `{ __typename }`})
			if n := env.Store.Counter.Statements() - before; n != 1 {
				t.Errorf("%d statements to sign in a request, want 1", n)
			}
		}
	})
}
