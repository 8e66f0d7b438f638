package rights

import (
	"bufio"
	_ "embed"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// holidays is the calendar Veil ships with (see its header).
//
//go:embed holidays.txt
var holidays string

// Calendar is mainland China's calendar of working days: public holidays
// and the make-up working days of the years it covers.
type Calendar struct {
	// work holds, per day listed, whether it is a working day.
	work  map[string]bool
	years []int
}

// ParseCalendar reads a calendar in the format of holidays.txt; name is
// what errors call it.
func ParseCalendar(name, text string) (*Calendar, error) {
	c := &Calendar{work: map[string]bool{}}
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		bad := func(why string) error { return fmt.Errorf("%s:%d: %s: %q", name, n, why, line) }
		if fields[0] == "year" {
			if len(fields) != 2 {
				return nil, bad("want 'year YYYY'")
			}
			y, err := strconv.Atoi(fields[1])
			if err != nil || y < 2000 || y > 2200 {
				return nil, bad("want 'year YYYY'")
			}
			if slices.Contains(c.years, y) {
				return nil, bad("the year is declared twice")
			}
			c.years = append(c.years, y)
			continue
		}
		if len(fields) < 2 || (fields[1] != "off" && fields[1] != "work") {
			return nil, bad("want 'YYYY-MM-DD off|work NAME'")
		}
		day, err := time.Parse(time.DateOnly, fields[0])
		if err != nil {
			return nil, bad("not a date")
		}
		if !slices.Contains(c.years, day.Year()) {
			return nil, bad(fmt.Sprintf("the day comes before its 'year %d' line", day.Year()))
		}
		if _, dup := c.work[fields[0]]; dup {
			return nil, bad("the day is listed twice")
		}
		c.work[fields[0]] = fields[1] == "work"
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(c.years) == 0 {
		return nil, fmt.Errorf("%s: no 'year YYYY' line: the calendar covers no year", name)
	}
	return c, nil
}

// LoadCalendar reads a calendar file.
func LoadCalendar(path string) (*Calendar, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseCalendar(path, string(b))
}

// Covers reports whether the calendar declares year.
func (c *Calendar) Covers(year int) bool { return slices.Contains(c.years, year) }

// Missing returns the years of now (Beijing time) and the next that the
// calendar does not cover: due dates in them count Monday to Friday only.
func (c *Calendar) Missing(now time.Time) []int {
	var out []int
	y := now.In(beijing).Year()
	for _, year := range []int{y, y + 1} {
		if !c.Covers(year) {
			out = append(out, year)
		}
	}
	return out
}

// IsWorkingDay reports whether day is a working day in mainland China:
// Monday to Friday unless a public holiday, plus the weekend days the
// State Council declares working days in exchange (调休).
func (c *Calendar) IsWorkingDay(day time.Time) bool {
	d := day.In(beijing)
	if work, ok := c.work[d.Format(time.DateOnly)]; ok {
		return work
	}
	wd := d.Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// Shipped is the calendar Veil ships with.
func Shipped() *Calendar {
	c, err := ParseCalendar("holidays.txt", holidays)
	if err != nil {
		panic(err)
	}
	return c
}

var active atomic.Pointer[Calendar]

func init() { active.Store(Shipped()) }

// UseCalendar makes c the calendar due dates are counted on.
func UseCalendar(c *Calendar) { active.Store(c) }

// ActiveCalendar is the calendar due dates are counted on.
func ActiveCalendar() *Calendar { return active.Load() }
