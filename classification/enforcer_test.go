package classification

import (
	"encoding/json"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
)

// TestWithheldListEncodesLikeEncodingJSON compares the hand-written
// encoder with encoding/json on names that need escaping.
func TestWithheldListEncodesLikeEncodingJSON(t *testing.T) {
	l := WithheldList{
		{Path: ast.Path{ast.PathName("users"), ast.PathName("edges"), ast.PathIndex(3), ast.PathName(`we"ird\u2028`)}, Class: "contact", Decision: "MASKED"},
		{Path: ast.Path{ast.PathName("me")}, Class: "real_name", Decision: "WITHHELD"},
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
