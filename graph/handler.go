package graph

import (
	"context"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"veil/audit"
	"veil/classification"
	"veil/collection"
	"veil/fault"
)

// Options configures NewServer.
type Options struct {
	// WithoutClassification serves every field raw. It exists only as the
	// baseline that tests and benchmarks compare the engine against; the
	// server binary sets it only when built with the veilbench tag, for
	// the load test's baseline (server/baseline.go).
	WithoutClassification bool
	// Limits bound each document; the zero value means DefaultLimits.
	Limits Limits
}

// announcing holds the clients announceSubjects is registered on.
var announcing sync.Map

// NewServer returns the GraphQL handler: POST and GET (queries only)
// transports, the classification engine, per-request subject loading, and
// the error presenter. Introspection is for admin tokens only. It also
// registers on r.Client the interceptor that feeds loaded objects to the
// request's subject loaders, and the hook that empties them on a write
// (both no-ops outside GraphQL requests).
func NewServer(r *Resolver, opts Options) *handler.Server {
	enforcer := &classification.Enforcer{Subject: r.subjectOf, Recorder: &audit.Recorder{Client: r.Client, Now: r.now}}
	cfg := Config{Resolvers: r}
	cfg.Directives.Classified = enforcer.Directive
	cfg.Directives.Access = r.access
	if opts.WithoutClassification {
		cfg.Directives.Classified = func(ctx context.Context, _ any, next graphql.Resolver, _ string) (any, error) {
			return next(ctx)
		}
	}
	if _, done := announcing.LoadOrStore(r.Client, true); !done {
		// Once per client: a server and its test baseline share one.
		r.Client.Intercept(announceSubjects())
		r.Client.Use(forgetSubjectsOnWrite)
	}
	srv := handler.New(NewExecutableSchema(cfg))
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](100)})
	srv.Use(operationRules{})
	limits := opts.Limits
	if limits == (Limits{}) {
		limits = DefaultLimits
	}
	srv.Use(shapeLimits{limits})
	srv.SetParserTokenLimit(limits.Tokens)
	// Suggestions ("did you mean ...") would let anyone map the schema that
	// introspection hides; admins explore it through introspection.
	srv.SetDisableSuggestion(true)
	srv.Use(observe{})
	if !opts.WithoutClassification {
		srv.Use(enforcer)
	}
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		ctx = collection.WithNow(ctx, r.now())
		if !opts.WithoutClassification {
			// Without loaders the subject interceptor leaves queries alone.
			ctx = r.withLoaders(ctx)
		}
		return next(ctx)
	})
	srv.SetErrorPresenter(presentError)
	srv.SetRecoverFunc(recoverPanic)
	return srv
}

// operationRules refuses to start with a mutation that has no @access
// level, and allows schema introspection only to admin tokens: anyone else
// asking for __schema or __type gets FORBIDDEN.
type operationRules struct{}

var (
	_ graphql.HandlerExtension        = operationRules{}
	_ graphql.OperationContextMutator = operationRules{}
)

func (operationRules) ExtensionName() string                      { return "OperationRules" }
func (operationRules) Validate(es graphql.ExecutableSchema) error { return checkAccessDeclared(es) }

func (operationRules) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	v := classification.FromContext(ctx)
	oc.DisableIntrospection = !(v.SignedIn() && v.Role == classification.RoleAdmin)
	if oc.DisableIntrospection && introspects(oc.Operation.SelectionSet) {
		msg := "introspection is available to admin tokens only"
		return &gqlerror.Error{Message: msg, Err: fault.New(fault.Forbidden, msg)}
	}
	return nil
}

// introspects reports whether a root selection set asks for __schema or
// __type, directly or through fragments.
func introspects(set ast.SelectionSet) bool {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Name == "__schema" || s.Name == "__type" {
				return true
			}
		case *ast.InlineFragment:
			if introspects(s.SelectionSet) {
				return true
			}
		case *ast.FragmentSpread:
			if s.Definition != nil && introspects(s.Definition.SelectionSet) {
				return true
			}
		}
	}
	return false
}
