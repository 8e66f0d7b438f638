// Command load drives running servers from a second process and compares
// them on two reads, the same rows from each:
//
//	Q1: 50 users × nickname, phone, createdAt
//	Q2: 20 users × 10 orders × orderNo, amountFen, status, recipientPhone, createdAt
//
// Variants: Veil read by support under after_sales (raw, audited), Veil
// read by support without a purpose (masked), the baseline build (Veil
// without the classification layer) and, when given, PostGraphile on the
// same database. Rounds interleave them: each round loads every variant
// with each read for -duration, one after the other, so that a slower
// machine or a warmer cache falls on all alike. For each it reports
// requests per second, p50 and p99 latency and the server process's CPU
// per request (from /proc); at the end the medians over the rounds, the
// per-round ratios, and each process's peak memory.
//
//	go run ./bench/load -veil http://127.0.0.1:18080 -veil-pid PID \
//	  -baseline http://127.0.0.1:18082 -baseline-pid PID \
//	  -postgraphile http://127.0.0.1:18081 -postgraphile-pid PID -tokens tokens.json
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
	"strconv"
	"strings"
	"sync"
	"time"
)

// reads are the two reads in each schema, returning the same rows.
var reads = []struct {
	name, veil, postgraphile string
	rows                     int // elements of the outer list
}{
	{"Q1", `{ users(first: 50) { edges { node { nickname phone createdAt } } } }`,
		`{ allUsers(first: 50, orderBy: PRIMARY_KEY_ASC) { nodes { nickname phone createdAt } } }`, 50},
	{"Q2", `{ users(first: 20) { edges { node { nickname orders(first: 10) { edges { node { orderNo amountFen status recipientPhone createdAt } } } } } } }`,
		`{ allUsers(first: 20, orderBy: PRIMARY_KEY_ASC) { nodes { nickname ordersByBuyerId(first: 10, orderBy: PRIMARY_KEY_ASC) { nodes { orderNo amountFen status recipientPhone createdAt } } } } }`, 20},
}

// variant is one server read one way.
type variant struct {
	name, url, token, purpose string
	pid                       int
	postgraphile              bool
}

type result struct {
	rps, p50, p99, cpuPerReq float64 // req/s, ms, ms, ms
	errors                   int
}

func main() {
	veilURL := flag.String("veil", "", "Veil base URL")
	veilPID := flag.Int("veil-pid", 0, "Veil's process ID, for its CPU time")
	baseURL := flag.String("baseline", "", "baseline build's base URL (optional)")
	basePID := flag.Int("baseline-pid", 0, "baseline's process ID")
	pgURL := flag.String("postgraphile", "", "PostGraphile's base URL (optional)")
	pgPID := flag.Int("postgraphile-pid", 0, "PostGraphile's process ID")
	tokensPath := flag.String("tokens", "tokens.json", "persona -> token JSON written by the demo command")
	rounds := flag.Int("rounds", 5, "rounds")
	duration := flag.Duration("duration", 20*time.Second, "load per variant and read in a round")
	warmup := flag.Duration("warmup", 5*time.Second, "load per variant and read before the first round (not reported)")
	concurrency := flag.Int("concurrency", 16, "parallel connections")
	flag.Parse()

	buf, err := os.ReadFile(*tokensPath)
	if err != nil {
		fail(err)
	}
	var tokens map[string]string
	if err := json.Unmarshal(buf, &tokens); err != nil {
		fail(err)
	}
	if *veilURL == "" {
		fail(fmt.Errorf("-veil is required"))
	}
	variants := []variant{
		{name: "veil-audited", url: *veilURL, token: tokens["support"], purpose: "after_sales", pid: *veilPID},
		{name: "veil-masked", url: *veilURL, token: tokens["support"], pid: *veilPID},
	}
	if *baseURL != "" {
		variants = append(variants, variant{name: "baseline", url: *baseURL, token: tokens["support"], purpose: "after_sales", pid: *basePID})
	}
	if *pgURL != "" {
		variants = append(variants, variant{name: "postgraphile", url: *pgURL, pid: *pgPID, postgraphile: true})
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: *concurrency}}
	for _, v := range variants {
		for _, r := range reads {
			if err := check(client, v, r.name); err != nil {
				fail(fmt.Errorf("%s %s: %w", v.name, r.name, err))
			}
			load(client, v, r.name, *warmup, *concurrency)
		}
	}
	// results[read][variant] holds one result per round.
	results := map[string]map[string][]result{}
	for round := 1; round <= *rounds; round++ {
		for _, r := range reads {
			if results[r.name] == nil {
				results[r.name] = map[string][]result{}
			}
			for i := range variants {
				// Rotate the order each round.
				v := variants[(i+round)%len(variants)]
				res := load(client, v, r.name, *duration, *concurrency)
				results[r.name][v.name] = append(results[r.name][v.name], res)
				fmt.Printf("round %d %s %-13s %7.1f req/s  p50 %6.1f ms  p99 %6.1f ms  server CPU %5.2f ms/req  errors %d\n",
					round, r.name, v.name, res.rps, res.p50, res.p99, res.cpuPerReq, res.errors)
			}
		}
	}
	fmt.Printf("\nmedians over %d rounds of %v, %d connections\n", *rounds, *duration, *concurrency)
	fmt.Printf("%-4s %-13s %9s %9s %9s %13s\n", "read", "variant", "req/s", "p50 ms", "p99 ms", "CPU ms/req")
	for _, r := range reads {
		for _, v := range variants {
			rs := results[r.name][v.name]
			fmt.Printf("%-4s %-13s %9.1f %9.1f %9.1f %13.2f\n", r.name, v.name,
				median(rs, func(x result) float64 { return x.rps }), median(rs, func(x result) float64 { return x.p50 }),
				median(rs, func(x result) float64 { return x.p99 }), median(rs, func(x result) float64 { return x.cpuPerReq }))
		}
	}
	fmt.Println("\nthroughput ratios, same round: min - max (median)")
	for _, pair := range [][2]string{{"veil-audited", "veil-masked"}, {"veil-masked", "baseline"}, {"veil-audited", "postgraphile"}, {"veil-masked", "postgraphile"}, {"baseline", "postgraphile"}} {
		for _, r := range reads {
			a, b := results[r.name][pair[0]], results[r.name][pair[1]]
			if len(a) == 0 || len(b) == 0 {
				continue
			}
			var ratios []float64
			for i := range a {
				if b[i].rps > 0 {
					ratios = append(ratios, a[i].rps/b[i].rps)
				}
			}
			sort.Float64s(ratios)
			if len(ratios) > 0 {
				fmt.Printf("%s %s / %s: %.2f - %.2f (%.2f)\n", r.name, pair[0], pair[1], ratios[0], ratios[len(ratios)-1], ratios[len(ratios)/2])
			}
		}
	}
	fmt.Println("\npeak memory (VmHWM)")
	seen := map[int]bool{}
	for _, v := range variants {
		if v.pid != 0 && !seen[v.pid] {
			seen[v.pid] = true
			fmt.Printf("%-13s %s\n", strings.TrimSuffix(v.name, "-audited"), peakMemory(v.pid))
		}
	}
}

func request(v variant, read string) *http.Request {
	q := ""
	for _, r := range reads {
		if r.name == read {
			q = r.veil
			if v.postgraphile {
				q = r.postgraphile
			}
		}
	}
	body, _ := json.Marshal(map[string]string{"query": q})
	req, _ := http.NewRequest(http.MethodPost, v.url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if v.token != "" {
		req.Header.Set("Authorization", "Bearer "+v.token)
	}
	if v.purpose != "" {
		req.Header.Set("X-Access-Purpose", v.purpose)
	}
	return req
}

// check sends a read once and checks that it answers the expected rows.
func check(client *http.Client, v variant, read string) error {
	resp, err := client.Do(request(v, read))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out struct {
		Data   map[string]json.RawMessage `json:"data"`
		Errors []any                      `json:"errors"`
	}
	if err := json.Unmarshal(b, &out); err != nil || len(out.Errors) > 0 || resp.StatusCode != 200 {
		return fmt.Errorf("status %d: %.300s", resp.StatusCode, b)
	}
	want := 0
	for _, r := range reads {
		if r.name == read {
			want = r.rows
		}
	}
	for _, list := range out.Data {
		var l struct {
			Edges []any `json:"edges"`
			Nodes []any `json:"nodes"`
		}
		json.Unmarshal(list, &l)
		if n := len(l.Edges) + len(l.Nodes); n != want {
			return fmt.Errorf("%d rows, want %d", n, want)
		}
	}
	return nil
}

// load sends read to v from concurrency connections for d.
func load(client *http.Client, v variant, read string, d time.Duration, concurrency int) result {
	var mu sync.Mutex
	var latencies []time.Duration
	errors := 0
	cpuBefore := cpuTime(v.pid)
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				t := time.Now()
				resp, err := client.Do(request(v, read))
				ok := false
				if err == nil {
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					ok = resp.StatusCode == 200 && !bytes.Contains(b, []byte(`"errors"`))
				}
				el := time.Since(t)
				mu.Lock()
				if ok {
					latencies = append(latencies, el)
				} else {
					errors++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := cpuTime(v.pid) - cpuBefore
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	res := result{errors: errors, rps: float64(len(latencies)) / elapsed.Seconds(),
		p50: ms(pct(latencies, 0.50)), p99: ms(pct(latencies, 0.99))}
	if n := len(latencies) + errors; n > 0 && v.pid != 0 {
		res.cpuPerReq = ms(cpu) / float64(n)
	}
	return res
}

// cpuTime is the user and system CPU time of process pid so far, from
// /proc/PID/stat (in clock ticks of 10 ms, as on Linux by default).
func cpuTime(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		fail(err)
	}
	// The command name, in parentheses, may hold spaces: fields count
	// from after it.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

func peakMemory(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:"))
		}
	}
	return "?"
}

func median(rs []result, f func(result) float64) float64 {
	if len(rs) == 0 {
		return 0
	}
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	sort.Float64s(v)
	return v[len(v)/2]
}

func pct(l []time.Duration, p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	return l[min(len(l)-1, int(float64(len(l))*p))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func fail(err error) {
	fmt.Fprintln(os.Stderr, "load:", err)
	os.Exit(1)
}
