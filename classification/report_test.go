package classification

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// tree builds field contexts as gqlgen does for a response: a list field's
// Result is its slice, each element's context has the index.
type tree struct{}

func (tree) field(parent *graphql.FieldContext, alias string) *graphql.FieldContext {
	return &graphql.FieldContext{Parent: parent, Field: graphql.CollectedField{Field: &ast.Field{Alias: alias, Name: alias}}}
}

func (t tree) list(parent *graphql.FieldContext, alias string, n int) []*graphql.FieldContext {
	l := t.field(parent, alias)
	l.Result = make([]struct{}, n)
	out := make([]*graphql.FieldContext, n)
	for i := range out {
		i := i
		out[i] = &graphql.FieldContext{Parent: l, Index: &i}
	}
	return out
}

func expand(t *testing.T, data any, report WithheldList) map[string]string {
	t.Helper()
	enc, _ := json.Marshal(report)
	var decoded WithheldList
	if err := json.Unmarshal(enc, &decoded); err != nil {
		t.Fatal(err)
	}
	values, err := Expand(data, decoded)
	if err != nil {
		t.Fatalf("%v: %s", err, enc)
	}
	out := map[string]string{}
	for p, w := range values {
		out[p] = w.Class + "/" + w.Decision
	}
	return out
}

// TestCompactReportExpandsToTheFullOne builds responses with lists of
// users and their orders, withholds values in several patterns, and
// checks that the compact report expands to exactly the per-value one and
// is never longer.
func TestCompactReportExpandsToTheFullOne(t *testing.T) {
	var tr tree
	phone, amount := Contact, Transaction
	cases := map[string]struct {
		users  []int // orders per user
		notes  func(user, order int) (phone, amount Action)
		groups int // entries wanted
	}{
		"all the same": {[]int{2, 3, 1}, func(int, int) (Action, Action) { return Mask, Withhold }, 2},
		"an order raw": {[]int{2, 3, 1}, func(u, o int) (Action, Action) {
			return Mask, map[bool]Action{true: Raw, false: Withhold}[u == 1 && o == 0]
		}, 1 + 2}, // the raw one an exception
		"an empty list of orders": {[]int{2, 0, 1}, func(int, int) (Action, Action) { return Mask, Withhold }, 1 + 2},
		"one phone raw":           {[]int{1, 1}, func(u, _ int) (Action, Action) { return map[bool]Action{true: Raw, false: Mask}[u == 0], Withhold }, 1 + 1},
		"mixed decisions":         {[]int{1, 1, 1}, func(u, _ int) (Action, Action) { return map[bool]Action{true: Withhold, false: Mask}[u == 2], Withhold }, 2 + 1},
		"an order differs": {[]int{2, 3, 1}, func(u, o int) (Action, Action) {
			return Mask, map[bool]Action{true: Mask, false: Withhold}[u == 1 && o == 2]
		}, 1 + 2},
		"a user's orders differ": {[]int{2, 2, 2}, func(u, o int) (Action, Action) { return Mask, map[bool]Action{true: Mask, false: Withhold}[u == 2] }, 1 + 2},
		"all differ but one": {[]int{3, 1}, func(u, o int) (Action, Action) {
			return Mask, map[bool]Action{true: Withhold, false: Mask}[u == 0 && o == 1]
		}, 1 + 2},
		"a single user": {[]int{4}, func(int, int) (Action, Action) { return Mask, Withhold }, 2},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			st := &requestState{}
			root := tr.field(nil, "users")
			edges := tr.list(tr.field(root, "x"), "edges", len(c.users))
			var data []any
			for u, n := range c.users {
				node := tr.field(edges[u], "node")
				orders := tr.list(tr.field(node, "orders"), "edges", n)
				var od []any
				for o := range orders {
					_, a := c.notes(u, o)
					st.withhold(tr.field(tr.field(orders[o], "node"), "amount"), amount, a)
					od = append(od, map[string]any{"node": map[string]any{"amount": nil}})
				}
				p, _ := c.notes(u, -1)
				st.withhold(tr.field(node, "phone"), phone, p)
				data = append(data, map[string]any{"node": map[string]any{"phone": nil, "orders": map[string]any{"edges": od}}})
			}
			full := map[string]string{}
			for _, w := range st.withheld {
				if w.action == Raw {
					continue // served as stored: not reported
				}
				var b []byte
				for i, s := range pathOf(w.fc) {
					if i > 0 {
						b = append(b, '.')
					}
					if s.isIndex() {
						b = fmt.Append(b, s.index)
					} else {
						b = append(b, s.alias...)
					}
				}
				full[string(b)] = w.class.Name + "/" + w.action.String()
			}
			// The data as the response holds it.
			resp := map[string]any{"users": map[string]any{"x": map[string]any{"edges": data}}}
			report := st.report(nil, false)
			got := expand(t, resp, report)
			if fmt.Sprint(got) != fmt.Sprint(full) {
				t.Errorf("expands to\n%v\nwant\n%v", got, full)
			}
			if len(report) != c.groups {
				enc, _ := json.Marshal(report)
				t.Errorf("%d entries, want %d: %s", len(report), c.groups, enc)
			}
			if len(report) > len(full) {
				t.Errorf("compact report has %d entries for %d values", len(report), len(full))
			}
		})
	}
}
