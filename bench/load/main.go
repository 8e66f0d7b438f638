// Command load drives a running Veil server from a second process, for a
// fixed time, with three representative operations in rotation, and
// reports requests per second and latency percentiles.
//
//	go run ./bench/load -url http://127.0.0.1:18080 -tokens tokens.json -duration 20s
//
// With -target postgraphile it sends the same three reads, in
// PostGraphile's schema, to a PostGraphile server on the same database:
// the same rows and columns, with no privacy rule applied (and encrypted
// columns served as stored).
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"sync"
	"time"
)

type op struct {
	name, token, purpose, query string
}

func main() {
	base := flag.String("url", "http://127.0.0.1:8080", "server base URL")
	tokensPath := flag.String("tokens", "tokens.json", "persona -> token JSON written by the demo command")
	duration := flag.Duration("duration", 20*time.Second, "how long to send load")
	concurrency := flag.Int("concurrency", 8, "parallel clients")
	target := flag.String("target", "veil", "veil, or postgraphile (a PostGraphile 4 server on the same database)")
	userID := flag.Int("user-id", 0, "for postgraphile: the row ID of the demo adult")
	flag.Parse()

	buf, err := os.ReadFile(*tokensPath)
	if err != nil {
		fail(err)
	}
	var tokens map[string]string
	if err := json.Unmarshal(buf, &tokens); err != nil {
		fail(err)
	}
	ops := []op{
		{"own profile with orders", tokens["adult"], "", `{ me { id nickname phone realName idNumber ageGroup orders(first: 10) { edges { node { orderNo amountFen status recipientPhone } } } } }`},
		{"staff list of 50 users", tokens["support"], "after_sales", `{ users(first: 50) { edges { node { id nickname avatarURL phone realName idNumber birthDate ageGroup status createdAt } } } }`},
		{"nested users and orders", tokens["support"], "after_sales", `{ users(first: 20) { edges { node { id nickname orders(first: 10) { edges { node { orderNo amountFen recipientPhone status } } } } } } }`},
	}
	switch *target {
	case "veil":
	case "postgraphile":
		if *userID == 0 {
			fail(fmt.Errorf("-target postgraphile needs -user-id"))
		}
		ops = []op{
			{ops[0].name, "", "", fmt.Sprintf(`{ userById(id: "%d") { id nickname phone realName idNumber birthDate ordersByBuyerId(first: 10) { nodes { orderNo amountFen status recipientPhone } } } }`, *userID)},
			{ops[1].name, "", "", `{ allUsers(first: 50, orderBy: ID_ASC) { nodes { id nickname avatarUrl phone realName idNumber birthDate status createdAt } } }`},
			{ops[2].name, "", "", `{ allUsers(first: 20, orderBy: ID_ASC) { nodes { id nickname ordersByBuyerId(first: 10) { nodes { orderNo amountFen recipientPhone status } } } } }`},
		}
	default:
		fail(fmt.Errorf("unknown -target %q", *target))
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: *concurrency}}
	latencies := make([][]time.Duration, len(ops))
	errors := make([]int, len(ops))
	firstError := make([]string, len(ops))
	var mu sync.Mutex
	deadline := time.Now().Add(*duration)
	var wg sync.WaitGroup
	for w := range *concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; time.Now().Before(deadline); i++ {
				k := i % len(ops)
				o := ops[k]
				body, _ := json.Marshal(map[string]string{"query": o.query})
				req, _ := http.NewRequest(http.MethodPost, *base+"/graphql", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				if o.token != "" {
					req.Header.Set("Authorization", "Bearer "+o.token)
				}
				if o.purpose != "" {
					req.Header.Set("X-Access-Purpose", o.purpose)
				}
				start := time.Now()
				resp, err := client.Do(req)
				ok, answer := false, ""
				if err == nil {
					var out struct {
						Errors []any `json:"errors"`
					}
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					ok = resp.StatusCode == 200 && json.Unmarshal(b, &out) == nil && len(out.Errors) == 0
					answer = fmt.Sprintf("status %d: %.300s", resp.StatusCode, b)
				} else {
					answer = err.Error()
				}
				d := time.Since(start)
				mu.Lock()
				if ok {
					latencies[k] = append(latencies[k], d)
				} else {
					if errors[k] == 0 {
						firstError[k] = answer
					}
					errors[k]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	total := 0
	fmt.Printf("%-26s %8s %8s %10s %10s\n", "operation", "requests", "errors", "p50", "p99")
	for k, o := range ops {
		l := latencies[k]
		sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
		total += len(l)
		fmt.Printf("%-26s %8d %8d %10v %10v\n", o.name, len(l), errors[k], pct(l, 0.50), pct(l, 0.99))
		if firstError[k] != "" {
			fmt.Fprintf(os.Stderr, "first error of %q: %s\n", o.name, firstError[k])
		}
	}
	fmt.Printf("total: %d requests in %v: %.1f requests/s with %d clients\n", total, *duration, float64(total)/duration.Seconds(), *concurrency)
}

func pct(l []time.Duration, p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	return l[min(len(l)-1, int(float64(len(l))*p))].Round(10 * time.Microsecond)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "load:", err)
	os.Exit(1)
}
