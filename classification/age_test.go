package classification

import (
	"testing"
	"time"
)

func TestAgeGroupOf(t *testing.T) {
	day := func(s string) time.Time {
		d, err := time.ParseInLocation("2006-01-02 15:04", s, ChinaTime)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	tests := []struct {
		name, birth string
		now         time.Time
		want        AgeGroup
	}{
		{"no birth date", "", day("2026-01-01 00:00"), AgeUnknown},
		{"unreadable birth date", "2010-13-01", day("2026-01-01 00:00"), AgeUnknown},
		{"day before the 14th birthday", "2012-06-15", day("2026-06-14 23:59"), AgeChild},
		{"on the 14th birthday", "2012-06-15", day("2026-06-15 00:00"), AgeMinor},
		{"day before the 18th birthday", "2008-06-15", day("2026-06-14 12:00"), AgeMinor},
		{"on the 18th birthday", "2008-06-15", day("2026-06-15 00:01"), AgeAdult},
		{"29 February, common year, 28 February", "2008-02-29", day("2026-02-28 12:00"), AgeMinor},
		{"29 February, common year, 1 March", "2008-02-29", day("2026-03-01 00:00"), AgeAdult},
		{"29 February, leap year", "2010-02-29", day("2024-02-29 00:00"), AgeUnknown}, // 2010 had no 29 February
		{"29 February, leap birthday on a leap year", "2012-02-29", day("2026-02-28 23:00"), AgeChild},
		{"birthday counted in China time, not UTC", "2008-06-15", time.Date(2026, 6, 14, 16, 30, 0, 0, time.UTC), AgeAdult},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := AgeGroupOf(tt.birth, tt.now); got != tt.want {
				t.Errorf("AgeGroupOf(%q, %v) = %s, want %s", tt.birth, tt.now, got, tt.want)
			}
		})
	}
}
