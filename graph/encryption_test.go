package graph_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"veil/classification"
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
		rotated := useSecondKey(t)

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

// TestSwappedCiphertextsAreRefused swaps, for every encrypted column, the
// stored values of two rows, and the values of two encrypted columns of
// one row, with plain SQL as a database writer could; each swapped row is
// then refused when read (through Ent for every column, through the API for
// the ID number of the attack), and reads again once swapped back.
func TestSwappedCiphertextsAreRefused(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		ctx := classification.AsSystem(context.Background())
		w, err := seed.Demo(ctx, env.Store.Client, env.Accounts, env.Clock)
		if err != nil {
			t.Fatal(err)
		}
		// A second row of everything the demo collects from the adult only.
		if err := seed.EnsureCollected(ctx, env.Store.Client, w.Users["guardian"], env.Clock); err != nil {
			t.Fatal(err)
		}
		read := func(id int) error {
			_, err := env.Store.Client.Noder(ctx, id)
			return err
		}
		swap := func(table, colA string, a int, colB string, b int) { swapValues(t, env, table, colA, a, colB, b) }
		for _, table := range slices.Sorted(maps.Keys(ent.EncryptedColumns)) {
			columns := slices.Sorted(maps.Keys(ent.EncryptedColumns[table]))
			for _, col := range columns {
				rows, err := env.Store.DB.Query(fmt.Sprintf("SELECT id FROM %s WHERE %s IS NOT NULL AND %s <> '' ORDER BY id LIMIT 2", table, col, col))
				if err != nil {
					t.Fatal(err)
				}
				var ids []int
				for rows.Next() {
					var id int
					rows.Scan(&id)
					ids = append(ids, id)
				}
				rows.Close()
				if len(ids) < 2 {
					t.Errorf("%s.%s: the demo has %d rows with a value; the test needs 2", table, col, len(ids))
					continue
				}
				for _, id := range ids {
					if err := read(id); err != nil {
						t.Fatalf("%s %d before the swap: %v", table, id, err)
					}
				}
				swap(table, col, ids[0], col, ids[1])
				for _, id := range ids {
					if err := read(id); !errors.Is(err, crypt.ErrTampered) {
						t.Errorf("%s.%s of row %d swapped with another row's: read gives %v, want it refused", table, col, id, err)
					}
				}
				swap(table, col, ids[0], col, ids[1])
				if err := read(ids[0]); err != nil {
					t.Errorf("%s %d swapped back: %v", table, ids[0], err)
				}
			}
			if len(columns) < 2 {
				continue
			}
			// Two columns of one row.
			var id int
			if err := env.Store.DB.QueryRow(fmt.Sprintf("SELECT id FROM %s WHERE %s IS NOT NULL AND %s IS NOT NULL ORDER BY id LIMIT 1", table, columns[0], columns[1])).Scan(&id); err != nil {
				t.Fatalf("%s: a row with %s and %s: %v", table, columns[0], columns[1], err)
			}
			swap(table, columns[0], id, columns[1], id)
			if err := read(id); !errors.Is(err, crypt.ErrTampered) {
				t.Errorf("%s %d with %s and %s swapped: read gives %v, want it refused", table, id, columns[0], columns[1], err)
			}
			swap(table, columns[0], id, columns[1], id)
		}

		// The attack of the issue, through the API: the adult's ID number
		// swapped with the grandparent's.
		adult, other := w.Users["adult"], w.Users["guardian"]
		if other == nil || other.IDNumber == "" {
			t.Fatalf("the demo has no second user with an ID number: %v", slices.Collect(maps.Keys(w.Users)))
		}
		me := veiltest.Request{Token: w.Tokens["adult"], Query: `{ me { nickname idNumber } }`}
		before := env.MustDo(me).Raw
		swap("users", "id_number", adult.ID, "id_number", other.ID)
		r := env.Do(me)
		if strings.Contains(r.Raw, other.IDNumber[len(other.IDNumber)-4:]) || r.Code() != "INTERNAL" {
			t.Errorf("the adult's read after the swap: %s", r.Raw)
		}
		swap("users", "id_number", adult.ID, "id_number", other.ID)
		if r := env.MustDo(me); r.Raw != before {
			t.Errorf("swapped back: %s, before the swap %s", r.Raw, before)
		}
	})
}

// TestValuesNotSealedToTheirRowAreRefusedUntilRotated writes a legacy
// plaintext into an encrypted column, as a database writer could, or as
// a database from before rows were bound holds: reads refuse it, and key
// rotation seals it to its row.
func TestValuesNotSealedToTheirRowAreRefusedUntilRotated(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		ctx := context.Background()
		w, err := seed.Demo(ctx, env.Store.Client, env.Accounts, env.Clock)
		if err != nil {
			t.Fatal(err)
		}
		adult := w.Users["adult"]
		if _, err := env.Store.DB.Exec(fmt.Sprintf("UPDATE users SET real_name = '王五' WHERE id = %d", adult.ID)); err != nil {
			t.Fatal(err)
		}
		me := veiltest.Request{Token: w.Tokens["adult"], Query: `{ me { realName } }`}
		if r := env.Do(me); strings.Contains(r.Raw, "王五") || r.Code() != "INTERNAL" {
			t.Errorf("a planted plaintext was served: %s", r.Raw)
		}
		// A routine rotation leaves it, and says so.
		var left []string
		opts := store.RotateOptions{Left: func(column string, row int, err error) { left = append(left, column) }}
		n, err := env.Store.RotateKeys(ctx, crypt.Active(), opts)
		var le *store.LeftError
		if !errors.As(err, &le) || le.N != 1 || n != 0 || !slices.Equal(left, []string{"users.real_name"}) {
			t.Fatalf("a routine rotation: %d sealed, %v, left %v", n, err, left)
		}
		if r := env.Do(me); r.Code() != "INTERNAL" {
			t.Errorf("after a routine rotation: %s", r.Raw)
		}
		// Sealing unbound values is the operator's decision, after an
		// upgrade.
		opts.SealUnbound = true
		n, err = env.Store.RotateKeys(ctx, crypt.Active(), opts)
		if err != nil || n != 1 {
			t.Fatalf("rotation sealed %d values (%v), want the one", n, err)
		}
		if r := env.MustDo(me); veiltest.Dig(r.Data, "me.realName") != "王五" {
			t.Errorf("after rotation: %s", r.Raw)
		}
	})
}

// TestEncryptedWritesAreSealedInTheirTransaction checks the rules of the
// sealing hook: a write of an encrypted field outside a transaction, or
// to many rows at once, is refused and writes nothing; an update of one
// row is sealed to that row and reads back; a create rolled back leaves
// nothing behind.
func TestEncryptedWritesAreSealedInTheirTransaction(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		ctx := classification.AsSystem(context.Background())
		w, err := seed.Demo(ctx, env.Store.Client, env.Accounts, env.Clock)
		if err != nil {
			t.Fatal(err)
		}
		c := env.Store.Client
		adult := w.Users["adult"]
		contacts := func() int {
			n, err := c.Contact.Query().Count(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		before := contacts()
		if err := c.Contact.Create().SetUserID(adult.ID).SetName("赵六").SetPhone("13711112222").SetUploadedAt(env.Clock).Exec(ctx); err == nil {
			t.Error("an encrypted field written outside a transaction")
		}
		if err := c.User.UpdateOneID(adult.ID).SetRealName("赵六").Exec(ctx); err == nil {
			t.Error("an encrypted field updated outside a transaction")
		}
		err = store.WithTx(ctx, c, func(tx *ent.Tx) error {
			return tx.Contact.Update().SetName("赵六").Exec(ctx)
		})
		if err == nil {
			t.Error("an encrypted field set on many rows at once")
		}
		err = store.WithTx(ctx, c, func(tx *ent.Tx) error {
			if err := tx.Contact.Create().SetUserID(adult.ID).SetName("赵六").SetPhone("13711112222").SetUploadedAt(env.Clock).Exec(ctx); err != nil {
				return err
			}
			return errors.New("roll back")
		})
		if err == nil || contacts() != before {
			t.Errorf("a rolled-back create: %v, %d contacts, %d before", err, contacts(), before)
		}

		// An update of one row checks its encrypted fields as a create
		// does, though they leave the mutation before Ent's own check.
		loc, err := c.Location.Query().First(ctx)
		if err != nil {
			t.Fatal(err)
		}
		err = store.WithTx(ctx, c, func(tx *ent.Tx) error { return tx.Location.UpdateOneID(loc.ID).SetLatitude(500).Exec(ctx) })
		if !ent.IsValidationError(err) {
			t.Errorf("a latitude of 500 in an update: %v", err)
		}
		if got, err := c.Location.Get(ctx, loc.ID); err != nil || got.Latitude != loc.Latitude {
			t.Errorf("after the refused update: %v, %v", got, err)
		}

		var updated *ent.User
		err = store.WithTx(ctx, c, func(tx *ent.Tx) (err error) {
			updated, err = tx.User.UpdateOneID(adult.ID).SetRealName("赵六").SetNickname("小赵").Save(ctx)
			return err
		})
		if err != nil || updated.RealName != "赵六" || updated.Nickname != "小赵" || updated.IDNumber != adult.IDNumber {
			t.Fatalf("update of one row: %v, %+v", err, updated)
		}
		got, err := c.User.Get(ctx, adult.ID)
		if err != nil || got.RealName != "赵六" || got.IDNumber != adult.IDNumber {
			t.Errorf("read back: %v, %q %q", err, got.RealName, got.IDNumber)
		}
		var stored string
		if err := env.Store.DB.QueryRow(fmt.Sprintf("SELECT real_name FROM users WHERE id = %d", adult.ID)).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if plain, err := veiltest.Keyring.Open("users.real_name", int64(adult.ID), stored); err != nil || plain != "赵六" {
			t.Errorf("stored: %q, %v", plain, err)
		}
	})
}

// TestRotationGoesOnPastValuesThatDoNotOpen swaps two rows' values, then
// rotates to a new key: the two are left as they are and reported, every
// other value is rotated, and each row is visited once.
func TestRotationGoesOnPastValuesThatDoNotOpen(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		ctx := context.Background()
		w, err := seed.Demo(ctx, env.Store.Client, env.Accounts, env.Clock)
		if err != nil {
			t.Fatal(err)
		}
		a, b := w.Users["adult"].ID, w.Users["guardian"].ID
		swapValues(t, env, "users", "id_number", a, "id_number", b)
		rotated := useSecondKey(t)
		before := keyIDs(t, env)
		var left []int
		n, err := env.Store.RotateKeys(ctx, rotated, store.RotateOptions{Batch: 1, Left: func(column string, row int, err error) {
			if column != "users.id_number" || !errors.Is(err, crypt.ErrTampered) {
				t.Errorf("left %s of row %d: %v", column, row, err)
			}
			left = append(left, row)
		}})
		var le *store.LeftError
		if !errors.As(err, &le) || le.N != 2 || len(left) != 2 {
			t.Fatalf("rotation: %d sealed, %v, left rows %v", n, err, left)
		}
		if after := keyIDs(t, env); after["test1"] != 2 || after["test2"] != before["test1"]-2 || n != before["test1"]-2 {
			t.Errorf("values per key before %v, after %v; %d sealed", before, after, n)
		}
	})
}

// swapValues swaps, with plain SQL as a database writer could, the value of
// colA in row a with that of colB in row b of table.
func swapValues(t *testing.T, env *veiltest.Env, table, colA string, a int, colB string, b int) {
	t.Helper()
	var va, vb string
	for _, v := range []struct {
		col string
		id  int
		to  *string
	}{{colA, a, &va}, {colB, b, &vb}} {
		if err := env.Store.DB.QueryRow(fmt.Sprintf("SELECT %s FROM %s WHERE id = %d", v.col, table, v.id)).Scan(v.to); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range []struct {
		col, value string
		id         int
	}{{colA, vb, a}, {colB, va, b}} {
		if _, err := env.Store.DB.Exec(fmt.Sprintf("UPDATE %s SET %s = '%s' WHERE id = %d", table, v.col, v.value, v.id)); err != nil {
			t.Fatal(err)
		}
	}
}

// useSecondKey makes a keyring current that holds the test key and a
// second one, current, until the test ends.
func useSecondKey(t *testing.T) *crypt.Keyring {
	t.Helper()
	rotated := &crypt.Keyring{Current: "test2", Index: veiltest.Keyring.Index, Keys: map[string][]byte{
		"test1": veiltest.Keyring.Keys["test1"],
		"test2": []byte("second test data key, 32 bytes.."),
	}}
	if err := crypt.Use(rotated); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { crypt.Use(veiltest.Keyring) })
	return rotated
}
