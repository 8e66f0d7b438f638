package analytics_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"veil/analytics"
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
			identifiers = append(identifiers, *d.Imei, *d.Idfa, *d.Oaid, *d.MAC)
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
			t.Errorf("row = %+v: want a /24 network, a 128-bit pseudonym and 4 hashed device ids", row)
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
