package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"veil/crypt"
)

func TestParseConfig(t *testing.T) {
	key := strings.Repeat("ab", 32)
	keyring := filepath.Join(t.TempDir(), "keys.json")
	k, err := crypt.Generate(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := k.WriteFile(keyring); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"development defaults", nil, ""},
		{"production without an SMS gateway is refused", []string{"-env", "production", "-secret", key, "-key-file", keyring}, "SMS gateway"},
		{"production without an encryption keyring is refused", []string{"-env", "production", "-secret", key, "-sms-gateway", "https://sms.example", "-key-file", "/nonexistent/keys.json"}, "encryption keyring"},
		{"production without a secret is refused", []string{"-env", "production", "-sms-gateway", "https://sms.example"}, "VEIL_SECRET"},
		{"an unknown environment is refused", []string{"-env", "staging"}, "development or production"},
		{"a short secret is refused", []string{"-secret", "abcd"}, "at least 32 bytes"},
		{"a storage region that is no code is refused", []string{"-storage-region", "mainland"}, "ISO 3166"},
		{"production storing abroad is refused", []string{"-env", "production", "-secret", key, "-sms-gateway", "https://sms.example", "-key-file", keyring, "-storage-region", "SG"}, "mainland China"},
		{"development may store elsewhere", []string{"-storage-region", "SG"}, ""},
		{"a web origin with a path is refused", []string{"-web-origins", "https://app.example.com/x"}, "not an origin"},
		{"a holidays file that does not parse is refused", []string{"-holidays", writeFile(t, "2028-10-02 off 国庆节\n")}, "year"},
		{"a missing holidays file is refused", []string{"-holidays", "/nonexistent/holidays.txt"}, "VEIL_HOLIDAYS"},
		{"web origins are read", []string{"-web-origins", "https://app.example.com, http://localhost:5173"}, ""},
		{"production with a gateway, a secret and a keyring starts", []string{"-env", "production", "-secret", key, "-sms-gateway", "https://sms.example", "-key-file", keyring}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("VEIL_ENV", "")
			t.Setenv("VEIL_SECRET", "")
			t.Setenv("VEIL_SMS_GATEWAY", "")
			cfg, err := parseConfig(flag.NewFlagSet("test", flag.ContinueOnError), tt.args)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error = %v, want one mentioning %q", err, tt.wantErr)
			case err == nil && len(cfg.CodeKey) < 32:
				t.Errorf("code key of %d bytes", len(cfg.CodeKey))
			}
		})
	}
	t.Run("defaults match the contract", func(t *testing.T) {
		t.Setenv("VEIL_ADDR", "")
		t.Setenv("VEIL_SMS_OUTBOX", "")
		cfg, err := parseConfig(flag.NewFlagSet("test", flag.ContinueOnError), nil)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Addr != "127.0.0.1:8080" || cfg.SMSOutbox != "sms-outbox.txt" || cfg.DatabaseURL != "" {
			t.Errorf("defaults: %+v", cfg)
		}
	})
}

// TestCPUProfileIsWritten: -cpuprofile leaves a complete profile (gzip, as
// go tool pprof reads it) when the run ends.
func TestCPUProfileIsWritten(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cpu.pprof")
	stop, err := profileCPU(path)
	if err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(50 * time.Millisecond); time.Now().Before(end); {
	}
	stop()
	b, err := os.ReadFile(path)
	if err != nil || len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Fatalf("not a profile (%v): %d bytes", err, len(b))
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("profile mode %v, want 0600", fi.Mode().Perm())
	}
}

// writeFile writes text to a new file of the test and returns its path.
func writeFile(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
