package graph_test

import (
	"strings"
	"testing"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"

	"veil/classification"
	"veil/ent"
)

// loadEntGraph loads the Ent schema the way codegen does.
func loadEntGraph(t *testing.T) *gen.Graph {
	t.Helper()
	g, err := entc.LoadGraph("../ent/schema", &gen.Config{})
	if err != nil {
		t.Fatalf("load ent schema: %v", err)
	}
	return g
}

func gqlAnnotation(t *testing.T, ants gen.Annotations) *entgql.Annotation {
	t.Helper()
	a := &entgql.Annotation{}
	if raw, ok := ants[a.Name()]; ok {
		if err := a.Decode(raw); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

var camel = gen.Funcs["camel"].(func(string) string)
var pascal = gen.Funcs["pascal"].(func(string) string)

// TestEntSchemaIsFullyClassified walks every Ent field and edge: each has a
// class; no secret reaches GraphQL; no face-class field is persisted; and
// nothing but public data can be filtered or ordered on.
func TestEntSchemaIsFullyClassified(t *testing.T) {
	g := loadEntGraph(t)
	for _, n := range g.Nodes {
		def := gqlSchema.Types[n.Name]
		where := gqlSchema.Types[n.Name+"WhereInput"]
		allowed := map[string]bool{"id": true, "not": true, "and": true, "or": true}
		for _, f := range n.Fields {
			c, err := classification.ClassOf(f.Annotations)
			if err != nil {
				t.Errorf("%s.%s: %v", n.Name, f.Name, err)
				continue
			}
			if c.NeverStored {
				t.Errorf("%s.%s: class %s is persisted", n.Name, f.Name, c.Name)
			}
			if c.Level == classification.Secret && def != nil && def.Fields.ForName(camel(f.Name)) != nil {
				t.Errorf("%s.%s: secret field is in the GraphQL schema", n.Name, f.Name)
			}
			if c.Level != classification.Public && gqlAnnotation(t, f.Annotations).OrderField != "" {
				t.Errorf("%s.%s: non-public field is an order field", n.Name, f.Name)
			}
			if c.Level == classification.Public {
				allowed[camel(f.Name)] = true
			}
		}
		for _, e := range n.Edges {
			c, err := classification.ClassOf(e.Annotations)
			if err != nil {
				t.Errorf("%s.%s (edge): %v", n.Name, e.Name, err)
				continue
			}
			if c.Level == classification.Public {
				allowed["has"+pascal(e.Name)] = true
				allowed["has"+pascal(e.Name)+"With"] = true
			}
		}
		if where == nil {
			continue
		}
		for _, in := range where.Fields {
			if !allowed[predicateField(in.Name)] {
				t.Errorf("%s: filter %s is on a non-public field", where.Name, in.Name)
			}
		}
	}
}

// predicateSuffixes are the operators entgql appends to a field name.
var predicateSuffixes = []string{"ContainsFold", "EqualFold", "HasPrefix", "HasSuffix", "Contains", "NotIn", "NotNil", "IsNil", "NEQ", "GTE", "LTE", "GT", "LT", "In"}

func predicateField(name string) string {
	for _, s := range predicateSuffixes {
		if base, ok := strings.CutSuffix(name, s); ok && base != "" {
			return base
		}
	}
	return name
}

// TestOrderFieldsArePublic checks every value of every *OrderField enum
// orders by a public field.
func TestOrderFieldsArePublic(t *testing.T) {
	g := loadEntGraph(t)
	for _, n := range g.Nodes {
		enum := gqlSchema.Types[n.Name+"OrderField"]
		if enum == nil {
			continue
		}
		public := map[string]bool{}
		for _, f := range n.Fields {
			if c, err := classification.ClassOf(f.Annotations); err == nil && c.Level == classification.Public {
				if of := gqlAnnotation(t, f.Annotations).OrderField; of != "" {
					public[of] = true
				}
			}
		}
		for _, v := range enum.EnumValues {
			if !public[v.Name] {
				t.Errorf("%s.%s does not order by a public field", enum.Name, v.Name)
			}
		}
	}
}

// TestDeletionCategoriesAreTheDeclaredOnes: the DataCategory enum of the
// API lists exactly the categories the record declarations give a type.
func TestDeletionCategoriesAreTheDeclaredOnes(t *testing.T) {
	var api []string
	for _, v := range gqlSchema.Types["DataCategory"].EnumValues {
		api = append(api, v.Name)
	}
	declared := map[string]string{}
	for typ, rec := range ent.Records {
		if rec.Category != "" {
			declared[rec.Category] = typ
		}
	}
	if len(api) != len(declared) {
		t.Errorf("DataCategory has %v; the schema declares %v", api, declared)
	}
	for _, c := range api {
		if declared[c] == "" {
			t.Errorf("DataCategory %s is declared by no Ent type (classification.Record DeletedAs)", c)
		}
	}
}
