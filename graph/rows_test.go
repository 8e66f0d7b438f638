package graph_test

import (
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"veil/classification"
	"veil/ent"
	"veil/veiltest"
)

// row is one stored row and the facts the row rule reads, loaded by plain
// SQL from the tables (not by the server's code).
type row struct {
	typ     string
	id      int
	subject classification.Subject
	// exposed: a person whose public profile a public row shows (a seller).
	exposed bool
	// counterparts: for a person, the people on the other side of a row
	// with a counterparty (an order's buyer and seller).
	counterparts []int
	// exposedOwner: for a public row, the person it exposes (a seller).
	exposedOwner int
}

// seesRow is the row rule of DESIGN.md as this test states it: a user
// sees rows about themself, about their ward under 14, the person of
// their ward under 18 and the rows about them of classes shown to a
// minor's guardian (consents, guardianships), rows whose
// counterparty they are (and the person on the other side), and public
// rows (and the people a public row exposes); staff see every row of the
// types their role serves; system rows are never served.
func seesRow(v classification.Viewer, r row) bool {
	rec := ent.Records[r.typ]
	switch {
	case rec.Rows == classification.RowsPublic:
		return true
	case rec.Rows == classification.RowsSystem:
		return false
	case v.IsStaff() && roleServes(v.Role, r.typ):
		return true
	case rec.Rows == classification.RowsPerson && r.exposed:
		return true
	case !v.SignedIn():
		return false
	}
	s := r.subject
	switch {
	case s.UserID != 0 && s.UserID == v.UserID:
		return true
	case s.GuardianID != 0 && s.GuardianID == v.UserID && (s.AgeGroup == classification.AgeChild ||
		s.AgeGroup == classification.AgeMinor && (rec.Rows == classification.RowsPerson || shownToGuardians(r.typ))):
		return true
	case rec.Rows == classification.RowsPerson:
		return slices.Contains(r.counterparts, v.UserID)
	}
	return s.CounterpartyID != 0 && s.CounterpartyID == v.UserID
}

// shownToGuardians: a class of typ is shown to the guardian of a minor.
func shownToGuardians(typ string) bool {
	for _, name := range ent.Classes[typ] {
		if c, _ := classification.Lookup(name); c != nil && c.ShownToGuardians {
			return true
		}
	}
	return false
}

// roleServes: a staff role serves a type when one of the type's classes
// may be read raw under a purpose the role may declare.
func roleServes(role classification.Role, typ string) bool {
	for _, name := range ent.Classes[typ] {
		c, _ := classification.Lookup(name)
		for _, p := range c.StaffPurposes {
			if role.MayDeclare(p) {
				return true
			}
		}
	}
	return false
}

// loadRows reads every row of typ with the facts seesRow needs.
func loadRows(t *testing.T, env *veiltest.Env, typ string) []row {
	t.Helper()
	rec := ent.Records[typ]
	table := ent.Tables[typ]
	subject, counterparty := rec.SubjectColumn(), "NULL"
	if rec.Counterparty != "" {
		counterparty = "t." + rec.Counterparty
	}
	q := fmt.Sprintf(`SELECT t.id, t.%s, %s, u.guardian_id, u.birth_date FROM %s t LEFT JOIN users u ON u.id = t.%s ORDER BY t.id`,
		subject, counterparty, table, subject)
	if subject == "" {
		exposes := "NULL"
		if len(rec.Exposes) > 0 {
			exposes = rec.Exposes[0]
		}
		q = fmt.Sprintf(`SELECT id, %s, NULL, NULL, NULL FROM %s ORDER BY id`, exposes, table)
	}
	rs, err := env.Store.DB.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", typ, err)
	}
	defer rs.Close()
	var out []row
	for rs.Next() {
		var r row
		var subj, cp, guardian sql.NullInt64
		var birth sql.NullString
		if err := rs.Scan(&r.id, &subj, &cp, &guardian, &birth); err != nil {
			t.Fatal(err)
		}
		r.typ = typ
		if rec.SubjectColumn() == "" {
			r.exposedOwner, subj = int(subj.Int64), sql.NullInt64{}
		}
		r.subject = classification.Subject{UserID: int(subj.Int64), CounterpartyID: int(cp.Int64), GuardianID: int(guardian.Int64),
			AgeGroup: classification.AgeGroupOf(birth.String, env.Clock)}
		out = append(out, r)
	}
	if rec.Rows == classification.RowsPerson {
		exposed := ids(t, env, `SELECT seller_id FROM listings`)
		for i := range out {
			out[i].exposed = slices.Contains(exposed, out[i].id)
			for _, other := range ent.RecordTypes {
				r := ent.Records[other]
				if r.Counterparty == "" {
					continue
				}
				out[i].counterparts = append(out[i].counterparts, ids(t, env, fmt.Sprintf(
					`SELECT %[1]s FROM %[3]s WHERE %[2]s = %[4]d AND %[1]s IS NOT NULL UNION SELECT %[2]s FROM %[3]s WHERE %[1]s = %[4]d`,
					r.Counterparty, r.Subject, ent.Tables[other], out[i].id))...)
			}
		}
	}
	return out
}

func ids(t *testing.T, env *veiltest.Env, q string) []int {
	t.Helper()
	rs, err := env.Store.DB.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []int
	for rs.Next() {
		var id int
		if err := rs.Scan(&id); err != nil {
			t.Fatal(err)
		}
		out = append(out, id)
	}
	return out
}

// nodeTypes are the GraphQL types that implement Node, sorted.
func nodeTypes() []string {
	var out []string
	for _, def := range gqlSchema.Types {
		if implementsNode(def) {
			out = append(out, def.Name)
		}
	}
	slices.Sort(out)
	return out
}

// TestRowsFollowTheRowRule checks the row rule on every path, from the
// schema: for every type that implements Node and every kind of viewer,
// node and nodes return exactly the rows seesRow allows (every stored
// row of the type is asked for), and a hidden row reads exactly like one
// that does not exist; every root connection lists and counts exactly
// the allowed rows; and every list or connection edge of every person
// the viewer may see holds exactly the allowed rows about them. A type
// with no stored row fails the test.
func TestRowsFollowTheRowRule(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		_, _, viewers := world(t, env)
		rows := map[string][]row{}
		for _, typ := range nodeTypes() {
			rows[typ] = loadRows(t, env, typ)
			if len(rows[typ]) == 0 {
				t.Errorf("%s: no row is seeded: seed one in seed.Demo so the row rule is checked for it", typ)
			}
		}
		for _, v := range viewers {
			t.Run(v.label, func(t *testing.T) {
				do := func(query string, vars map[string]any) veiltest.Response {
					return env.Do(veiltest.Request{Token: v.token, Purpose: string(v.viewer.Purpose), Query: query, Variables: vars})
				}
				for _, typ := range nodeTypes() {
					checkNodes(t, do, typ, rows[typ], v.viewer)
				}
				for _, f := range gqlSchema.Query.Fields {
					// Rows are read again: raw reads append audit events.
					checkConnection(t, do, f, func(typ string) []row { return loadRows(t, env, typ) }, v.viewer)
				}
				for _, person := range rows["User"] {
					if seesRow(v.viewer, person) {
						checkEdges(t, do, person, rows, v.viewer)
					}
				}
			})
		}
	})
}

type doFunc func(query string, vars map[string]any) veiltest.Response

// checkNodes asks node and nodes for every row of typ, and for a row that
// does not exist.
func checkNodes(t *testing.T, do doFunc, typ string, all []row, v classification.Viewer) {
	t.Helper()
	query := fmt.Sprintf(`query($id: ID!) { node(id: $id) { __typename id ... on %s { id } } }`, typ)
	missing := all[len(all)-1].id + 1_000_000 // the same type's ID range, no row
	absent := do(query, map[string]any{"id": veiltest.ID(missing)})
	if absent.Raw != `{"data":{"node":null}}` {
		t.Fatalf("node of a %s that does not exist: %s", typ, absent.Raw)
	}
	var idList []string
	for _, r := range all {
		id := veiltest.ID(r.id)
		idList = append(idList, id)
		resp := do(query, map[string]any{"id": id})
		if seesRow(v, r) {
			if got := veiltest.Dig(resp.Data, "node.id"); got != id || len(resp.Errors) > 0 {
				t.Errorf("node(%s %d) = %s, want the row", typ, r.id, resp.Raw)
			}
		} else if resp.Raw != absent.Raw {
			t.Errorf("node(%s %d) = %s, want exactly what a missing row gets: %s", typ, r.id, resp.Raw, absent.Raw)
		}
	}
	idList = append(idList, veiltest.ID(missing))
	resp := do(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": idList})
	if len(resp.Errors) > 0 {
		t.Fatalf("nodes(%s): %s", typ, resp.Raw)
	}
	got, _ := resp.Data["nodes"].([]any)
	if len(got) != len(idList) {
		t.Fatalf("nodes(%s): %d elements for %d ids", typ, len(got), len(idList))
	}
	for i, r := range append(all, row{typ: typ, id: missing}) {
		want := i < len(all) && seesRow(v, r)
		if (got[i] != nil) != want {
			t.Errorf("nodes(%s)[%d] (row %d) = %v, want present=%v", typ, i, r.id, got[i], want)
		}
	}
}

// checkConnection lists a root connection of a Node type and compares it
// with the rows the viewer may see. A root field refused to the viewer
// (FORBIDDEN) shows nothing, which the rule allows.
func checkConnection(t *testing.T, do doFunc, f *ast.FieldDefinition, load func(typ string) []row, v classification.Viewer) {
	t.Helper()
	typ, ok := connectionOf(f.Type.Name())
	if !ok {
		return
	}
	rows := load(typ)
	resp := do(fmt.Sprintf(`{ list: %s(first: 100) { totalCount edges { node { id } } } }`, f.Name), nil)
	if len(resp.Errors) > 0 {
		if resp.Code() != "FORBIDDEN" {
			t.Errorf("%s: %s", f.Name, resp.Raw)
		}
		return
	}
	want := map[string]bool{}
	for _, r := range rows {
		if seesRow(v, r) {
			want[veiltest.ID(r.id)] = true
		}
	}
	compareList(t, f.Name, resp, "list", want)
}

// checkEdges reads every list and connection edge of a person to a Node
// type, and compares each with the rows about them the viewer may see.
func checkEdges(t *testing.T, do doFunc, person row, rows map[string][]row, v classification.Viewer) {
	t.Helper()
	for _, f := range gqlSchema.Types["User"].Fields {
		typ, conn := connectionOf(f.Type.Name())
		if !conn {
			if f.Type.Elem == nil || !implementsNode(gqlSchema.Types[f.Type.Name()]) {
				continue
			}
			typ = f.Type.Name()
		}
		// The edge itself is a field of the person, decided by its class:
		// withheld, it holds nothing (the decision table's test checks
		// that); raw, it must hold exactly the rows the viewer may see.
		c, err := classification.FieldClass(f)
		if err != nil {
			t.Fatal(err)
		}
		if classification.Decide(v, person.subject, c).Action != classification.Raw {
			continue
		}
		column := ent.Records[typ].SubjectColumn()
		switch {
		case ent.Records[typ].Rows == classification.RowsPublic:
			column = ent.Records[typ].Exposes[0]
		case viaCounterparty[f.Name]:
			column = ent.Records[typ].Counterparty
		}
		want := map[string]bool{}
		for _, r := range rows[typ] {
			if edgeOwner(r, column) == person.id && seesRow(v, r) {
				want[veiltest.ID(r.id)] = true
			}
		}
		sel := fmt.Sprintf(`list: %s { id }`, f.Name)
		if conn {
			sel = fmt.Sprintf(`list: %s(first: 100) { totalCount edges { node { id } } }`, f.Name)
		}
		resp := do(fmt.Sprintf(`query($id: ID!) { node(id: $id) { ... on User { %s } } }`, sel), map[string]any{"id": veiltest.ID(person.id)})
		if len(resp.Errors) > 0 {
			t.Errorf("User %d.%s: %s", person.id, f.Name, resp.Raw)
			continue
		}
		compareList(t, fmt.Sprintf("User %d.%s", person.id, f.Name), resp, "node.list", want)
	}
}

// viaCounterparty are the edges of a person that reach rows through their
// counterparty column, not their subject column: the guardianships a
// guardian holds.
var viaCounterparty = map[string]bool{"guardedLinks": true}

// edgeOwner is the user a row belongs to through column: its subject, its
// counterparty, or the person a public row exposes.
func edgeOwner(r row, column string) int {
	switch column {
	case ent.Records[r.typ].SubjectColumn():
		return r.subject.UserID
	case ent.Records[r.typ].Counterparty:
		return r.subject.CounterpartyID
	}
	return r.exposedOwner
}

// compareList compares a list or connection in resp at path with want.
func compareList(t *testing.T, label string, resp veiltest.Response, path string, want map[string]bool) {
	t.Helper()
	got := map[string]bool{}
	var items []any
	switch v := veiltest.Dig(resp.Data, path).(type) {
	case []any:
		items = v
	case map[string]any:
		if n, _ := v["totalCount"].(float64); int(n) != len(want) {
			t.Errorf("%s: totalCount %v, want %d", label, v["totalCount"], len(want))
		}
		edges, _ := v["edges"].([]any)
		for _, e := range edges {
			items = append(items, e.(map[string]any)["node"])
		}
	case nil:
		items = nil
	}
	for _, it := range items {
		m, _ := it.(map[string]any)
		id, _ := m["id"].(string)
		got[id] = true
		if !want[id] {
			t.Errorf("%s holds row %d, which the viewer may not see", label, veiltest.RowID(id))
		}
	}
	if len(want) > maxPage {
		// One page of a longer list: its count and rows are checked.
		return
	}
	for id := range want {
		if !got[id] {
			t.Errorf("%s lacks row %d, which the viewer may see", label, veiltest.RowID(id))
		}
	}
}

// maxPage is the longest page a connection serves.
const maxPage = 100

// connectionOf returns the node type of a connection type name.
func connectionOf(name string) (string, bool) {
	typ, ok := strings.CutSuffix(name, "Connection")
	if !ok || gqlSchema.Types[typ] == nil || !implementsNode(gqlSchema.Types[typ]) {
		return "", false
	}
	return typ, true
}
