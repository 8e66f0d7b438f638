package store

import (
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		url, driver, dialect string
		wantErr              bool
	}{
		{"", "sqlite", "sqlite3", false},
		{"sqlite:veil.db", "sqlite", "sqlite3", false},
		{"file:/tmp/x.db?cache=shared", "sqlite", "sqlite3", false},
		{"postgres://u@h/db", "postgres", "postgres", false},
		{"postgresql://u@h/db", "postgres", "postgres", false},
		{"sqlite:", "", "", true},
		{"mysql://u@h/db", "", "", true},
	}
	for _, tt := range tests {
		driver, dsn, dia, err := ParseURL(tt.url)
		if (err != nil) != tt.wantErr || driver != tt.driver || dia != tt.dialect {
			t.Errorf("ParseURL(%q) = %q, %q, %v", tt.url, driver, dia, err)
		}
		if tt.driver == "sqlite" && !strings.Contains(dsn, "foreign_keys(1)") {
			t.Errorf("ParseURL(%q): foreign keys are not on: %s", tt.url, dsn)
		}
	}
}
