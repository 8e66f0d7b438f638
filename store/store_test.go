package store

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
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

// TestSQLiteFilesAreTheOwnersOnly: a new database and its WAL files are
// created readable by their owner only, whatever the umask.
func TestSQLiteFilesAreTheOwnersOnly(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "veil.db")
	s, err := Open(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	matches, _ := filepath.Glob(path + "*")
	if len(matches) < 2 {
		t.Fatalf("want the database and its WAL files, found %v", matches)
	}
	for _, m := range matches {
		info, err := os.Stat(m)
		if err != nil {
			t.Fatal(err)
		}
		if mode := info.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s is %v, want -rw-------", filepath.Base(m), mode)
		}
	}
}
