package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"veil/graph"
)

// TestDocumentsAddChecksBeforeWriting registers documents, refuses one
// that does not validate (writing none of its batch) and a new text under
// a registered name, and lists what the server would load.
func TestDocumentsAddChecksBeforeWriting(t *testing.T) {
	src, dir := t.TempDir(), filepath.Join(t.TempDir(), "documents")
	file := func(name, text string) string {
		p := filepath.Join(src, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	me, bad := file("me.graphql", "query Me { me { nickname } }"), file("bad.graphql", "{ me { shoeSize } }")
	if err := documentsCmd([]string{"add", "-dir", dir, me, bad}); err == nil {
		t.Fatal("a document that does not validate was registered")
	}
	if _, err := os.Stat(filepath.Join(dir, "me.graphql")); err == nil {
		t.Error("a batch with a bad document wrote its good one")
	}
	for range 2 { // the same text again is no change
		if err := documentsCmd([]string{"add", "-dir", dir, me}); err != nil {
			t.Fatal(err)
		}
	}
	changed := file("me.gql", "query Me { me { nickname avatarURL } }")
	if err := documentsCmd([]string{"add", "-dir", dir, changed}); err == nil {
		t.Error("a registered name took another text")
	}
	// A text under a second name, or a name twice in one call.
	other := filepath.Join(t.TempDir(), "me2.graphql")
	os.WriteFile(other, []byte("query Me { me { nickname } }"), 0o644)
	if err := documentsCmd([]string{"add", "-dir", dir, other}); err == nil {
		t.Error("a registered text took a second name")
	}
	a, b := filepath.Join(t.TempDir(), "q.graphql"), filepath.Join(t.TempDir(), "q.graphql")
	os.WriteFile(a, []byte("query A { me { id } }"), 0o644)
	os.WriteFile(b, []byte("query B { me { nickname } }"), 0o644)
	if err := documentsCmd([]string{"add", "-dir", dir, a, b}); err == nil {
		t.Error("one name took two texts in one call")
	}
	docs, err := graph.LoadDocuments(dir)
	if err != nil {
		t.Fatal(err)
	}
	if l := docs.List(); len(l) != 1 || l[0].Name != "me" || l[0].ID != graph.DocumentID("query Me { me { nickname } }") {
		t.Errorf("registered: %+v", l)
	}
	if err := documentsCmd([]string{"list", "-dir", dir}); err != nil {
		t.Error(err)
	}
	// A document the server would refuse at start (deeper than the
	// default limit) is refused when added.
	deep := "query Deep { me { " + strings.Repeat("orders { edges { node { buyer { ", 3) + "nickname" + strings.Repeat(" } } } }", 3) + " } }"
	if err := documentsCmd([]string{"add", "-dir", dir, file("deep.graphql", deep)}); err == nil {
		t.Error("a document over the depth limit was registered")
	}
	if _, err := os.Stat(filepath.Join(dir, "deep.graphql")); err == nil {
		t.Error("the document over the limit was written")
	}
}
