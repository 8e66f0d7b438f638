package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
	"time"
)

// hashAsSpecified is Hash written the plain way, as the layout is
// documented: chains written by any version must keep verifying.
func hashAsSpecified(seq int64, at time.Time, e Entry, prev string) string {
	fields := []string{
		strconv.FormatInt(seq, 10), at.UTC().Format(time.RFC3339Nano),
		strconv.Itoa(e.ActorID), e.ActorRole, strconv.Itoa(e.SubjectID),
		e.Action, e.Class, e.Purpose, e.Detail, prev,
	}
	for i, f := range fields {
		fields[i] = strconv.Itoa(len(f)) + ":" + f
	}
	sum := sha256.Sum256([]byte(strings.Join(fields, ",")))
	return hex.EncodeToString(sum[:])
}

func TestHashFollowsTheDocumentedLayout(t *testing.T) {
	at := time.Date(2026, 11, 29, 8, 0, 0, 123456000, time.FixedZone("CST", 8*3600))
	for _, e := range []Entry{
		{},
		{ActorID: 7, ActorRole: "support", SubjectID: 42, Action: ReadRaw, Class: "contact", Purpose: "after_sales"},
		{Action: Purge, Detail: strings.Repeat("activity_logs: 12, ", 50)},
		{Action: ConsentGranted, Detail: "用户,:含逗号"},
	} {
		for _, prev := range []string{"", strings.Repeat("ab", 32)} {
			if got, want := Hash(1234567, at, e, prev), hashAsSpecified(1234567, at, e, prev); got != want {
				t.Errorf("Hash(%+v) = %s, want %s", e, got, want)
			}
		}
	}
}
