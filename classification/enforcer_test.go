package classification

import (
	"encoding/json"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// TestWithheldListEncodesLikeEncodingJSON compares the hand-written
// encoder with encoding/json on names that need escaping.
func TestWithheldListEncodesLikeEncodingJSON(t *testing.T) {
	l := WithheldList{
		{Path: json.RawMessage(`["users","edges",3,"we\"ird\u2028"]`), Class: "contact", Decision: "MASKED"},
		{Path: json.RawMessage(`["me"]`), Class: "real_name", Decision: "WITHHELD"},
		{Path: json.RawMessage(`["users","edges","*","node","phone"]`), Class: "contact", Decision: "MASKED", Count: 50},
	}
	got, err := json.Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal([]Withheld(l))
	var g, w any
	if json.Unmarshal(got, &g) != nil || json.Unmarshal(want, &w) != nil {
		t.Fatalf("invalid JSON: %s", got)
	}
	if gj, _ := json.Marshal(g); string(gj) != func() string { wj, _ := json.Marshal(w); return string(wj) }() {
		t.Errorf("got %s, want %s", got, want)
	}
}

// TestPathOfMatchesFieldContextPath compares the report's path encoder
// with gqlgen's own FieldContext.Path, on aliases that need escaping.
func TestPathOfMatchesFieldContextPath(t *testing.T) {
	field := func(alias string) graphql.CollectedField {
		return graphql.CollectedField{Field: &ast.Field{Alias: alias, Name: "f"}}
	}
	index := func(i int) *int { return &i }
	root := &graphql.FieldContext{Field: field("users")}
	edges := &graphql.FieldContext{Parent: root, Field: field("edges")}
	item := &graphql.FieldContext{Parent: edges, Index: index(12)}
	node := &graphql.FieldContext{Parent: item, Field: field(`n"o\de`)}
	leaf := &graphql.FieldContext{Parent: node, Field: field("phone")}
	for _, fc := range []*graphql.FieldContext{root, item, leaf} {
		want, err := json.Marshal(fc.Path())
		if err != nil {
			t.Fatal(err)
		}
		if got := appendSteps(nil, pathOf(fc)); string(got) != string(want) {
			t.Errorf("appendSteps = %s, want %s", got, want)
		}
	}
}
