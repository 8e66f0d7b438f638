package classification

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeListsEveryClass keeps the README's class table in step with
// the declarations.
func TestReadmeListsEveryClass(t *testing.T) {
	buf, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range All {
		row := "| `" + c.Name + "` | " + c.Level.String() + " | " + c.Description + " |"
		if !strings.Contains(string(buf), row) {
			t.Errorf("README.md has no row %q", row)
		}
	}
}
