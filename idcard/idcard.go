// Package idcard validates PRC citizen identity numbers (GB 11643-1999):
// a 6-digit region code, an 8-digit birth date (YYYYMMDD) that is a real,
// past date, a 3-digit sequence, and an ISO 7064 MOD 11-2 check character,
// 'X' standing for 10.
//
// Choices: a lowercase 'x' is accepted and normalised to 'X'; 15-digit
// legacy numbers are rejected (they carry no check character, and every
// holder has been issued an 18-digit number since 2013).
package idcard

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Errors returned by Parse. Their messages never contain the number.
var (
	ErrLength    = errors.New("must be 18 characters (15-digit legacy numbers are not accepted)")
	ErrCharacter = errors.New("must be 17 digits followed by a digit or X")
	ErrRegion    = errors.New("region code is not a PRC province")
	ErrBirthDate = errors.New("birth date is not a real date")
	ErrFuture    = errors.New("birth date is in the future")
	ErrCheck     = errors.New("check character does not match")
)

var weights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const checkChars = "10X98765432"

// provinces are the first two digits of valid region codes.
var provinces = map[string]bool{
	"11": true, "12": true, "13": true, "14": true, "15": true,
	"21": true, "22": true, "23": true,
	"31": true, "32": true, "33": true, "34": true, "35": true, "36": true, "37": true,
	"41": true, "42": true, "43": true, "44": true, "45": true, "46": true,
	"50": true, "51": true, "52": true, "53": true, "54": true,
	"61": true, "62": true, "63": true, "64": true, "65": true,
	"71": true, "81": true, "82": true, "83": true,
}

// Number is a validated identity number.
type Number struct {
	// Value is the normalised 18-character number.
	Value string
	// BirthDate is the holder's birth date, at midnight UTC.
	BirthDate time.Time
}

// Parse validates s as of day now and returns the normalised number.
func Parse(s string, now time.Time) (Number, error) {
	s = strings.TrimSpace(s)
	if len(s) != 18 {
		return Number{}, ErrLength
	}
	if s[17] == 'x' {
		s = s[:17] + "X"
	}
	for i := 0; i < 17; i++ {
		if s[i] < '0' || s[i] > '9' {
			return Number{}, ErrCharacter
		}
	}
	if c := s[17]; (c < '0' || c > '9') && c != 'X' {
		return Number{}, ErrCharacter
	}
	if !provinces[s[:2]] {
		return Number{}, ErrRegion
	}
	birth, err := time.Parse("20060102", s[6:14])
	if err != nil || birth.Year() < 1900 {
		return Number{}, ErrBirthDate
	}
	if birth.After(now) {
		return Number{}, ErrFuture
	}
	if CheckChar(s[:17]) != s[17] {
		return Number{}, ErrCheck
	}
	return Number{Value: s, BirthDate: birth}, nil
}

// CheckChar returns the check character for the first 17 digits.
func CheckChar(first17 string) byte {
	sum := 0
	for i := 0; i < 17 && i < len(first17); i++ {
		sum += int(first17[i]-'0') * weights[i]
	}
	return checkChars[sum%11]
}

// Make builds a valid number from a region code, a birth date and a
// sequence number (0-999). It is for seed data and tests.
func Make(region string, birth time.Time, seq int) string {
	first17 := fmt.Sprintf("%s%s%03d", region, birth.Format("20060102"), seq%1000)
	return first17 + string(CheckChar(first17))
}
