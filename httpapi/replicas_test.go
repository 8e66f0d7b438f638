package httpapi_test

import (
	"net/http"
	"os"
	"strings"
	"testing"

	"veil/veiltest"
)

// TestRateLimitsHoldAcrossServerProcesses starts two server processes on
// one PostgreSQL database and sends anonymous requests to both in turn:
// together they allow the burst of one client address once, not once each.
func TestRateLimitsHoldAcrossServerProcesses(t *testing.T) {
	base := os.Getenv(veiltest.PostgresEnv)
	if base == "" {
		t.Skipf("%s is not set: set it to a PostgreSQL URL to run this test", veiltest.PostgresEnv)
	}
	env := veiltest.New(t, veiltest.FreshPostgresSchema(t, base))
	// One request a second, bursts of 4, for anonymous callers.
	t.Setenv("VEIL_ANONYMOUS_RATE", "1")
	servers := []string{veiltest.StartServerProcess(t, env.DatabaseURL), veiltest.StartServerProcess(t, env.DatabaseURL)}
	allowed, refused := 0, map[int]int{}
	for i := range 16 {
		resp, err := http.Post(servers[i%2]+"/graphql", "application/json", strings.NewReader(`{"query":"{ __typename }"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
			allowed++
		case http.StatusTooManyRequests:
			if resp.Header.Get("Retry-After") == "" {
				t.Error("a refusal without Retry-After")
			}
			refused[i%2]++
		default:
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	// Four, and a fifth if a second passed: each process alone would
	// have allowed four.
	if allowed < 4 || allowed > 5 || refused[0] == 0 || refused[1] == 0 {
		t.Errorf("%d of 16 allowed, refused by each process %v: want the burst of 4 once", allowed, refused)
	}
}
