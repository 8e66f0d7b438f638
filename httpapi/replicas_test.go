package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"veil/classification"
	"veil/ent/location"
	"veil/gid"
	"veil/seed"
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

// TestThreeReplicasServeOneDatabase runs three server processes on one
// PostgreSQL database under concurrent load: people read their own data
// and record locations, support reads audited lists, on every replica in
// turn. One replica is killed mid-load. Then: every write a replica
// acknowledged is in the database, the audit chain written by all three
// verifies and holds an entry for every audited read served, anonymous
// limits hold across the replicas left, and a cancellation on one replica
// is refused on the others at once.
func TestThreeReplicasServeOneDatabase(t *testing.T) {
	base := os.Getenv(veiltest.PostgresEnv)
	if base == "" {
		t.Skipf("%s is not set: set it to a PostgreSQL URL to run this test", veiltest.PostgresEnv)
	}
	env := veiltest.New(t, veiltest.FreshPostgresSchema(t, base))
	// The replicas run on the real clock: sessions are issued on it.
	env.Clock = time.Now()
	w, err := seed.Demo(context.Background(), env.Store.Client, env.Accounts, env.Clock)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("VEIL_SESSION_RATE", "1000")
	t.Setenv("VEIL_ANONYMOUS_RATE", "1")
	replicas := []*veiltest.ServerProcess{veiltest.StartServer(t, env.DatabaseURL), veiltest.StartServer(t, env.DatabaseURL), veiltest.StartServer(t, env.DatabaseURL)}

	client := &http.Client{Timeout: 20 * time.Second}
	type answer struct {
		Data   map[string]any `json:"data"`
		Errors []struct {
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	post := func(url, token, purpose, query string) (answer, int, error) {
		req, _ := http.NewRequest(http.MethodPost, url+"/graphql", strings.NewReader(`{"query":`+strconv.Quote(query)+`}`))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if purpose != "" {
			req.Header.Set("X-Access-Purpose", purpose)
		}
		resp, err := client.Do(req)
		if err != nil {
			return answer{}, 0, err
		}
		defer resp.Body.Close()
		var a answer
		if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
			return a, resp.StatusCode, err
		}
		return a, resp.StatusCode, nil
	}

	var (
		mu           sync.Mutex
		acknowledged []string // IDs of the locations the replicas said they stored
		audited      int      // audited reads served
		failed       int      // requests that got no answer (the killed replica)
	)
	users := []string{"adult", "guardian", "teen", "unverified"}
	start := time.Now()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 30 {
				url := replicas[(g+i)%3].URL
				var (
					a      answer
					status int
					err    error
				)
				switch i % 3 {
				case 0:
					a, status, err = post(url, w.Tokens[users[g%len(users)]], "", `mutation { recordLocation(input: {latitude: 31.23, longitude: 121.47}) { id } }`)
				case 1:
					a, status, err = post(url, w.Tokens["support"], "after_sales", `{ users(first: 10) { edges { node { nickname phone } } } }`)
				default:
					a, status, err = post(url, w.Tokens[users[g%len(users)]], "", `{ me { nickname } }`)
				}
				mu.Lock()
				switch {
				case err != nil:
					failed++
				case status != http.StatusOK || len(a.Errors) > 0:
					// Refusals are fine (a location needs consent); they
					// acknowledge nothing.
				case i%3 == 0:
					if id, ok := veiltest.Dig(a.Data, "recordLocation.id").(string); ok {
						acknowledged = append(acknowledged, id)
					}
				case i%3 == 1:
					audited++
				}
				mu.Unlock()
				if g == 0 && i == 10 {
					replicas[2].Kill() // mid-load, with requests in flight
				}
			}
		}()
	}
	wg.Wait()
	t.Logf("the load: %d writes acknowledged, %d audited reads, %d requests unanswered, in %v", len(acknowledged), audited, failed, time.Since(start).Round(time.Millisecond))
	if len(acknowledged) == 0 || audited == 0 || failed == 0 {
		t.Fatalf("the load: %d writes acknowledged, %d audited reads, %d requests unanswered: want some of each", len(acknowledged), audited, failed)
	}
	for _, id := range acknowledged {
		row, err := gid.Decode(id)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := env.Store.Client.Location.Query().Where(location.ID(row)).Count(classification.AsSystem(context.Background())); err != nil || n != 1 {
			t.Errorf("acknowledged location %s: %d rows (%v)", id, n, err)
		}
	}
	live := replicas[:2]
	r := env.MustDo(veiltest.Request{Token: w.Tokens["auditor"], Purpose: "audit", Query: `{ verifyAuditChain { ok checked reason } auditEvents(action: "READ_RAW") { totalCount } }`})
	if veiltest.Dig(r.Data, "verifyAuditChain.ok") != true {
		t.Errorf("the chain written by three replicas: %s", r.Raw)
	}
	if n, _ := veiltest.Dig(r.Data, "auditEvents.totalCount").(float64); int(n) < audited {
		t.Errorf("%d audited reads served, %v entries", audited, n)
	}

	// Anonymous limits: one burst of 4 across the replicas left.
	allowed := 0
	for i := range 12 {
		_, status, err := post(live[i%2].URL, "", "", `{ __typename }`)
		if err != nil {
			t.Fatal(err)
		}
		if status == http.StatusOK {
			allowed++
		}
	}
	if allowed < 4 || allowed > 5 {
		t.Errorf("%d of 12 anonymous requests allowed across two replicas; want the burst of 4 once", allowed)
	}

	// A cancellation on one replica is refused on the other at once.
	token := w.Tokens["unverified"]
	if a, _, err := post(live[0].URL, token, "", `mutation { cancelAccount(confirm: true) { cancelled } }`); err != nil || veiltest.Dig(a.Data, "cancelAccount.cancelled") != true {
		t.Fatalf("cancel: %+v %v", a, err)
	}
	for _, rep := range live {
		a, status, err := post(rep.URL, token, "", `{ me { nickname } }`)
		if err != nil || status != http.StatusUnauthorized || len(a.Errors) == 0 {
			t.Errorf("the cancelled token on %s: %d %+v %v", rep.URL, status, a, err)
		}
	}
}
