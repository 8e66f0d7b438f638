package rights

import (
	"strings"
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

// TestTheCalendarIsADataFile reads calendars the operator writes: the
// shipped one agrees with the State Council's notices it was made from,
// a year it does not declare counts Monday to Friday and is reported
// missing, and a malformed file is refused with its line.
func TestTheCalendarIsADataFile(t *testing.T) {
	shipped := Shipped()
	for _, y := range []int{2024, 2025, 2026, 2027} {
		if !shipped.Covers(y) {
			t.Errorf("the shipped calendar lacks %d", y)
		}
	}
	at := func(s string) time.Time {
		d, _ := time.ParseInLocation(time.DateOnly, s, beijing)
		return d
	}
	if got := shipped.Missing(at("2027-06-01")); len(got) != 1 || got[0] != 2028 {
		t.Errorf("missing in mid-2027: %v, want [2028]", got)
	}
	next, err := ParseCalendar("test", "year 2028\n2028-10-02 off 国庆节\n2028-10-07 work 国庆节调休\n")
	if err != nil {
		t.Fatal(err)
	}
	if next.IsWorkingDay(at("2028-10-02")) || !next.IsWorkingDay(at("2028-10-07")) || !next.IsWorkingDay(at("2028-10-09")) || next.IsWorkingDay(at("2028-10-08")) {
		t.Error("an operator's year is misread")
	}
	if len(next.Missing(at("2028-03-01"))) != 1 {
		t.Error("2029 is not reported missing")
	}
	UseCalendar(next)
	defer UseCalendar(shipped)
	if IsWorkingDay(at("2028-10-02")) {
		t.Error("due dates do not count on the calendar in use")
	}
	for text, line := range map[string]string{
		"year 2028\n2028-02-30 off x\n":                ":2:",
		"2028-10-02 off x\n":                           ":1:",
		"year 2028\n2028-10-02 holiday x\n":            ":2:",
		"year 2028\nyear 2028\n":                       ":2:",
		"year 2028\n2028-10-02 off x\n2028-10-02 work": ":3:",
		"# nothing\n":                                  "no 'year",
	} {
		if _, err := ParseCalendar("test", text); err == nil || !strings.Contains(err.Error(), line) {
			t.Errorf("%q: %v, want an error at %s", text, err, line)
		}
	}
}
