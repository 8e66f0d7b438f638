package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"veil/classification"
	"veil/seed"
	"veil/veiltest"
)

// TestAMaskedListReportsInLessThanItsData lists 50 users masked (support
// without a purpose): every value but the public ones is withheld, and the
// report says so in fewer bytes than the data, whose values it describes.
func TestAMaskedListReportsInLessThanItsData(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		ctx := context.Background()
		w, err := seed.Demo(ctx, env.Store.Client, env.Accounts, env.Clock)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 50 {
			if _, err := seed.EnsureUser(ctx, env.Store.Client, seed.Person{
				Phone: fmt.Sprintf("1370000%04d", i), Nickname: fmt.Sprintf("list%02d", i),
				RealName: "测试", Birth: seed.YearsAgo(env.Clock, 30, i), Seq: 300 + i,
			}, env.Clock); err != nil {
				t.Fatal(err)
			}
		}
		r := env.MustDo(veiltest.Request{Token: w.Tokens["support"],
			Query: `{ users(first: 50) { edges { node { id nickname avatarURL phone realName idNumber birthDate ageGroup status createdAt } } } }`})
		values, err := r.Withheld()
		if err != nil {
			t.Fatal(err)
		}
		data, _ := json.Marshal(r.Data)
		report, _ := json.Marshal(r.Extensions[classification.ExtensionKey])
		t.Logf("%d values withheld, reported in %d bytes (%d entries) for %d bytes of data", len(values), len(report), len(r.Extensions[classification.ExtensionKey].([]any)), len(data))
		if len(values) < 5*50 || len(report) >= len(data) {
			t.Errorf("%d values withheld, reported in %d bytes for %d bytes of data: %s", len(values), len(report), len(data), report)
		}
	})
}

// TestNoReportOfValuesAnErrorRemoved: when an error nulls the object
// around withheld values, the report does not name them; it names only
// what the data holds.
func TestNoReportOfValuesAnErrorRemoved(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		w, err := seed.Demo(context.Background(), env.Store.Client, env.Accounts, env.Clock)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{
			// listings is non-null: its error nulls each user.
			`{ users(first: 3) { edges { node { id phone realName listings(where: {idIn: ["nope"]}) { totalCount } } } } }`,
			`{ a: users(first: 3) { edges { node { phone } } } b: users(first: 3) { edges { node { phone listings(where: {idIn: ["nope"]}) { totalCount } } } } }`,
		} {
			r := env.Do(veiltest.Request{Token: w.Tokens["support"], Query: q})
			if len(r.Errors) == 0 {
				t.Fatalf("no error: %s", r.Raw)
			}
			values, err := r.Withheld()
			if err != nil {
				t.Errorf("%v: %s", err, r.Raw)
			}
			for p := range values {
				if strings.HasPrefix(p, "users.") || strings.HasPrefix(p, "b.") {
					t.Errorf("reported %s, which an error removed: %s", p, r.Raw)
				}
			}
			if strings.HasPrefix(q, "{ a:") && len(values) != 3 {
				t.Errorf("%d values reported, want the 3 phones of a: %s", len(values), r.Raw)
			}
		}
	})
}
