package crypt

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// TestOpenUsesTheKeyItsIDNamesNow seals under a key, replaces the key
// under the same id, and checks the cached cipher is not used: the value
// no longer opens. The original key opens it again.
func TestOpenUsesTheKeyItsIDNamesNow(t *testing.T) {
	first, second := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	k := &Keyring{Current: "k1", Keys: map[string][]byte{"k1": first}, Index: first}
	sealed, err := k.Seal("users.phone", 7, "13800000001")
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		key   []byte
		opens bool
	}{{first, true}, {second, false}, {first, true}} {
		k.Keys["k1"] = step.key
		plain, err := k.Open("users.phone", 7, sealed)
		if opened := err == nil && plain == "13800000001"; opened != step.opens {
			t.Errorf("with key %x…: opened %v (%v), want %v", step.key[:1], opened, err, step.opens)
		}
	}
}

// TestAValueOpensOnlyInItsRowAndColumn moves a sealed value to another
// row, another column, and to no row, and checks each is refused; values
// of the older forms open only through OpenAny.
func TestAValueOpensOnlyInItsRowAndColumn(t *testing.T) {
	key := bytes.Repeat([]byte{1}, 32)
	k := &Keyring{Current: "k1", Keys: map[string][]byte{"k1": key}, Index: key}
	sealed, err := k.Seal("users.id_number", 12, "110105200001011234")
	if err != nil {
		t.Fatal(err)
	}
	if plain, err := k.Open("users.id_number", 12, sealed); err != nil || plain != "110105200001011234" {
		t.Fatalf("its own row: %q, %v", plain, err)
	}
	for _, c := range []struct {
		column string
		row    int64
	}{{"users.id_number", 13}, {"users.id_number", 121}, {"users.id_number", 1}, {"users.real_name", 12}, {"users.id_number", 0}} {
		if _, err := k.Open(c.column, c.row, sealed); err == nil {
			t.Errorf("opened as %s of row %d", c.column, c.row)
		}
	}
	if err := Use(k); err != nil {
		t.Fatal(err)
	}
	pending, err := Column[string]{"users.id_number"}.Value("110105200001011234")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Open("users.id_number", 12, pending.(string)); err == nil {
		t.Error("a value sealed to no row opened in a row")
	}

	legacy, err := k.seal(legacyPrefix, []byte("users.id_number"), "110105200001011234")
	if err != nil {
		t.Fatal(err)
	}
	for _, old := range []string{legacy, "110105200001011234"} {
		if _, err := k.Open("users.id_number", 12, old); !errors.Is(err, ErrUnbound) {
			t.Errorf("Open(%.12s…) = %v, want ErrUnbound", old, err)
		}
		if plain, err := k.OpenAny("users.id_number", 12, old); err != nil || plain != "110105200001011234" {
			t.Errorf("OpenAny(%.12s…) = %q, %v", old, plain, err)
		}
	}
	if _, err := k.OpenAny("users.real_name", 12, legacy); err == nil {
		t.Error("a legacy value opened for another column")
	}
}

// TestAKeyAddedElsewhereIsReloaded seals a value under a key that another
// process added to the key file and made current, and opens it with the
// keyring loaded before: the file is reloaded, and its current key seals
// from then on. A file whose index key changed is not taken.
func TestAKeyAddedElsewhereIsReloaded(t *testing.T) {
	old, err := Generate(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "keys.json")
	if err := old.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	loaded, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := Use(loaded); err != nil {
		t.Fatal(err)
	}
	ReloadFrom(path)
	t.Cleanup(func() { reloader.load = nil })

	rotated, _ := LoadFile(path)
	id, err := rotated.AddKey(time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := rotated.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	sealed, err := rotated.Seal("users.real_name", 5, "张伟")
	if err != nil {
		t.Fatal(err)
	}
	if plain, err := Active().Open("users.real_name", 5, sealed); err != nil || plain != "张伟" {
		t.Fatalf("a value under the added key: %q, %v", plain, err)
	}
	if Active().Current != id {
		t.Errorf("current key after the reload: %s, want %s", Active().Current, id)
	}

	// An index key that changed is refused: blind indexes depend on it.
	other, _ := Generate(time.Now())
	other.Keys, other.Current = rotated.Keys, rotated.Current
	id2, _ := other.AddKey(time.Now().Add(2 * time.Hour))
	other.WriteFile(path)
	sealed, _ = other.Seal("users.real_name", 5, "张伟")
	reloader.last = time.Time{}
	if _, err := Active().Open("users.real_name", 5, sealed); err == nil || Active().Current == id2 {
		t.Error("a keyring with another index key was taken")
	}
}
