package main

import (
	"flag"
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
