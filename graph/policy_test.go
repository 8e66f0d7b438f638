package graph_test

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"veil/classification"
	"veil/ent"
	"veil/graph"
	"veil/seed"
	"veil/veiltest"
)

// gqlSchema is the served GraphQL schema, with its @classified directives.
var gqlSchema = graph.NewExecutableSchema(graph.Config{}).Schema()

// object is one seeded object, and whom it is about (what the test knows
// from seeding, independently of the server's subject rules).
type object struct {
	label   string
	typ     string
	id      int
	subject classification.Subject
}

// viewerCase is one kind of caller.
type viewerCase struct {
	label  string
	token  string
	viewer classification.Viewer
}

// world seeds the demo data and lists its objects and kinds of viewer.
func world(t *testing.T, env *veiltest.Env) (*seed.World, []object, []viewerCase) {
	t.Helper()
	ctx := context.Background()
	w, err := seed.Demo(ctx, env.Store.Client, env.Accounts, env.Clock)
	if err != nil {
		t.Fatal(err)
	}
	u := w.Users
	adult := classification.Subject{UserID: u["adult"].ID, AgeGroup: classification.AgeAdult}
	child := classification.Subject{UserID: u["child"].ID, AgeGroup: classification.AgeChild, GuardianID: u["guardian"].ID}
	guardian := classification.Subject{UserID: u["guardian"].ID, AgeGroup: classification.AgeAdult}
	openOrder := adult
	openOrder.CounterpartyID = u["guardian"].ID
	openOrder.OrderOpen = true
	completedOrder := openOrder
	completedOrder.OrderOpen = false

	objects := []object{
		{"adult", "User", u["adult"].ID, adult},
		{"child", "User", u["child"].ID, child},
		{"paid order", "Order", w.Orders[0].ID, openOrder},
		{"completed order", "Order", w.Orders[1].ID, completedOrder},
		{"listing", "Listing", w.Listings[0].ID, guardian},
	}
	objects = append(objects, object{"adult's audit event", "AuditEvent",
		firstID(t, env, ent.Tables["AuditEvent"], fmt.Sprintf("subject_id = %d", u["adult"].ID)), adult})
	for _, typ := range []string{"PolicyVersion", "ThirdPartySDK"} {
		objects = append(objects, object{typ, typ, firstID(t, env, ent.Tables[typ], ""), classification.Subject{}})
	}
	// One record of every type of rows about someone, for the adult and,
	// where seeded, the child.
	for typ, rec := range ent.Records {
		if def := gqlSchema.Types[typ]; def == nil || !implementsNode(def) || rec.Rows != classification.RowsAbout || typ == "Order" || typ == "AuditEvent" {
			continue
		}
		table := ent.Tables[typ]
		for _, who := range []struct {
			persona string
			subject classification.Subject
		}{{"adult", adult}, {"child", child}} {
			if id := firstID(t, env, table, fmt.Sprintf("%s = %d", rec.Subject, u[who.persona].ID)); id != 0 {
				subject := who.subject
				if rec.Counterparty != "" {
					var counterparty sql.NullInt64
					if err := env.Store.DB.QueryRow(fmt.Sprintf("SELECT %s FROM %s WHERE id = %d", rec.Counterparty, table, id)).Scan(&counterparty); err != nil {
						t.Fatal(err)
					}
					subject.CounterpartyID = int(counterparty.Int64)
				}
				objects = append(objects, object{who.persona + "'s " + typ, typ, id, subject})
			}
		}
	}

	as := func(persona string, purpose classification.Purpose) viewerCase {
		usr := u[persona]
		label := persona
		if purpose != classification.NoPurpose {
			label += " declaring " + string(purpose)
		}
		return viewerCase{label, w.Tokens[persona], classification.Viewer{
			UserID: usr.ID, Role: classification.Role(usr.Role), Purpose: purpose,
		}}
	}
	viewers := []viewerCase{
		{"anonymous", "", classification.Anonymous},
		as("adult", ""), as("child", ""), as("guardian", ""), as("teen", ""), as("unverified", ""),
		as("support", ""), as("admin", ""),
	}
	for _, role := range []string{"support", "risk", "auditor"} {
		for _, p := range classification.RolePurposes[classification.Role(role)] {
			viewers = append(viewers, as(role, p))
		}
	}
	return w, objects, viewers
}

// selection returns a selection of every field of def, with a small
// sub-selection for object-typed fields.
func selection(def *ast.Definition) string {
	var b strings.Builder
	for _, f := range def.Fields {
		b.WriteString(f.Name)
		b.WriteString(subSelection(f))
		b.WriteByte(' ')
	}
	return b.String()
}

func subSelection(f *ast.FieldDefinition) string {
	t := gqlSchema.Types[f.Type.Name()]
	switch {
	case t.Kind != ast.Object:
		return ""
	case strings.HasSuffix(t.Name, "Connection"):
		return "(first: 5) { totalCount edges { node { id } } }"
	default:
		return " { id }"
	}
}

// expected returns what a viewer should get for a field given its raw
// value, and the decision the response should report ("" for none).
func expected(d classification.Decision, c *classification.Class, f *ast.FieldDefinition, raw any) (any, string) {
	switch d.Action {
	case classification.Raw:
		return raw, ""
	case classification.Mask:
		isString := f.Type.Elem == nil && f.Type.NamedType == "String"
		if !isString || c.Mask == nil {
			return nil, "WITHHELD"
		}
		if raw == nil {
			return nil, ""
		}
		if m, ok := c.Mask(raw.(string)); ok {
			return m, "MASKED"
		}
		return nil, "WITHHELD"
	default:
		return nil, "WITHHELD"
	}
}

// withheldAt maps each reported path to its decision, the report
// expanded as a client would.
func withheldAt(t *testing.T, r veiltest.Response) map[string]string {
	t.Helper()
	values, err := r.Withheld()
	if err != nil {
		t.Fatalf("withheld report: %v: %s", err, r.Raw)
	}
	out := map[string]string{}
	for path, v := range values {
		class, decision, _ := strings.Cut(v, "/")
		if _, ok := classification.Lookup(class); !ok {
			t.Errorf("reported unknown class %v", class)
		}
		out[path] = decision
	}
	return out
}

// TestEveryClassifiedFieldFollowsTheDecisionTable asks, for every seeded
// object, for every field of its GraphQL type, as every kind of viewer,
// and checks each value against the decision of classification.Decide and
// the raw value served without the engine. A new classified field is
// covered with no new test code.
func TestEveryClassifiedFieldFollowsTheDecisionTable(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		_, objects, viewers := world(t, env)
		types := map[string]bool{}
		for _, obj := range objects {
			types[obj.typ] = true
			def := gqlSchema.Types[obj.typ]
			query := fmt.Sprintf("query($id: ID!) { node(id: $id) { ... on %s { %s } } }", obj.typ, selection(def))
			vars := map[string]any{"id": veiltest.ID(obj.id)}
			rawResp := env.DoBaseline(veiltest.Request{Query: query, Variables: vars})
			raw, _ := rawResp.Data["node"].(map[string]any)
			if raw == nil {
				t.Fatalf("%s: baseline found nothing: %s", obj.label, rawResp.Raw)
			}
			objRow := rowOf(t, env, obj)
			for _, v := range viewers {
				t.Run(obj.label+" as "+v.label, func(t *testing.T) {
					resp := env.Do(veiltest.Request{Token: v.token, Purpose: string(v.viewer.Purpose), Query: query, Variables: vars})
					if len(resp.Errors) > 0 {
						t.Fatalf("errors: %s", resp.Raw)
					}
					if !seesRow(v.viewer, objRow) {
						// The row rule hides it: no field is served at all
						// (TestRowsFollowTheRowRule checks the rest).
						if resp.Raw != `{"data":{"node":null}}` {
							t.Errorf("a row hidden by the row rule got %s", resp.Raw)
						}
						return
					}
					got := resp.Data["node"].(map[string]any)
					reported := withheldAt(t, resp)
					for _, f := range def.Fields {
						c, err := classification.FieldClass(f)
						if err != nil {
							t.Fatalf("%s.%s: %v", obj.typ, f.Name, err)
						}
						d := classification.Decide(v.viewer, obj.subject, c)
						want, wantReport := expected(d, c, f, raw[f.Name])
						if !reflect.DeepEqual(got[f.Name], want) {
							t.Errorf("%s (%s, %s): got %v, want %v", f.Name, c.Name, d.Action, got[f.Name], want)
						}
						if r := reported["node."+f.Name]; r != wantReport {
							t.Errorf("%s (%s): reported %q, want %q", f.Name, c.Name, r, wantReport)
						}
						// Asked alone, the field must read the same: the
						// decision may not depend on which other columns
						// the query happened to load.
						alone := env.Do(veiltest.Request{Token: v.token, Purpose: string(v.viewer.Purpose), Variables: vars,
							Query: fmt.Sprintf("query($id: ID!) { node(id: $id) { ... on %s { %s%s } } }", obj.typ, f.Name, subSelection(f))})
						if got := veiltest.Dig(alone.Data, "node."+f.Name); len(alone.Errors) > 0 || !reflect.DeepEqual(got, want) {
							t.Errorf("%s asked alone: got %v, want %v (%s)", f.Name, got, want, alone.Raw)
						}
					}
				})
			}
		}
		// Every data type that implements Node must have been seeded and
		// checked, so a new entity cannot slip past this test.
		for _, def := range gqlSchema.Types {
			if classification.IsDataType(gqlSchema, def) && implementsNode(def) && !types[def.Name] {
				t.Errorf("type %s is not covered: seed one in seed.Demo and list it in world()", def.Name)
			}
		}
	})
}

// TestAListReportsWhatEachElementWould asks for every seeded object of a
// type in one list (nodes, each ID twice so that no list is of one), as
// every kind of viewer, and checks that the compact report, expanded as a
// client would, says of each element exactly what asking for it alone
// says, in no more entries than values.
func TestAListReportsWhatEachElementWould(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		_, objects, viewers := world(t, env)
		byType := map[string][]object{}
		var types []string
		for _, obj := range objects {
			if byType[obj.typ] == nil {
				types = append(types, obj.typ)
			}
			byType[obj.typ] = append(byType[obj.typ], obj, obj)
		}
		wildcards := 0
		for _, typ := range types {
			objs, sel := byType[typ], selection(gqlSchema.Types[typ])
			ids := make([]any, len(objs))
			for i, obj := range objs {
				ids[i] = veiltest.ID(obj.id)
			}
			list := fmt.Sprintf("query($ids: [ID!]!) { nodes(ids: $ids) { ... on %s { %s } } }", typ, sel)
			one := fmt.Sprintf("query($id: ID!) { node(id: $id) { ... on %s { %s } } }", typ, sel)
			for _, v := range viewers {
				resp := env.Do(veiltest.Request{Token: v.token, Purpose: string(v.viewer.Purpose), Query: list,
					Variables: map[string]any{"ids": ids}})
				if len(resp.Errors) > 0 {
					t.Fatalf("%s as %s: %s", typ, v.label, resp.Raw)
				}
				got := withheldAt(t, resp)
				want := map[string]string{}
				for i, obj := range objs {
					alone := env.Do(veiltest.Request{Token: v.token, Purpose: string(v.viewer.Purpose), Query: one,
						Variables: map[string]any{"id": veiltest.ID(obj.id)}})
					for path, d := range withheldAt(t, alone) {
						want[fmt.Sprintf("nodes.%d%s", i, strings.TrimPrefix(path, "node"))] = d
					}
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s as %s: the list reports\n%v\neach alone\n%v", typ, v.label, got, want)
				}
				report, _ := resp.Extensions[classification.ExtensionKey].([]any)
				if len(report) > len(got) {
					t.Errorf("%s as %s: %d entries for %d values", typ, v.label, len(report), len(got))
				}
				wildcards += strings.Count(resp.Raw, `"*"`)
			}
		}
		if wildcards == 0 {
			t.Error("no list was reported compactly")
		}
	})
}

// rowOf returns the stored row of obj, with the facts of the row rule.
func rowOf(t *testing.T, env *veiltest.Env, obj object) row {
	t.Helper()
	for _, r := range loadRows(t, env, obj.typ) {
		if r.id == obj.id {
			return r
		}
	}
	t.Fatalf("%s: no row %d", obj.label, obj.id)
	return row{}
}

// firstID returns the smallest id in table matching where, or 0.
func firstID(t *testing.T, env *veiltest.Env, table, where string) int {
	t.Helper()
	q := "SELECT id FROM " + table
	if where != "" {
		q += " WHERE " + where
	}
	var id int
	err := env.Store.DB.QueryRow(q + " ORDER BY id LIMIT 1").Scan(&id)
	if err != nil && err != sql.ErrNoRows {
		t.Fatal(err)
	}
	return id
}

func implementsNode(def *ast.Definition) bool {
	for _, i := range def.Interfaces {
		if i == "Node" {
			return true
		}
	}
	return false
}

// TestDecisionsHoldOnEveryPath checks that a field reads the same whether
// it is reached through node(id), me, a top-level connection or a nested
// connection.
func TestDecisionsHoldOnEveryPath(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		w, _, viewers := world(t, env)
		userFields := selection(gqlSchema.Types["User"])
		orderFields := selection(gqlSchema.Types["Order"])
		nodeQuery := map[string]string{
			"User":  fmt.Sprintf("query($id: ID!) { node(id: $id) { ... on User { %s } } }", userFields),
			"Order": fmt.Sprintf("query($id: ID!) { node(id: $id) { ... on Order { %s } } }", orderFields),
		}
		viaNode := func(v viewerCase, typ string, id int) map[string]any {
			r := env.Do(veiltest.Request{Token: v.token, Purpose: string(v.viewer.Purpose), Query: nodeQuery[typ], Variables: map[string]any{"id": veiltest.ID(id)}})
			if len(r.Errors) > 0 {
				t.Fatalf("node(%d): %s", id, r.Raw)
			}
			return r.Data["node"].(map[string]any)
		}
		for _, v := range viewers {
			t.Run(v.label, func(t *testing.T) {
				if v.viewer.SignedIn() {
					r := env.MustDo(veiltest.Request{Token: v.token, Purpose: string(v.viewer.Purpose), Query: "{ me { " + userFields + " } }"})
					if want := viaNode(v, "User", v.viewer.UserID); !reflect.DeepEqual(r.Data["me"], want) {
						t.Errorf("me = %v\nnode = %v", r.Data["me"], want)
					}
				}
				if !v.viewer.IsStaff() || !roleServes(v.viewer.Role, "User") {
					return
				}
				q := fmt.Sprintf("{ users(first: 20) { edges { node { %s orderPage: orders(first: 10) { edges { node { %s } } } } } } }", userFields, orderFields)
				r := env.MustDo(veiltest.Request{Token: v.token, Purpose: string(v.viewer.Purpose), Query: q})
				edges := veiltest.Dig(r.Data, "users.edges").([]any)
				if len(edges) != len(w.Users) {
					t.Fatalf("users: %d edges, want %d", len(edges), len(w.Users))
				}
				for _, e := range edges {
					u := e.(map[string]any)["node"].(map[string]any)
					id := veiltest.RowID(u["id"])
					want := viaNode(v, "User", id)
					for k, val := range want {
						if !reflect.DeepEqual(u[k], val) {
							t.Errorf("users > %s.%s = %v, node gives %v", u["id"], k, u[k], val)
						}
					}
					orders, _ := u["orderPage"].(map[string]any)
					if orders == nil {
						continue
					}
					for _, oe := range orders["edges"].([]any) {
						o := oe.(map[string]any)["node"].(map[string]any)
						id = veiltest.RowID(o["id"])
						if want := viaNode(v, "Order", id); !reflect.DeepEqual(o, want) {
							t.Errorf("users > orders > %s = %v\nnode gives %v", o["id"], o, want)
						}
					}
				}
			})
		}
	})
}

// TestSchemaClassifiesEveryField fails when a GraphQL field of a data type
// has no known class.
func TestSchemaClassifiesEveryField(t *testing.T) {
	if err := classification.CheckSchema(gqlSchema); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, def := range gqlSchema.Types {
		if classification.IsDataType(gqlSchema, def) {
			names = append(names, def.Name)
		}
	}
	sort.Strings(names)
	if len(names) < 4 {
		t.Fatalf("only %v are data types; the structural-type rule is too broad", names)
	}
}
