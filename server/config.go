package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"veil/classification"
	"veil/graph"
	"veil/httpapi"
	"veil/rights"
)

// config is everything the server reads from flags and the environment.
// Flags win over environment variables.
type config struct {
	Addr        string
	DatabaseURL string
	Env         string // "development" (default) or "production"
	SMSOutbox   string
	SMSGateway  string
	CodeKey     []byte
	KeyFile     string
	ShutdownIn  time.Duration
	AvatarHosts []string
	Limits      graph.Limits
	HTTP        httpapi.Options
	// StorageRegion is where the database keeps its data (POLICY.md P4.2).
	StorageRegion classification.Region
	// LocalRateLimits keeps rate limits per process on PostgreSQL.
	LocalRateLimits bool
	// CPUProfile, when set, is the file a CPU profile of the whole run is
	// written to, for `go tool pprof`.
	CPUProfile string
	// Documents, when set, is the directory of trusted documents: the only
	// ones accepted, except from staff.
	Documents string
	// OTLPEndpoint, when set, is where spans are exported (OTLP over HTTP).
	OTLPEndpoint string
}

func envOr(key, def string) string {
	if v, ok := os.LookupEnv(key); ok && v != "" {
		return v
	}
	return def
}

// parseConfig reads the serve command's configuration.
func parseConfig(fs *flag.FlagSet, args []string) (config, error) {
	var c config
	fs.StringVar(&c.Addr, "addr", envOr("VEIL_ADDR", "127.0.0.1:8080"), "listen address (VEIL_ADDR)")
	fs.StringVar(&c.DatabaseURL, "database-url", envOr("DATABASE_URL", ""), "store URL: sqlite:PATH or postgres://... (DATABASE_URL; default sqlite:veil.db)")
	fs.StringVar(&c.Env, "env", envOr("VEIL_ENV", "development"), "development or production (VEIL_ENV)")
	fs.StringVar(&c.SMSOutbox, "sms-outbox", envOr("VEIL_SMS_OUTBOX", "sms-outbox.txt"), "development SMS outbox file (VEIL_SMS_OUTBOX)")
	fs.StringVar(&c.SMSGateway, "sms-gateway", envOr("VEIL_SMS_GATEWAY", ""), "SMS gateway URL (VEIL_SMS_GATEWAY); required in production")
	fs.BoolVar(&c.LocalRateLimits, "local-rate-limits", envOr("VEIL_LOCAL_RATE_LIMITS", "") == "1", "on PostgreSQL, keep rate limits in this process instead of sharing them with every process on the database: for one process only (VEIL_LOCAL_RATE_LIMITS=1)")
	fs.StringVar(&c.CPUProfile, "cpuprofile", envOr("VEIL_CPUPROFILE", ""), "write a CPU profile of the run to this file, for go tool pprof (VEIL_CPUPROFILE)")
	fs.StringVar(&c.Documents, "documents", envOr("VEIL_DOCUMENTS", ""), "directory of trusted .graphql documents (VEIL_DOCUMENTS): when set, clients send a documentId and other documents are refused, except from staff (the console)")
	fs.StringVar(&c.OTLPEndpoint, "otlp-endpoint", envOr("OTEL_EXPORTER_OTLP_ENDPOINT", ""), "export OpenTelemetry spans over OTLP/HTTP to this host:port or URL (OTEL_EXPORTER_OTLP_ENDPOINT); off when empty")
	fs.StringVar(&c.KeyFile, "key-file", envOr("VEIL_KEY_FILE", "veil-keys.json"), "encryption keyring file (VEIL_KEY_FILE); generated in development, required in production")
	c.Limits, c.HTTP = graph.DefaultLimits, httpapi.DefaultOptions
	fs.IntVar(&c.Limits.Depth, "max-depth", envInt("VEIL_MAX_DEPTH", c.Limits.Depth), "deepest selection nesting (VEIL_MAX_DEPTH)")
	fs.IntVar(&c.Limits.Aliases, "max-aliases", envInt("VEIL_MAX_ALIASES", c.Limits.Aliases), "aliases per document (VEIL_MAX_ALIASES)")
	fs.IntVar(&c.Limits.Directives, "max-directives", envInt("VEIL_MAX_DIRECTIVES", c.Limits.Directives), "directives per document (VEIL_MAX_DIRECTIVES)")
	fs.IntVar(&c.Limits.Tokens, "max-tokens", envInt("VEIL_MAX_TOKENS", c.Limits.Tokens), "parser tokens per document (VEIL_MAX_TOKENS)")
	fs.IntVar(&c.Limits.Cost, "max-cost", envInt("VEIL_MAX_COST", c.Limits.Cost), "fields a document may resolve (VEIL_MAX_COST)")
	sessionRate := fs.Float64("session-rate", envFloat("VEIL_SESSION_RATE", float64(c.HTTP.SessionRate)), "requests a second per session, bursts of twice that (VEIL_SESSION_RATE)")
	anonymousRate := fs.Float64("anonymous-rate", envFloat("VEIL_ANONYMOUS_RATE", float64(c.HTTP.AnonymousRate)), "anonymous requests a second per address, bursts of four times that (VEIL_ANONYMOUS_RATE)")
	avatarHosts := fs.String("avatar-hosts", envOr("VEIL_AVATAR_HOSTS", strings.Join(rights.DefaultAvatarHosts, ",")), "comma-separated image hosts avatars may come from (VEIL_AVATAR_HOSTS)")
	holidays := fs.String("holidays", envOr("VEIL_HOLIDAYS", ""), "file of public holidays and make-up working days, in the format of rights/holidays.txt, replacing the one built in; update it each year from the State Council's notice (VEIL_HOLIDAYS)")
	region := fs.String("storage-region", envOr("VEIL_STORAGE_REGION", string(classification.Mainland)), "ISO 3166 code of where the database keeps its data (VEIL_STORAGE_REGION); production requires CN, mainland China (POLICY.md P4.2)")
	webOrigins := fs.String("web-origins", envOr("VEIL_WEB_ORIGINS", ""), "comma-separated origins besides this server's own whose pages may use the session cookie, e.g. https://app.example.com (VEIL_WEB_ORIGINS)")
	secret := fs.String("secret", envOr("VEIL_SECRET", ""), "hex key (32 bytes) for login-code hashes (VEIL_SECRET); required in production")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	c.ShutdownIn = 15 * time.Second
	for _, h := range strings.Split(*avatarHosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			c.AvatarHosts = append(c.AvatarHosts, h)
		}
	}
	if *holidays != "" {
		cal, err := rights.LoadCalendar(*holidays)
		if err != nil {
			return c, fmt.Errorf("VEIL_HOLIDAYS: %w", err)
		}
		// The calendar is the process's: every due date counts on it.
		rights.UseCalendar(cal)
	}
	r, err := classification.ParseRegion(*region)
	if err != nil {
		return c, fmt.Errorf("VEIL_STORAGE_REGION: %w", err)
	}
	c.StorageRegion = r
	for _, o := range strings.Split(*webOrigins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			u, err := url.Parse(o)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "" || u.RawQuery != "" {
				return c, fmt.Errorf("VEIL_WEB_ORIGINS: %q is not an origin such as https://app.example.com", o)
			}
			c.HTTP.WebOrigins = append(c.HTTP.WebOrigins, o)
		}
	}
	c.HTTP.SessionRate, c.HTTP.SessionBurst = rate.Limit(*sessionRate), max(1, int(2**sessionRate))
	c.HTTP.AnonymousRate, c.HTTP.AnonymousBurst = rate.Limit(*anonymousRate), max(1, int(4**anonymousRate))
	if c.Limits.Depth < 1 || c.Limits.Aliases < 0 || c.Limits.Directives < 0 || c.Limits.Tokens < 10 || c.Limits.Cost < 1 || *sessionRate <= 0 || *anonymousRate <= 0 {
		return c, errors.New("limits must be positive")
	}
	switch c.Env {
	case "development", "production":
		c.HTTP.SecureCookies = c.Env == "production"
	default:
		return c, fmt.Errorf("VEIL_ENV must be development or production, not %q", c.Env)
	}
	if *secret != "" {
		key, err := hex.DecodeString(*secret)
		if err != nil || len(key) < 32 {
			return c, errors.New("VEIL_SECRET must be at least 32 bytes, hex-encoded")
		}
		c.CodeKey = key
	}
	if c.Env == "production" {
		if !c.StorageRegion.InMainland() {
			return c, fmt.Errorf("production keeps personal information in mainland China (POLICY.md P4.2): VEIL_STORAGE_REGION is %s, not CN", c.StorageRegion)
		}
		if c.SMSGateway == "" {
			return c, errors.New("production needs a real SMS gateway (VEIL_SMS_GATEWAY); the development outbox is refused")
		}
		if c.CodeKey == nil {
			return c, errors.New("production needs VEIL_SECRET")
		}
	}
	if c.Env == "production" {
		if _, err := os.Stat(c.KeyFile); err != nil {
			return c, fmt.Errorf("production needs an encryption keyring: %s: %w", c.KeyFile, err)
		}
	}
	if c.CodeKey == nil {
		c.CodeKey = make([]byte, 32)
		if _, err := rand.Read(c.CodeKey); err != nil {
			return c, err
		}
	}
	return c, nil
}

func envFloat(key string, def float64) float64 {
	if v, err := strconv.ParseFloat(os.Getenv(key), 64); err == nil {
		return v
	}
	return def
}
