package main

import (
	"os"
	"path/filepath"
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
}
