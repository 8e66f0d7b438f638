package idcard

import (
	"errors"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	now := time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC)
	// Vectors computed from the algorithm: weights 7 9 10 5 8 4 2 1 6 3 7 9
	// 10 5 8 4 2, sum mod 11 indexes "10X98765432".
	// 11010519491231002: sum = 167, 167 mod 11 = 2 -> 'X'.
	const valid = "11010519491231002X"
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr error
	}{
		{"valid with X", valid, valid, nil},
		{"lowercase x is normalised", "11010519491231002x", valid, nil},
		{"valid with a digit", Make("440305", time.Date(2001, 2, 28, 0, 0, 0, 0, time.UTC), 17), Make("440305", time.Date(2001, 2, 28, 0, 0, 0, 0, time.UTC), 17), nil},
		{"wrong check digit", "110105194912310021", "", ErrCheck},
		{"impossible date", "110105194902300021", "", ErrBirthDate},
		{"29 February of a common year", "110105201902290021", "", ErrBirthDate},
		{"future date", "110105203001010021", "", ErrFuture},
		{"too short", "1101051949123100", "", ErrLength},
		{"15-digit legacy number", "110105491231002", "", ErrLength},
		{"letters in the body", "1101051949123A002X", "", ErrCharacter},
		{"X not at the end", "X10105194912310021", "", ErrCharacter},
		{"unknown province", "990105194912310021", "", ErrRegion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in, now)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Parse(%q) error = %v, want %v", tt.in, err, tt.wantErr)
			}
			if got.Value != tt.want {
				t.Errorf("Parse(%q) = %q, want %q", tt.in, got.Value, tt.want)
			}
		})
	}
}

func TestCheckCharMatchesHandComputedSum(t *testing.T) {
	if c := CheckChar("11010519491231002"); c != 'X' {
		t.Errorf("CheckChar = %c, want X", c)
	}
}
