// Command server runs Veil: the GraphQL API, and its maintenance commands.
//
//	go run ./server                    serve GraphQL at http://127.0.0.1:8080/graphql
//	go run ./server demo -tokens FILE  seed the demo personas, write persona -> token JSON
//	go run ./server purge [-dry-run]   remove what is past retention
//	go run ./server analytics-export   write de-identified activity data (needs VEIL_ANALYTICS_KEY)
//	go run ./server analytics-aggregate  write the web app's page-view figures (no identifier)
//	go run ./server inventory -format md|json  print the collected-information and sharing lists
//	go run ./server share -recipient NAME -out FILE  write the file a consent-based recipient receives
//	go run ./server rotate-key [-generate]     re-encrypt sensitive values under the current key
//	go run ./server documents add|list [-dir DIR] [FILE...]  register trusted documents
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	"golang.org/x/time/rate"

	"veil/account"
	"veil/app"
	"veil/crypt"
	"veil/graph"
	"veil/identity"
	"veil/ratelimit"
	"veil/rights"
	"veil/tracing"
)

func main() {
	// JSON logs in production (VEIL_ENV=production) or with VEIL_LOG_FORMAT=json.
	var handler slog.Handler = slog.NewTextHandler(os.Stderr, nil)
	if os.Getenv("VEIL_ENV") == "production" || os.Getenv("VEIL_LOG_FORMAT") == "json" {
		handler = slog.NewJSONHandler(os.Stderr, nil)
	}
	slog.SetDefault(slog.New(handler))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "veil:", err)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args)
	case "demo":
		return demo(ctx, args)
	case "purge":
		return purge(ctx, args)
	case "analytics-export":
		return analyticsExport(ctx, args)
	case "analytics-aggregate":
		return analyticsAggregate(ctx, args)
	case "inventory":
		return inventoryCmd(ctx, args)
	case "share":
		return share(ctx, args)
	case "rotate-key":
		return rotateKey(ctx, args)
	case "documents":
		return documentsCmd(args)
	default:
		return fmt.Errorf("unknown command %q; commands: serve (default), demo, purge, analytics-export, analytics-aggregate, inventory, share, rotate-key, documents", cmd)
	}
}

// useKeys loads the encryption keyring from cfg.KeyFile; in development a
// missing file is generated, loudly.
func useKeys(cfg config) error {
	k, err := crypt.LoadFile(cfg.KeyFile)
	if errors.Is(err, os.ErrNotExist) && cfg.Env == "development" {
		if k, err = crypt.Generate(time.Now()); err != nil {
			return err
		}
		if err := k.WriteFile(cfg.KeyFile); err != nil {
			return err
		}
		slog.Warn("GENERATED A DEVELOPMENT ENCRYPTION KEYRING: sensitive data is encrypted with keys in a local file; never use it in production",
			"file", cfg.KeyFile)
	}
	if err != nil {
		return fmt.Errorf("encryption keyring: %w", err)
	}
	// rotate-key -generate adds a key to the file while servers run.
	crypt.ReloadFrom(cfg.KeyFile)
	return crypt.Use(k)
}

// newApp builds the application from the configuration.
func newApp(ctx context.Context, cfg config) (*app.App, error) {
	if withoutClassification && cfg.Env == "production" {
		return nil, errors.New("this is the load test's baseline build (-tags veilbench), without the classification layer: it never runs in production")
	}
	if err := useKeys(cfg); err != nil {
		return nil, err
	}
	var docs *graph.Documents
	if cfg.Documents != "" {
		var err error
		if docs, err = graph.LoadDocuments(cfg.Documents); err != nil {
			return nil, err
		}
		if err := docs.CheckLimits(cfg.Limits); err != nil {
			return nil, err
		}
		slog.Info("accepting registered documents only (staff excepted)", "documents", len(docs.List()), "dir", cfg.Documents)
	}
	return app.New(ctx, app.Config{
		DatabaseURL:           cfg.DatabaseURL,
		SMS:                   &account.Outbox{Path: cfg.SMSOutbox},
		CodeKey:               cfg.CodeKey,
		Verifier:              identity.DevVerifier{},
		Face:                  identity.DevFace{},
		SignInLimiter:         ratelimit.New(rate.Every(6*time.Second), 10),
		RealNameLimiter:       ratelimit.New(rate.Every(10*time.Minute), 10),
		AvatarHosts:           cfg.AvatarHosts,
		Limits:                cfg.Limits,
		Documents:             docs,
		HTTP:                  cfg.HTTP,
		LocalRateLimits:       cfg.LocalRateLimits,
		WithoutClassification: withoutClassification,
	})
}

// serve runs the HTTP server until ctx ends, then drains it.
func serve(ctx context.Context, args []string) error {
	cfg, err := parseConfig(flag.NewFlagSet("serve", flag.ContinueOnError), args)
	if err != nil {
		return err
	}
	if cfg.CPUProfile != "" {
		stop, err := profileCPU(cfg.CPUProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	// Before the app: its GraphQL handler traces only if tracing is on.
	stopTracing, err := tracing.Setup(ctx, cfg.OTLPEndpoint, "veil")
	if err != nil {
		return err
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		stopTracing(ctx)
	}()
	a, err := newApp(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Store.Close()
	for _, year := range rights.ActiveCalendar().Missing(time.Now()) {
		slog.Warn("the working-day calendar has no public holidays for this year: due dates in it count Monday to Friday only; add the State Council's notice to a copy of rights/holidays.txt and pass it with -holidays",
			"year", year)
	}
	if cfg.SMSGateway == "" {
		slog.Warn("no SMS gateway configured: login codes go to the development outbox", "file", cfg.SMSOutbox)
	}
	unbound, err := a.Store.Unbound(ctx)
	if err != nil {
		return err
	}
	for column, n := range unbound {
		// Counts only: never a value.
		slog.Warn("encrypted values not sealed to their row are refused on read: after upgrading a database from before rows were bound, run rotate-key -seal-unbound once; otherwise someone wrote them into the database",
			"column", column, "values", n)
	}
	srv := &http.Server{
		Addr:              cfg.Addr,
		Handler:           a.Handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	slog.Info("serving GraphQL", "url", "http://"+ln.Addr().String()+"/graphql", "store", a.Store.Dialect)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	slog.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownIn)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// profileCPU starts a CPU profile of the process into path; stop ends it
// and completes the file.
func profileCPU(path string) (stop func(), err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	slog.Info("writing a CPU profile", "file", path)
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			slog.Error("the CPU profile could not be written", "error", err.Error())
		}
	}, nil
}
