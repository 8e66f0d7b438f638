package veiltest_test

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"veil/seed"
	"veil/veiltest"
)

// ScanEnv names the run log TestTheRunsLogHoldsNoPersonalValue searches;
// .ci/run sets it, after every other test has appended to that log.
const ScanEnv = "VEIL_TEST_LOG_SCAN"

// TestTheRunsLogHoldsNoPersonalValue searches the log of a whole test run
// (every test process and every server process they started, through
// veiltest.LogEnv) for the personal values the tests send and store: the
// demo personas' phones, real names and ID numbers, and the fuzz target's
// canaries. None may appear, in any line.
func TestTheRunsLogHoldsNoPersonalValue(t *testing.T) {
	path := os.Getenv(ScanEnv)
	if path == "" {
		t.Skipf("%s is not set: it names the log of a whole test run to search (.ci/run sets it)", ScanEnv)
	}
	env := veiltest.New(t, "sqlite:"+filepath.Join(t.TempDir(), "veil.db"))
	w, err := seed.Demo(context.Background(), env.Store.Client, env.Accounts, env.Clock)
	if err != nil {
		t.Fatal(err)
	}
	needles := []string{"卡纳莉试验", "11010519491231002X", "13987650123", "canary-7Qx9Lw", "veil_canaryTok3n"}
	for _, u := range w.Users {
		needles = append(needles, u.Phone)
		if u.RealName != "" {
			needles = append(needles, u.RealName, u.IDNumber)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	lines, requests := 0, 0
	for sc.Scan() {
		line := sc.Text()
		lines++
		if strings.Contains(line, `"msg":"request"`) {
			requests++
		}
		for _, n := range needles {
			if strings.Contains(line, n) || strings.Contains(line, strings.Trim(strconv.QuoteToASCII(n), `"`)) {
				t.Errorf("line %d of the run log holds %q: %.300s", lines, n, line)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	// A log with few requests means the tests did not write to it.
	if requests < 1000 {
		t.Fatalf("the run log has %d request lines in %d lines: the tests did not log to it", requests, lines)
	}
	t.Logf("searched %d lines (%d requests) for %d values", lines, requests, len(needles))
}
