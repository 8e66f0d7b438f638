// Package check validates client input and reports the first problem as a
// VALIDATION_FAILED error naming the field, e.g. "input[3].phone". Messages
// describe the rule, never the value.
package check

import (
	"fmt"
	"math"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
	"net/url"
	"slices"
	"strings"
	"veil/fault"
)

// Checker collects the first validation failure.
type Checker struct{ err error }

func (c *Checker) fail(field, msg string) {
	if c.err == nil {
		c.err = fault.Invalid(field, msg)
	}
}

// Err returns the first failure, or nil.
func (c *Checker) Err() error { return c.err }

// Text requires s to be valid UTF-8 text without control characters, of
// min to max characters.
func (c *Checker) Text(field, s string, min, max int) {
	n := utf8.RuneCountInString(s)
	switch {
	case !utf8.ValidString(s):
		c.fail(field, "must be valid UTF-8")
	case n < min && min == 1:
		c.fail(field, "must not be empty")
	case n < min:
		c.fail(field, fmt.Sprintf("must be at least %d characters", min))
	case n > max:
		c.fail(field, fmt.Sprintf("must be at most %d characters", max))
	default:
		for _, r := range s {
			if unicode.IsControl(r) && r != '\n' && r != '\t' {
				c.fail(field, "must not contain control characters")
				return
			}
		}
	}
}

// OptionalText checks s like Text when it is set (empty is allowed).
func (c *Checker) OptionalText(field string, s *string, max int) {
	if s != nil {
		c.Text(field, *s, 0, max)
	}
}

// Float requires min <= v <= max and a finite v.
func (c *Checker) Float(field string, v, min, max float64) {
	if math.IsNaN(v) || v < min || v > max {
		c.fail(field, fmt.Sprintf("must be between %g and %g", min, max))
	}
}

// Int requires min <= v <= max.
func (c *Checker) Int(field string, v, min, max int) {
	if v < min || v > max {
		c.fail(field, fmt.Sprintf("must be between %d and %d", min, max))
	}
}

// Batch requires a batch of 1 to max items.
func (c *Checker) Batch(field string, n, max int) {
	if n < 1 || n > max {
		c.fail(field, fmt.Sprintf("must hold 1 to %d items", max))
	}
}

// Phone requires a mainland mobile number and returns its 11-digit form.
func (c *Checker) Phone(field, s string) string {
	p, ok := NormalizePhone(s)
	if !ok {
		c.fail(field, "must be a mainland China mobile number, e.g. 13812345678")
	}
	return p
}

// Fail records a failure found by the caller.
func (c *Checker) Fail(field, msg string) { c.fail(field, msg) }

// Item names the i-th element of a batch field: "input[3]".
func Item(field string, i int) string { return fmt.Sprintf("%s[%d]", field, i) }

// DisplayName checks a name other people see (a nickname) and returns it
// NFC-normalised: valid text of min to max characters with something
// visible, and no control, format (zero-width, bidirectional-control,
// byte-order mark) or other invisible character that would let one name
// pass for another.
func (c *Checker) DisplayName(field, s string, min, max int) string {
	if !utf8.ValidString(s) {
		c.fail(field, "must be valid UTF-8")
		return s
	}
	s = norm.NFC.String(s)
	c.Text(field, s, min, max)
	visible := false
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Cc, r), unicode.Is(unicode.Cf, r), unicode.Is(unicode.Co, r), unicode.Is(unicode.Cs, r),
			unicode.Is(unicode.Zl, r), unicode.Is(unicode.Zp, r), r == '\u115f', r == '\u1160', r == '\u3164', r == '\uffa0':
			c.fail(field, "must not contain control, zero-width or direction characters")
			return s
		case unicode.IsLetter(r), unicode.IsNumber(r), unicode.IsPunct(r), unicode.IsSymbol(r):
			visible = true
		}
	}
	if !visible && s != "" {
		c.fail(field, "must hold something visible")
	}
	return s
}

// ImageURL checks that s is an https URL on one of hosts, with no
// credentials or port: images other people's clients fetch come only from
// image hosts the service runs, never from a server that could track them.
func (c *Checker) ImageURL(field, s string, hosts []string) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.User != nil || u.Port() != "" || u.Opaque != "" || !slices.Contains(hosts, u.Hostname()) {
		c.fail(field, "must be an https:// URL on an image host of the service: "+strings.Join(hosts, ", "))
	}
}
