package analytics_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"veil/analytics"
	"veil/classification"
	"veil/ent"
	"veil/ent/activitylog"
	"veil/ent/device"
	"veil/seed"
	"veil/veiltest"
)

// TestExportHoldsNoDirectIdentifier exports the demo's activity and looks
// for every seeded direct identifier in the output.
func TestExportHoldsNoDirectIdentifier(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		ctx := context.Background()
		w, err := seed.Demo(ctx, env.Store.Client, env.Accounts, env.Clock)
		if err != nil {
			t.Fatal(err)
		}
		key := bytes.Repeat([]byte{7}, 32)
		if _, err := analytics.Export(ctx, env.Store.Client, key[:16], &bytes.Buffer{}, 10); err == nil {
			t.Error("a short key was accepted")
		}
		var out bytes.Buffer
		n, err := analytics.Export(ctx, env.Store.Client, key, &out, 1)
		if err != nil || n == 0 {
			t.Fatalf("exported %d rows: %v", n, err)
		}
		var identifiers []string
		for _, u := range w.Users {
			identifiers = append(identifiers, u.Phone, veiltest.ID(u.ID))
			if u.RealName != "" {
				identifiers = append(identifiers, u.RealName, u.IDNumber)
			}
		}
		devs, err := env.Store.Client.Device.Query().Where(device.UserID(w.Users["adult"].ID)).All(ctx)
		if err != nil || len(devs) == 0 {
			t.Fatal("no device seeded")
		}
		for _, d := range devs {
			identifiers = append(identifiers, *d.Imei, *d.Idfa, *d.Oaid, *d.MAC, *d.Imsi)
		}
		// The app's start-up and crash logs never leave (P8), and the
		// IMSI identifies the subscriber, not the device: not even its
		// keyed hash is exported.
		logs := env.Store.Client.AppLog.Query().AllX(classification.AsSystem(ctx))
		if len(logs) == 0 {
			t.Fatal("no app log seeded")
		}
		for _, l := range logs {
			identifiers = append(identifiers, l.AppVersion, l.DeviceModel)
			if l.Stack != nil {
				identifiers = append(identifiers, *l.Stack, *l.CrashType)
			}
		}
		identifiers = append(identifiers, "203.0.113.45", "二手自行车")
		for _, id := range identifiers {
			if strings.Contains(out.String(), id) {
				t.Errorf("the export holds %q", id)
			}
		}
		var row analytics.Row
		if err := json.Unmarshal([]byte(strings.SplitN(out.String(), "\n", 2)[0]), &row); err != nil {
			t.Fatal(err)
		}
		if row.Network != "203.0.113.0/24" || len(row.Subject) != 32 || len(row.Devices) != 4 {
			t.Errorf("row = %+v: want a /24 network, a 128-bit pseudonym and 4 hashed device ids (IMEI, IDFA, OAID, MAC; never the IMSI)", row)
		}
		var again bytes.Buffer
		analytics.Export(ctx, env.Store.Client, key, &again, 1000)
		if again.String() != out.String() {
			t.Error("pseudonyms are not stable under one key")
		}
		var other bytes.Buffer
		analytics.Export(ctx, env.Store.Client, bytes.Repeat([]byte{8}, 32), &other, 1000)
		if strings.Contains(other.String(), row.Subject) {
			t.Error("another key gives the same pseudonym")
		}
	})
}

// TestExportCarriesNoFreeText plants a canary in every free-text field of
// an activity event, then exports it: no canary may leave. Pages leave as
// route templates, browsers and carriers as allow-listed families, the
// rest only when they match a closed vocabulary.
func TestExportCarriesNoFreeText(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		ctx := classification.AsSystem(context.Background())
		c := env.Store.Client
		u, err := seed.EnsureUser(ctx, c, seed.Person{Phone: "13712340000", Nickname: "x"}, env.Clock)
		if err != nil {
			t.Fatal(err)
		}
		const canary = "伟13800138000"
		planted := map[string]string{
			"page":    "/user/1/orders/" + canary + "?phone=13800138000#" + canary,
			"browser": "Mozilla/5.0 (Linux; Android 14; " + canary + ") AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36",
			"carrier": "中国移动 " + canary,
		}
		create := c.ActivityLog.Create().SetUserID(u.ID).SetKind(activitylog.KindPAGE_VIEW).SetOccurredAt(env.Clock)
		for _, name := range ent.Fields["ActivityLog"] {
			if name == "ip" || name == "kind" || name == "occurred_at" || name == "stay_seconds" || name == "user_id" || name == "id" {
				continue
			}
			v, ok := planted[name]
			if !ok {
				v = canary
			}
			if err := create.Mutation().SetField(name, v); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		create.ExecX(ctx)
		var out bytes.Buffer
		if _, err := analytics.Export(context.Background(), c, bytes.Repeat([]byte{7}, 32), &out, 10); err != nil {
			t.Fatal(err)
		}
		for _, leak := range []string{canary, "伟", "13800138000", "phone", "Android 14"} {
			if strings.Contains(out.String(), leak) {
				t.Errorf("the export holds %q: %s", leak, out.String())
			}
		}
		var row analytics.Row
		if err := json.Unmarshal(out.Bytes(), &row); err != nil {
			t.Fatal(err)
		}
		if row.Page != "/user/:id/orders/:id" || row.Browser != "Chrome" || row.Carrier != "China Mobile" || row.Language != "" || row.Connection != "" {
			t.Errorf("row = %+v", row)
		}
	})
}
