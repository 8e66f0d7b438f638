package classification

import (
	"strings"
	"unicode/utf8"
)

// Masker turns a raw string into what a viewer without raw access may see.
// The boolean is false when nothing of the value may be shown (the field
// then reads as null). Maskers never panic, whatever the input.
type Masker func(raw string) (string, bool)

// The maskers of DESIGN.md. Each keeps at most what the format names and
// replaces every other character with '*'.
var (
	// MaskNone shows nothing: free text, search queries, messages.
	MaskNone Masker = func(string) (string, bool) { return "", false }
	// MaskPhone keeps the first 3 and last 4 digits: 138****1234.
	MaskPhone Masker = func(s string) (string, bool) { return keepEnds(s, 3, 4, 8), true }
	// MaskName keeps the first character: 张*, 欧阳**.
	MaskName Masker = func(s string) (string, bool) { return keepEnds(s, 1, 0, 2), true }
	// MaskIDNumber keeps the first and last character: 1****************X.
	MaskIDNumber Masker = func(s string) (string, bool) { return keepEnds(s, 1, 1, 3), true }
	// MaskAccount keeps the first 6 and last 4 characters of a bank or payment account.
	MaskAccount Masker = func(s string) (string, bool) { return keepEnds(s, 6, 4, 11), true }
	// MaskDeviceID keeps the last 4 characters.
	MaskDeviceID Masker = func(s string) (string, bool) { return keepEnds(s, 0, 4, 5), true }
	// MaskIP keeps the network part: 203.0.113.* for IPv4, the first three
	// groups for IPv6.
	MaskIP Masker = maskIP
	// MaskAddress keeps the address up to its district (区/县/旗/市辖区), or the
	// first two comma-separated parts when no district marker is found.
	MaskAddress Masker = maskAddress
	// MaskBirthDate keeps the year of a YYYY-MM-DD (or RFC 3339) date.
	MaskBirthDate Masker = maskBirthDate
)

// keepEnds keeps the first head and last tail runes and stars the rest. A
// value shorter than min runes is starred whole, so that a short value is
// not shown almost entirely. Invalid UTF-8 counts one rune per bad byte.
func keepEnds(s string, head, tail, min int) string {
	runes := []rune(strings.ToValidUTF8(s, "\uFFFD"))
	n := len(runes)
	if n == 0 {
		return ""
	}
	if n < min || head+tail >= n {
		return strings.Repeat("*", n)
	}
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range runes {
		if i < head || i >= n-tail {
			b.WriteRune(r)
		} else {
			b.WriteByte('*')
		}
	}
	return b.String()
}

func maskIP(s string) (string, bool) {
	if !utf8.ValidString(s) {
		return "", false
	}
	if strings.Count(s, ".") == 3 && !strings.Contains(s, ":") {
		return s[:strings.LastIndexByte(s, '.')] + ".*", true
	}
	if strings.Contains(s, ":") {
		parts := strings.SplitN(s, ":", 4)
		if len(parts) == 4 {
			return strings.Join(parts[:3], ":") + ":*", true
		}
	}
	return "", false
}

// districtMarkers end the part of a Chinese address that may be shown.
var districtMarkers = []string{"区", "县", "旗"}

func maskAddress(s string) (string, bool) {
	s = strings.ToValidUTF8(s, "")
	if s == "" {
		return "", false
	}
	for _, m := range districtMarkers {
		if i := strings.Index(s, m); i > 0 {
			return s[:i+len(m)] + "***", true
		}
	}
	if parts := strings.Split(s, ","); len(parts) > 2 {
		return strings.Join(parts[:2], ",") + ",***", true
	}
	return "", false
}

func maskBirthDate(s string) (string, bool) {
	if len(s) < 4 {
		return "", false
	}
	for _, c := range s[:4] {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	return s[:4], true
}
