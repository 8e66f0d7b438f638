package rights

import (
	"testing"
	"time"
)

func TestDueDate(t *testing.T) {
	at := func(s string) time.Time {
		d, err := time.ParseInLocation("2006-01-02 15:04", s, beijing)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	tests := []struct {
		name, from, want string
	}{
		// Monday 2 Nov 2026: three full weeks of working days.
		{"ordinary weeks", "2026-11-02 10:00", "2026-11-23"},
		// 25 Sep 2026 (Friday): 1-7 Oct are the National Day holiday, and
		// Saturday 10 Oct is a make-up working day.
		{"across National Day", "2026-09-25 09:00", "2026-10-22"},
		{"a request on a Sunday", "2026-11-29 20:00", "2026-12-18"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DueDate(at(tt.from), ResponseWorkingDays).Format("2006-01-02")
			if got != tt.want {
				t.Errorf("DueDate(%s) = %s, want %s", tt.from, got, tt.want)
			}
		})
	}
	if IsWorkingDay(at("2026-10-01 12:00")) || !IsWorkingDay(at("2026-10-10 12:00")) {
		t.Error("National Day 2026 and its make-up Saturday are misread")
	}
}
