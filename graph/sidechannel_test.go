package graph_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"entgo.io/contrib/entgql"

	"veil/classification"
	"veil/ent/order"
	"veil/seed"
	"veil/veiltest"
)

// TestFilteringOnProtectedFieldsIsRefused tries to probe a withheld value
// through a filter: the schema has no such filter, so the request fails
// validation and returns no data.
func TestFilteringOnProtectedFieldsIsRefused(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		w, err := seed.Demo(context.Background(), env.Store.Client, env.Accounts, env.Clock)
		if err != nil {
			t.Fatal(err)
		}
		for _, where := range []string{
			`{phone: "13800000001"}`,
			`{phoneHasPrefix: "138"}`,
			`{idNumberHasPrefix: "11"}`,
			`{realNameContains: "张"}`,
			`{birthDateLT: "2010-01-01"}`,
			`{hasOrders: true}`,
			`{hasOrdersWith: {amountFenGT: 100}}`,
		} {
			t.Run(where, func(t *testing.T) {
				r := env.Do(veiltest.Request{Token: w.Tokens["support"], Query: "{ users(where: " + where + ") { totalCount } }"})
				if r.Code() != "VALIDATION_FAILED" || r.Data["users"] != nil {
					t.Errorf("filter accepted: %s", r.Raw)
				}
			})
		}
		t.Run("ordering by a protected field", func(t *testing.T) {
			r := env.Do(veiltest.Request{Token: w.Tokens["support"], Query: "{ users(orderBy: {field: PHONE}) { totalCount } }"})
			if r.Code() != "VALIDATION_FAILED" {
				t.Errorf("ordering accepted: %s", r.Raw)
			}
		})
		t.Run("a public filter works", func(t *testing.T) {
			r := env.MustDo(veiltest.Request{Token: w.Tokens["support"], Query: `{ users(where: {nickname: "阿伟"}) { totalCount } }`})
			if got := veiltest.Dig(r.Data, "users.totalCount"); got != float64(1) {
				t.Errorf("totalCount = %v, want 1", got)
			}
		})
	})
}

// TestCursorsHoldNoProtectedValue decodes every cursor a staff list returns
// and looks for the seeded protected values in it.
func TestCursorsHoldNoProtectedValue(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		w, err := seed.Demo(context.Background(), env.Store.Client, env.Accounts, env.Clock)
		if err != nil {
			t.Fatal(err)
		}
		var protected []string
		for _, u := range w.Users {
			protected = append(protected, u.Phone)
			if u.RealName != "" {
				protected = append(protected, u.RealName, u.IDNumber, *u.BirthDate)
			}
		}
		for _, orderBy := range []string{"", "orderBy: {field: NICKNAME}, "} {
			q := fmt.Sprintf("{ users(%sfirst: 50) { edges { cursor } pageInfo { startCursor endCursor } } }", orderBy)
			r := env.MustDo(veiltest.Request{Token: w.Tokens["risk"], Purpose: string(classification.MinorProtection), Query: q})
			edges := veiltest.Dig(r.Data, "users.edges").([]any)
			if len(edges) == 0 {
				t.Fatal("no cursors to check")
			}
			for _, e := range edges {
				raw := e.(map[string]any)["cursor"].(string)
				var c entgql.Cursor[int]
				if err := c.UnmarshalGQL(raw); err != nil {
					t.Fatalf("cursor %q does not decode: %v", raw, err)
				}
				decoded := fmt.Sprintf("%d %v", c.ID, c.Value)
				for _, p := range protected {
					if strings.Contains(decoded, p) {
						t.Errorf("cursor %q holds a protected value", raw)
					}
				}
				if orderBy == "" && c.Value != nil {
					t.Errorf("cursor carries a value %v without an order field", c.Value)
				}
			}
		}
	})
}

// TestStatementsDoNotGrowWithListSize counts the SQL statements of a staff
// list of users with their orders, for 2 and for 50 users.
func TestStatementsDoNotGrowWithListSize(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		ctx := context.Background()
		c := env.Store.Client
		staff, err := seed.EnsureUser(ctx, c, seed.Person{Phone: "13900000009", Role: classification.RoleSupport}, env.Clock)
		if err != nil {
			t.Fatal(err)
		}
		seller, err := seed.EnsureUser(ctx, c, seed.Person{Phone: "13700000000", Nickname: "seller"}, env.Clock)
		if err != nil {
			t.Fatal(err)
		}
		l, err := seed.EnsureListing(ctx, c, seller.ID, "item", 100, env.Clock)
		if err != nil {
			t.Fatal(err)
		}
		const ordersPerUser = 3
		for i := range 50 {
			u, err := seed.EnsureUser(ctx, c, seed.Person{
				Phone: fmt.Sprintf("136%08d", i), Nickname: fmt.Sprintf("user%02d", i),
				RealName: "测试", Birth: seed.YearsAgo(env.Clock, 30, i), Seq: i,
			}, env.Clock)
			if err != nil {
				t.Fatal(err)
			}
			for j := range ordersPerUser {
				if _, err := seed.EnsureOrder(ctx, c, fmt.Sprintf("N%02d-%d", i, j), u, l, order.StatusPAID, env.Clock); err != nil {
					t.Fatal(err)
				}
			}
		}
		token := env.Token(staff.ID)
		statements := func(n int) int64 {
			q := fmt.Sprintf(`{ users(first: %d, where: {nicknameHasPrefix: "user"}) { totalCount edges { node {
				id nickname phone realName idNumber ageGroup
				orders(first: 10) { totalCount edges { node { id orderNo amountFen recipientPhone status } } } } } } }`, n)
			before := env.Store.Counter.Statements()
			r := env.MustDo(veiltest.Request{Token: token, Purpose: string(classification.AfterSales), Query: q})
			after := env.Store.Counter.Statements()
			if got := len(veiltest.Dig(r.Data, "users.edges").([]any)); got != n {
				t.Fatalf("got %d users, want %d", got, n)
			}
			return after - before
		}
		small, large := statements(2), statements(50)
		t.Logf("statements: %d for 2 users, %d for 50", small, large)
		if small != large {
			t.Errorf("statements grow with list size: %d for 2 users, %d for 50", small, large)
		}
	})
}

// TestNoFilterOrdersOpaqueIDs: no WhereInput compares IDs by order, which
// would tell an opaque ID's type and place among the rows of a public type.
func TestNoFilterOrdersOpaqueIDs(t *testing.T) {
	for _, def := range gqlSchema.Types {
		if !strings.HasSuffix(def.Name, "WhereInput") {
			continue
		}
		for _, f := range def.Fields {
			if f.Type.Name() == "ID" && (strings.HasSuffix(f.Name, "GT") || strings.HasSuffix(f.Name, "GTE") ||
				strings.HasSuffix(f.Name, "LT") || strings.HasSuffix(f.Name, "LTE")) {
				t.Errorf("%s.%s orders opaque IDs", def.Name, f.Name)
			}
		}
	}
}
