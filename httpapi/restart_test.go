package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"sync"
	"testing"
	"time"

	"veil/ent/consent"
	"veil/seed"
	"veil/veiltest"
)

// TestSurvivesPostgresRestart stops PostgreSQL in the middle of a load of
// writes against a separate server process, and starts it again: the
// process survives, answers clearly (never hangs) while the store is
// gone, is serving again within seconds, and every write it acknowledged
// is in the database. It stops the shared cluster, so it runs only when
// VEIL_TEST_STOP_POSTGRES=1 (.ci/run runs it on its own, after the rest).
func TestSurvivesPostgresRestart(t *testing.T) {
	if os.Getenv("VEIL_TEST_STOP_POSTGRES") != "1" {
		t.Skip("set VEIL_TEST_STOP_POSTGRES=1 (and VEIL_TEST_POSTGRES_URL) to stop and restart PostgreSQL in this test")
	}
	base := os.Getenv(veiltest.PostgresEnv)
	if base == "" {
		t.Skip(veiltest.PostgresEnv + " is not set")
	}
	version, err := exec.Command("sh", "-c", "ls /etc/postgresql | sort -n | tail -n 1").Output()
	if err != nil || len(bytes.TrimSpace(version)) == 0 {
		t.Skip("no local PostgreSQL cluster to stop")
	}
	pgctl := func(action string) {
		out, err := exec.Command("pg_ctlcluster", "--skip-systemctl-redirect", string(bytes.TrimSpace(version)), "main", action, "-m", "fast").CombinedOutput()
		if err != nil && action != "stop" {
			t.Fatalf("pg_ctlcluster %s: %v\n%s", action, err, out)
		}
	}
	defer func() { // whatever happens, leave PostgreSQL running
		if !bytes.Contains(must(exec.Command("pg_isready", "-h", "127.0.0.1").CombinedOutput()), []byte("accepting")) {
			pgctl("start")
		}
	}()

	t.Run("postgres", func(t *testing.T) {
		env := veiltest.New(t, veiltest.FreshPostgresSchema(t, base))
		env.Clock = time.Now() // the server process runs on the real clock
		server := veiltest.StartServerProcess(t, env.DatabaseURL)

		const workers = 4
		tokens := make([]string, workers)
		for i := range tokens {
			u, err := seed.EnsureUser(context.Background(), env.Store.Client, seed.Person{Phone: fmt.Sprintf("1340000000%d", i), Nickname: "load"}, env.Clock)
			if err != nil {
				t.Fatal(err)
			}
			if err := seed.EnsureConsent(context.Background(), env.Store.Client, u.ID, "ACCOUNT", 0, env.Clock); err != nil {
				t.Fatal(err)
			}
			tokens[i] = env.Token(u.ID)
		}
		client := &http.Client{Timeout: 10 * time.Second}
		var mu sync.Mutex
		var acked []string
		failed, hung := 0, 0
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for wkr := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					case <-time.After(60 * time.Millisecond):
					}
					recipient := fmt.Sprintf("load-%d-%d", wkr, i)
					body, _ := json.Marshal(map[string]any{"query": `mutation($r: String) { grantConsent(purpose: THIRD_PARTY_SHARING, recipient: $r) { id } }`, "variables": map[string]any{"r": recipient}})
					req, _ := http.NewRequest(http.MethodPost, server+"/graphql", bytes.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Authorization", "Bearer "+tokens[wkr])
					resp, err := client.Do(req)
					mu.Lock()
					switch {
					case err != nil:
						hung++
					default:
						var out struct {
							Data   map[string]any   `json:"data"`
							Errors []map[string]any `json:"errors"`
						}
						json.NewDecoder(resp.Body).Decode(&out)
						resp.Body.Close()
						if len(out.Errors) == 0 && out.Data["grantConsent"] != nil {
							acked = append(acked, recipient)
						} else {
							failed++
						}
					}
					mu.Unlock()
				}
			}()
		}
		time.Sleep(2 * time.Second)
		pgctl("stop")
		time.Sleep(3 * time.Second)
		if code := status(server + "/readyz"); code != http.StatusServiceUnavailable {
			t.Errorf("/readyz while PostgreSQL is down: %d", code)
		}
		pgctl("start")
		restarted := time.Now()
		for status(server+"/readyz") != http.StatusOK {
			if time.Since(restarted) > 15*time.Second {
				t.Fatal("the server did not become ready within 15 s of PostgreSQL's restart")
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Logf("ready again %v after PostgreSQL restarted", time.Since(restarted).Round(time.Millisecond))
		time.Sleep(2 * time.Second)
		close(stop)
		wg.Wait()

		mu.Lock()
		defer mu.Unlock()
		t.Logf("%d writes acknowledged, %d refused, %d without an answer", len(acked), failed, hung)
		if failed == 0 {
			t.Error("no request failed: PostgreSQL was not down during the load")
		}
		if hung > 0 {
			t.Errorf("%d requests got no answer within 10 s", hung)
		}
		stored, err := env.Store.Client.Consent.Query().Where(consent.RecipientIn(acked...)).
			Select(consent.FieldRecipient).Strings(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		sort.Strings(stored)
		missing := 0
		for _, r := range acked {
			if i := sort.SearchStrings(stored, r); i == len(stored) || stored[i] != r {
				missing++
			}
		}
		if missing > 0 || len(acked) == 0 {
			t.Errorf("%d of %d acknowledged writes are not in the database", missing, len(acked))
		}
		if code := status(server + "/healthz"); code != http.StatusOK {
			t.Errorf("the server process is not alive: %d", code)
		}
	})
}

func status(url string) int {
	c := &http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func must(out []byte, _ error) []byte { return out }
