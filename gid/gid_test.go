package gid

import (
	"errors"
	"testing"

	"veil/crypt"
)

func useTestKeys(t *testing.T) {
	t.Helper()
	k := &crypt.Keyring{Current: "k", Keys: map[string][]byte{"k": []byte("gid test data key, 32 bytes long")},
		Index: []byte("gid test index key, 32 bytes lon")}
	if err := crypt.Use(k); err != nil {
		t.Fatal(err)
	}
}

// TestIDsAreOpaqueAndAuthenticated: IDs round-trip, are stable, hide the
// type range and the order of rows, and a changed or made-up ID does not
// open.
func TestIDsAreOpaqueAndAuthenticated(t *testing.T) {
	useTestKeys(t)
	const typeRange = 1<<32 - 1
	seen := map[string]bool{}
	for _, id := range []int{1, 2, 3, typeRange + 1, typeRange + 2, 5 * typeRange} {
		s, err := Encode(id)
		if err != nil {
			t.Fatal(err)
		}
		if again, _ := Encode(id); again != s {
			t.Errorf("ID %d encodes as %s and then %s: IDs must be stable", id, s, again)
		}
		if got, err := Decode(s); err != nil || got != id {
			t.Errorf("Decode(Encode(%d)) = %d, %v", id, got, err)
		}
		if len(s) != 22 || seen[s] {
			t.Errorf("ID %d: %q", id, s)
		}
		seen[s] = true
		// Every single-character change is refused.
		for i := range s {
			b := []byte(s)
			b[i] = map[bool]byte{true: 'A', false: 'B'}[b[i] != 'A']
			if _, err := Decode(string(b)); !errors.Is(err, ErrInvalid) {
				t.Errorf("ID %d changed at %d: %v, want ErrInvalid", id, i, err)
			}
		}
	}
	a, _ := Encode(typeRange + 1)
	b, _ := Encode(typeRange + 2)
	if a[:4] == b[:4] {
		t.Errorf("neighbouring rows share a prefix: %s %s", a, b)
	}
	for _, bad := range []string{"", "1", "4294967297", "not-an-id", "AAAAAAAAAAAAAAAAAAAAAA", "!!!!!!!!!!!!!!!!!!!!!!"} {
		if _, err := Decode(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("Decode(%q) = %v, want ErrInvalid", bad, err)
		}
	}
	if _, err := UnmarshalID(12); !errors.Is(err, ErrInvalid) {
		t.Errorf("a number as ID: %v, want ErrInvalid", err)
	}
}
