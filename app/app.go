// Package app builds Veil: the one constructor of the whole application,
// which the server binary and the tests share, so the tests run the app
// that is deployed. Open is the one way to a store with the privacy layer
// installed; New builds every service and the HTTP handler on it.
package app

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"entgo.io/ent/dialect"

	"veil/account"
	"veil/graph"
	"veil/httpapi"
	"veil/identity"
	"veil/privacy"
	"veil/ratelimit"
	"veil/seed"
	"veil/store"
)

// Config is what the application is built from. Keys (crypt.Use) are set
// before New is called.
type Config struct {
	// DatabaseURL is the store (store.ParseURL); empty for the default.
	DatabaseURL string
	// SMS delivers login codes.
	SMS account.Sender
	// CodeKey keys the stored login-code hashes; processes sharing a store
	// share it.
	CodeKey []byte
	// Verifier and Face verify real names and faces.
	Verifier identity.Verifier
	Face     identity.FaceProvider
	// SignInLimiter, when set, bounds sign-in attempts per client address.
	SignInLimiter *ratelimit.Limiter
	// AvatarHosts are the image hosts avatars may come from
	// (rights.DefaultAvatarHosts when empty).
	AvatarHosts []string
	// RealNameLimiter, when set, bounds real-name verifications per client
	// address.
	RealNameLimiter *ratelimit.Limiter
	// Limits bound each GraphQL document; zero means graph.DefaultLimits.
	Limits graph.Limits
	// Documents, when set, is the allow-list of trusted documents
	// (graph.Documents); nil accepts any document.
	Documents *graph.Documents
	// HTTP are the HTTP layer's limits.
	HTTP httpapi.Options
	// LocalRateLimits keeps the rate limits in this process even on
	// PostgreSQL, where they are otherwise shared by every process on the
	// database: for a deployment of one process, which saves a statement
	// a request.
	LocalRateLimits bool
	// Now is the clock; time.Now when nil (tests move it).
	Now func() time.Time
	// WithoutClassification builds the baseline the layer is measured
	// against: every field raw, no row rule (see graph.Options).
	WithoutClassification bool
}

// App is a built Veil.
type App struct {
	Store    *store.Store
	Accounts *account.Service
	Resolver *graph.Resolver
	// Handler serves everything: GraphQL, export, health, console.
	Handler http.Handler
	cfg     Config
}

// Open opens and migrates the store at url and installs the privacy layer
// on its client, then the sealing of encrypted values to their rows (the
// innermost hook, so the privacy layer sees the values written). Every
// store Veil uses is opened here.
func Open(ctx context.Context, url string) (*store.Store, error) {
	st, err := store.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	privacy.Install(st.Client)
	st.SealRows()
	return st, nil
}

// New opens the store and builds the application on it. The caller
// closes a.Store.
func New(ctx context.Context, cfg Config) (*App, error) {
	st, err := Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if err := seed.EnsureCatalog(ctx, st.Client); err != nil {
		st.Close()
		return nil, fmt.Errorf("seed the SDK inventory and policy: %w", err)
	}
	if st.Dialect == dialect.Postgres && !cfg.LocalRateLimits {
		// Every process on the database shares the rate limits.
		db, err := st.OpenSide("synchronous_commit=off")
		if err != nil {
			st.Close()
			return nil, err
		}
		shared := ratelimit.NewShared(db)
		cfg.HTTP.Shared = shared
		for name, l := range map[string]*ratelimit.Limiter{"sign-in": cfg.SignInLimiter, "real-name": cfg.RealNameLimiter} {
			if l != nil {
				l.On(shared, name)
			}
		}
	}
	accounts := &account.Service{Client: st.Client, SMS: cfg.SMS, CodeKey: cfg.CodeKey, Now: cfg.Now}
	resolver := &graph.Resolver{
		Client:        st.Client,
		Driver:        st.Counter,
		Accounts:      accounts,
		Identity:      &identity.Service{Client: st.Client, Verifier: cfg.Verifier, Face: cfg.Face, AddressLimiter: cfg.RealNameLimiter},
		SignInLimiter: cfg.SignInLimiter,
		AvatarHosts:   cfg.AvatarHosts,
		Now:           cfg.Now,
	}
	a := &App{Store: st, Accounts: accounts, Resolver: resolver, cfg: cfg}
	a.Handler = a.handler(cfg.WithoutClassification)
	return a, nil
}

// Baseline returns the same application's handler with the
// classification layer removed (every field raw, no row rule): the
// baseline tests and benchmarks compare the layer against. Never serve it.
func (a *App) Baseline() http.Handler { return a.handler(true) }

func (a *App) handler(withoutClassification bool) http.Handler {
	gql := graph.NewServer(a.Resolver, graph.Options{Limits: a.cfg.Limits, Documents: a.cfg.Documents, WithoutClassification: withoutClassification})
	ready := func(r *http.Request) error { return a.Store.DB.PingContext(r.Context()) }
	return httpapi.New(gql, a.Accounts, ready, a.Resolver.ExportTo, a.cfg.HTTP)
}
