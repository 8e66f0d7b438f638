package rights

import (
	"time"

	"veil/classification"
)

// ResponseWorkingDays is how long Veil has to answer a request (POLICY.md P9).
const ResponseWorkingDays = 15

// beijing is the calendar working days are counted in.
var beijing = classification.ChinaTime

// IsWorkingDay reports whether day is a working day on the active
// calendar (see Calendar).
func IsWorkingDay(day time.Time) bool { return ActiveCalendar().IsWorkingDay(day) }

// DueDate returns the end of the n-th working day after from (the day of
// the request does not count), in Beijing time.
func DueDate(from time.Time, n int) time.Time {
	day := from.In(beijing)
	day = time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, beijing)
	for n > 0 {
		day = day.AddDate(0, 0, 1)
		if IsWorkingDay(day) {
			n--
		}
	}
	return day.Add(24*time.Hour - time.Second)
}
