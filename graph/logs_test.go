package graph_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"veil/veiltest"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestLogsHoldNoPersonalData sends every demo persona's reads of every
// seeded object, and requests that fail, with logging at debug level and
// in JSON; no seeded personal value may appear in the log.
func TestLogsHoldNoPersonalData(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		var logs lockedBuffer
		prev := slog.Default()
		slog.SetDefault(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
		t.Cleanup(func() { slog.SetDefault(prev) })

		w, objects, viewers := world(t, env)
		needles := personalValues(t, env, w.Users["adult"].ID)
		for _, u := range w.Users {
			needles = append(needles, u.Phone)
			if u.RealName != "" {
				needles = append(needles, u.RealName, u.IDNumber)
			}
		}
		for _, obj := range objects {
			query := fmt.Sprintf("query($id: ID!) { node(id: $id) { ... on %s { %s } } }", obj.typ, selection(gqlSchema.Types[obj.typ]))
			for _, v := range viewers {
				env.Do(veiltest.Request{Token: v.token, Purpose: string(v.viewer.Purpose), Query: query, Variables: map[string]any{"id": veiltest.ID(obj.id)}})
			}
		}
		adult := w.Users["adult"]
		for _, req := range []veiltest.Request{
			{Query: `mutation($p: String!) { requestLoginCode(phone: $p) { expiresInSeconds } }`, Variables: map[string]any{"p": adult.Phone}},
			{Query: `mutation($p: String!) { login(phone: $p, code: "000000") { token } }`, Variables: map[string]any{"p": adult.Phone}},
			{Token: "veil_not-a-token", Query: `{ me { phone } }`},
			{Token: w.Tokens["teen"], Query: `mutation($in: [ContactInput!]!) { uploadContacts(input: $in) { id } }`,
				Variables: map[string]any{"in": []any{map[string]any{"name": adult.RealName, "phone": adult.Phone}}}},
			{Token: w.Tokens["unverified"], Query: `mutation($in: RealNameInput!) { submitRealName(input: $in) { id } }`,
				Variables: map[string]any{"in": map[string]any{"realName": adult.RealName, "idNumber": adult.IDNumber}}},
		} {
			env.Do(req)
		}
		out := logs.String()
		if !strings.Contains(out, `"msg":"request"`) {
			t.Fatal("nothing was logged: the test would pass vacuously")
		}
		for _, n := range needles {
			if strings.Contains(out, n) {
				t.Errorf("the log holds %q", n)
			}
		}
	})
}
