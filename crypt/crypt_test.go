package crypt

import (
	"bytes"
	"testing"
)

// TestOpenUsesTheKeyItsIDNamesNow seals under a key, replaces the key
// under the same id, and checks the cached cipher is not used: the value
// no longer opens. The original key opens it again.
func TestOpenUsesTheKeyItsIDNamesNow(t *testing.T) {
	first, second := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	k := &Keyring{Current: "k1", Keys: map[string][]byte{"k1": first}, Index: first}
	sealed, err := k.Seal("users.phone", "13800000001")
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		key   []byte
		opens bool
	}{{first, true}, {second, false}, {first, true}} {
		k.Keys["k1"] = step.key
		plain, err := k.Open("users.phone", sealed)
		if opened := err == nil && plain == "13800000001"; opened != step.opens {
			t.Errorf("with key %x…: opened %v (%v), want %v", step.key[:1], opened, err, step.opens)
		}
	}
	if _, err := k.Open("users.real_name", sealed); err == nil {
		t.Error("a value opened for another column")
	}
}
