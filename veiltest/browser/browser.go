// Package browser starts headless Chromium for the browser tests: a fresh
// profile, no background traffic, and no host resolving but the loopback
// ones the test names.
package browser

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Start returns a tab of a new headless Chromium that resolves only
// 127.0.0.1 and hosts (such as "localhost", a second site), closed when
// the test ends. Without Chromium installed the test is skipped, saying
// what to install.
func Start(t testing.TB, hosts ...string) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (apt-get install chromium): the browser test is skipped")
	}
	rules := "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"
	for _, h := range hosts {
		rules += ", EXCLUDE " + h
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		// Nothing but the test's servers resolves.
		chromedp.Flag("host-resolver-rules", strings.TrimSpace(rules)),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		cancelTab()
		cancelAlloc()
	})
	return ctx
}
