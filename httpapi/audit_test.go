package httpapi_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"veil/seed"
	"veil/veiltest"
)

// auditDir holds the graphql-http audit suite, installed by
// `npm ci --prefix httpapi/testdata/graphql-http` (.ci/run does it).
const auditDir = "testdata/graphql-http"

// TestGraphQLOverHTTPAudit runs graphql-http's audit of the GraphQL over
// HTTP specification against the real handler: every MUST and every
// SHOULD passes (a failed MAY is allowed). The audit introspects with
// __type, which Veil serves to admin tokens only, so it runs as an admin.
func TestGraphQLOverHTTPAudit(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: the graphql-http audit is skipped")
	}
	if _, err := os.Stat(filepath.Join(auditDir, "node_modules", "graphql-http")); err != nil {
		t.Skipf("the graphql-http audit suite is not installed (npm ci --prefix httpapi/%s): the audit is skipped", auditDir)
	}
	env := veiltest.New(t, "sqlite:"+filepath.Join(t.TempDir(), "veil.db"))
	w, err := seed.Demo(context.Background(), env.Store.Client, env.Accounts, env.Clock)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(node, filepath.Join(auditDir, "audit.mjs"), env.Server.URL+"/graphql", w.Tokens["admin"]).Output()
	if err != nil {
		t.Fatalf("run the audit: %v", err)
	}
	var results []struct{ ID, Name, Status, Reason string }
	if err := json.Unmarshal(out, &results); err != nil {
		t.Fatalf("the audit's output is not JSON: %v\n%s", err, out)
	}
	if len(results) < 50 {
		t.Fatalf("the audit ran only %d checks", len(results))
	}
	for _, r := range results {
		switch r.Status {
		case "ok", "notice":
		default:
			t.Errorf("%s %s %s: %s", r.Status, r.ID, r.Name, r.Reason)
		}
	}
}
