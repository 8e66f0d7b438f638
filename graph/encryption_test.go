package graph_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"veil/crypt"
	"veil/ent"
	"veil/seed"
	"veil/store"
	"veil/veiltest"
)

// TestDatabaseDumpHoldsNoSensitivePlaintext reads every column of every
// table with plain SQL, bypassing Ent, and looks for the seeded ID
// numbers, real names, address-book and call-log phones and locations.
func TestDatabaseDumpHoldsNoSensitivePlaintext(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		w, err := seed.Demo(context.Background(), env.Store.Client, env.Accounts, env.Clock)
		if err != nil {
			t.Fatal(err)
		}
		var needles []string
		for _, u := range w.Users {
			if u.RealName != "" {
				needles = append(needles, u.RealName, u.IDNumber)
			}
		}
		needles = append(needles, "13987654321", "李四", "北京市东城区东长安街1号", "39.9087", "116.3975", "idphoto://")
		for _, leak := range scanTables(t, env, needles) {
			t.Errorf("plaintext in the database: %s", leak)
		}
		// The API still serves them, decrypted, to whoever may see them.
		r := env.MustDo(veiltest.Request{Token: w.Tokens["adult"], Query: `{ me { realName contacts { phone } locations { address latitude } } }`})
		if veiltest.Dig(r.Data, "me.realName") != "张伟" || !strings.Contains(r.Raw, "13987654321") || !strings.Contains(r.Raw, "39.9087") {
			t.Errorf("decrypted values: %s", r.Raw)
		}
	})
}

// TestKeyRotationResumesAfterInterruption rotates to a new key, stops
// after a few batches, checks everything is still readable, then resumes
// and checks every value is under the new key.
func TestKeyRotationResumesAfterInterruption(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		ctx := context.Background()
		w, err := seed.Demo(ctx, env.Store.Client, env.Accounts, env.Clock)
		if err != nil {
			t.Fatal(err)
		}
		rotated := &crypt.Keyring{Current: "test2", Index: veiltest.Keyring.Index, Keys: map[string][]byte{
			"test1": veiltest.Keyring.Keys["test1"],
			"test2": []byte("second test data key, 32 bytes.."),
		}}
		if err := crypt.Use(rotated); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { crypt.Use(veiltest.Keyring) })

		me := veiltest.Request{Token: w.Tokens["adult"], Query: `{ me { realName idNumber contacts { name phone } locations { address } realNameVerifications { idNumber } } }`}
		before := env.MustDo(me).Raw
		n, err := env.Store.RotateKeys(ctx, rotated, store.RotateOptions{Batch: 2, MaxBatches: 3})
		if !errors.Is(err, store.ErrStopped) || n == 0 {
			t.Fatalf("interrupted run: %d values, %v", n, err)
		}
		keys := keyIDs(t, env)
		if keys["test1"] == 0 || keys["test2"] != n {
			t.Fatalf("after the interruption, values per key: %v", keys)
		}
		if got := env.MustDo(me).Raw; got != before {
			t.Errorf("half-rotated data reads differently:\n%s\n%s", got, before)
		}
		if _, err := env.Store.RotateKeys(ctx, rotated, store.RotateOptions{Batch: 2}); err != nil {
			t.Fatal(err)
		}
		if keys := keyIDs(t, env); len(keys) != 1 || keys["test2"] == 0 {
			t.Errorf("after resuming, values per key: %v", keys)
		}
		if got := env.MustDo(me).Raw; got != before {
			t.Errorf("rotated data reads differently:\n%s\n%s", got, before)
		}
		if n, err := env.Store.RotateKeys(ctx, rotated, store.RotateOptions{}); err != nil || n != 0 {
			t.Errorf("a third run re-encrypted %d values (%v)", n, err)
		}
	})
}

// keyIDs counts the encrypted values under each key id.
func keyIDs(t *testing.T, env *veiltest.Env) map[string]int {
	t.Helper()
	out := map[string]int{}
	for table, cols := range ent.EncryptedColumns {
		for col := range cols {
			rows, err := env.Store.DB.Query(fmt.Sprintf("SELECT %s FROM %s WHERE %s IS NOT NULL", col, table, col))
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var v string
				rows.Scan(&v)
				out[crypt.KeyID(v)]++
			}
			rows.Close()
		}
	}
	return out
}
