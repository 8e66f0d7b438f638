package classification

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMaskers(t *testing.T) {
	tests := []struct {
		name   string
		mask   Masker
		in     string
		want   string
		wantOK bool
	}{
		{"phone", MaskPhone, "13812341234", "138****1234", true},
		{"phone with country code", MaskPhone, "+8613812341234", "+86*******1234", true},
		{"short phone is starred whole", MaskPhone, "1234567", "*******", true},
		{"two-character name", MaskName, "张三", "张*", true},
		{"three-character name", MaskName, "欧阳娜", "欧**", true},
		{"compound surname", MaskName, "欧阳娜娜", "欧***", true},
		{"one-character name is starred", MaskName, "张", "*", true},
		{"ID number", MaskIDNumber, "11010519491231002X", "1****************X", true},
		{"bank account", MaskAccount, "6222021234567890123", "622202*********0123", true},
		{"device id", MaskDeviceID, "867530901234567", "***********4567", true},
		{"IPv4", MaskIP, "203.0.113.45", "203.0.113.*", true},
		{"IPv6", MaskIP, "2001:db8:85a3:8d3:1319:8a2e:370:7348", "2001:db8:85a3:*", true},
		{"not an IP", MaskIP, "localhost", "", false},
		{"address to district", MaskAddress, "北京市朝阳区建国路88号", "北京市朝阳区***", true},
		{"address without district", MaskAddress, "某地某路", "", false},
		{"birth date", MaskBirthDate, "1990-05-12", "1990", true},
		{"bad birth date", MaskBirthDate, "May 1990", "", false},
		{"free text shows nothing", MaskNone, "my search", "", false},
		{"empty phone", MaskPhone, "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.mask(tt.in)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("mask(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

var allMaskers = map[string]Masker{
	"phone": MaskPhone, "name": MaskName, "id": MaskIDNumber, "account": MaskAccount,
	"device": MaskDeviceID, "ip": MaskIP, "address": MaskAddress, "birth": MaskBirthDate, "none": MaskNone,
}

// keeps is how many characters of the input the keep-the-ends maskers may
// reveal at most.
var keeps = map[string]int{"phone": 7, "name": 1, "id": 2, "account": 10, "device": 4, "none": 0}

// FuzzMaskers checks that no masker panics, that every output is valid
// UTF-8, and that the keep-the-ends maskers never reveal more characters
// (same character, same place) than their format keeps.
func FuzzMaskers(f *testing.F) {
	for _, s := range []string{"", "1", "张", "13812341234", "\xff\xfe", "欧阳**", "203.0.113.4", "a:b:c:d", "北京市朝阳区", "1990-01-01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		for name, m := range allMaskers {
			out, ok := m(in)
			if !utf8.ValidString(out) {
				t.Fatalf("%s(%q) = %q: invalid UTF-8", name, in, out)
			}
			if !ok && out != "" {
				t.Fatalf("%s(%q) withheld but returned %q", name, in, out)
			}
			if keep, bounded := keeps[name]; bounded {
				inRunes, outRunes := []rune(strings.ToValidUTF8(in, "\uFFFD")), []rune(out)
				revealed := 0
				for i := 0; i < len(inRunes) && i < len(outRunes); i++ {
					if inRunes[i] == outRunes[i] && inRunes[i] != '*' {
						revealed++
					}
				}
				if revealed > keep {
					t.Fatalf("%s(%q) = %q reveals %d characters, more than %d", name, in, out, revealed, keep)
				}
			}
		}
	})
}
