package inventory_test

import (
	"context"
	"encoding/json"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"veil/classification"
	"veil/ent"
	"veil/inventory"
	"veil/ledger"
	"veil/seed"
	"veil/veiltest"
)

var update = flag.Bool("update", false, "rewrite the golden file")

func build(t *testing.T) (*inventory.Inventory, *veiltest.Env) {
	t.Helper()
	env := veiltest.New(t, "sqlite:"+filepath.Join(t.TempDir(), "veil.db"))
	if _, err := seed.Demo(context.Background(), env.Store.Client, env.Accounts, env.Clock); err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Build(context.Background(), env.Store.Client)
	if err != nil {
		t.Fatal(err)
	}
	return inv, env
}

// TestMarkdownIsStable compares the Markdown lists of the demo data with
// the committed golden file (go test ./inventory -update rewrites it).
func TestMarkdownIsStable(t *testing.T) {
	inv, _ := build(t)
	golden := filepath.Join("testdata", "inventory.golden.md")
	if *update {
		if err := os.WriteFile(golden, []byte(inv.Markdown()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got := inv.Markdown(); got != string(want) {
		t.Errorf("the Markdown lists changed; if on purpose, run go test ./inventory -update\n%s", got)
	}
}

// TestListsCoverEveryClassifiedFieldAndSDK fails when a personal field of
// the schema, or an SDK of the inventory, is missing from the lists.
func TestListsCoverEveryClassifiedFieldAndSDK(t *testing.T) {
	inv, _ := build(t)
	listed := map[string]string{}
	for _, c := range inv.Collected {
		for _, f := range c.Fields {
			listed[f] = c.Class
		}
	}
	for typ, fields := range ent.Fields {
		for _, f := range fields {
			c, _ := classification.Lookup(ent.Classes[typ][f])
			if c.Level == classification.Public || c.Level == classification.Secret {
				continue
			}
			if listed[typ+"."+f] != c.Name {
				t.Errorf("%s.%s (%s) is not in the collected-information list", typ, f, c.Name)
			}
		}
	}
	for _, s := range seed.SDKs {
		found := false
		for _, sh := range inv.Shared {
			found = found || strings.Contains(sh.Recipient, s.Name)
		}
		if !found {
			t.Errorf("SDK %s is not in the sharing list", s.Name)
		}
	}
	md := inv.Markdown()
	for _, c := range inv.Collected {
		if !strings.Contains(md, "`"+c.Class+"`") {
			t.Errorf("class %s is not in the Markdown", c.Class)
		}
	}
	if strings.Contains(md, "user:") {
		t.Error("the sharing list names a user")
	}
	if _, err := json.Marshal(inv); err != nil {
		t.Fatal(err)
	}
}

// TestDataInventoryIsPublicOverGraphQL asks for the lists anonymously.
func TestDataInventoryIsPublicOverGraphQL(t *testing.T) {
	inv, env := build(t)
	r := env.MustDo(veiltest.Request{Query: `{ dataInventory { markdown collected { class fields } shared { recipient } } }`})
	if veiltest.Dig(r.Data, "dataInventory.markdown") != inv.Markdown() {
		t.Error("the GraphQL Markdown differs from the command's")
	}
	if n := len(veiltest.Dig(r.Data, "dataInventory.collected").([]any)); n != len(inv.Collected) {
		t.Errorf("%d collected rows over GraphQL, %d built", n, len(inv.Collected))
	}
}

// TestListsCiteOnlyClausesOfThePolicy checks every clause the lists cite
// against the clause ids of the published policy's text, and that a
// recipient abroad cites P4.2: a citation of a clause that does not exist,
// or a transfer abroad without its clause, fails.
func TestListsCiteOnlyClausesOfThePolicy(t *testing.T) {
	inv, _ := build(t)
	clauses := ledger.Clauses(seed.PolicyTextEn)
	if len(clauses) < 30 {
		t.Fatalf("the policy's text has %d clause ids", len(clauses))
	}
	cite := func(where string, ids []string) {
		if len(ids) == 0 {
			t.Errorf("%s cites no clause", where)
		}
		for _, id := range ids {
			if clauses[id] == "" {
				t.Errorf("%s cites %s, which the policy does not have", where, id)
			}
		}
	}
	for _, c := range inv.Collected {
		cite("class "+c.Class, c.Policy)
	}
	for _, s := range inv.Shared {
		cite("recipient "+s.Recipient, s.Policy)
		if s.Region != string(classification.Mainland) && !strings.Contains(s.Region, " ") && !slices.Contains(s.Policy, "P4.2") {
			t.Errorf("recipient %s receives data in %s and does not cite P4.2", s.Recipient, s.Region)
		}
	}
}

// TestReadmeNamesATestForEveryClause checks the README's clause table:
// every leaf clause of the policy has a row, each row names tests or says
// "not built", and every test it names exists.
func TestReadmeNamesATestForEveryClause(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]bool{}
	declared := regexp.MustCompile(`(?m)^func (Test\w+)\(`)
	err = filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return err
		}
		src, err := os.ReadFile(path)
		for _, m := range declared.FindAllStringSubmatch(string(src), -1) {
			tests[m[1]] = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^\| (P\d+(?:\.\d+[a-z]?)?) \| .* \| (.*) \|$`).FindAllStringSubmatch(string(readme), -1) {
		rows[m[1]] = m[2]
	}
	clauses := ledger.Clauses(seed.PolicyTextEn)
	for id := range clauses {
		leaf := true
		for other := range clauses {
			leaf = leaf && !strings.HasPrefix(other, id+".")
		}
		if !leaf {
			continue
		}
		named, ok := rows[id]
		switch {
		case !ok:
			t.Errorf("the README's clause table has no row for %s", id)
		case named == "not built":
		default:
			names := regexp.MustCompile("`(Test\\w+)`").FindAllStringSubmatch(named, -1)
			if len(names) == 0 {
				t.Errorf("%s names no test: %q", id, named)
			}
			for _, n := range names {
				if !tests[n[1]] {
					t.Errorf("%s names %s, which no test file declares", id, n[1])
				}
			}
		}
	}
	for id := range rows {
		if clauses[id] == "" {
			t.Errorf("the README's clause table has a row for %s, which the policy does not have", id)
		}
	}
}
