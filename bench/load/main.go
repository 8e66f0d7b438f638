// Command load drives a running Veil server from a second process, for a
// fixed time, with three representative operations in rotation, and
// reports requests per second and latency percentiles.
//
//	go run ./bench/load -url http://127.0.0.1:18080 -tokens tokens.json -duration 20s
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
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: *concurrency}}
	latencies := make([][]time.Duration, len(ops))
	errors := make([]int, len(ops))
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
				req.Header.Set("Authorization", "Bearer "+o.token)
				if o.purpose != "" {
					req.Header.Set("X-Access-Purpose", o.purpose)
				}
				start := time.Now()
				resp, err := client.Do(req)
				ok := false
				if err == nil {
					var out struct {
						Errors []any `json:"errors"`
					}
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					ok = resp.StatusCode == 200 && json.Unmarshal(b, &out) == nil && len(out.Errors) == 0
				}
				d := time.Since(start)
				mu.Lock()
				if ok {
					latencies[k] = append(latencies[k], d)
				} else {
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
