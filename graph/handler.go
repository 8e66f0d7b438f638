package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"veil/audit"
	"veil/classification"
	"veil/fault"
	"veil/privacy"
	"veil/tracing"
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
	// Documents, when set, is the allow-list of trusted documents: the
	// only ones accepted, except from staff (see Documents).
	Documents *Documents
}

// NewServer returns the GraphQL handler: POST and GET (queries only)
// transports, the classification engine, and the error presenter.
// Introspection is for admin tokens only. Every request runs under
// privacy.Serve (its subject loaders and the row rule), which needs the
// privacy layer installed on r.Client (app.Open does it).
func NewServer(r *Resolver, opts Options) *handler.Server {
	enforcer := &classification.Enforcer{Subject: privacy.SubjectOf, Recorder: &audit.Recorder{Client: r.Client, Now: r.now}}
	cfg := Config{Resolvers: r}
	cfg.Directives.Classified = enforcer.Directive
	cfg.Directives.Access = r.access
	if opts.WithoutClassification {
		cfg.Directives.Classified = func(ctx context.Context, _ any, next graphql.Resolver, _ string) (any, error) {
			return next(ctx)
		}
	}
	srv := handler.New(NewExecutableSchema(cfg))
	srv.AddTransport(transport.Options{})
	srv.AddTransport(httpTransport{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.Use(trustedDocuments{opts.Documents})
	if opts.Documents == nil {
		// With an allow-list, a client could register any document here.
		srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](100)})
	}
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
	srv.Use(observe{opts.Documents})
	if tracing.On() {
		srv.Use(traced{observe{opts.Documents}})
	}
	if !opts.WithoutClassification {
		srv.Use(enforcer)
	}
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		ctx = withSessionEnd(ctx)
		if opts.WithoutClassification {
			// The baseline: no row rule, no subject loading.
			return next(privacy.WithNow(ctx, r.now()))
		}
		return next(privacy.Serve(ctx, r.Client, r.now()))
	})
	if !opts.WithoutClassification {
		srv.AroundFields(domainCode)
	}
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

// domainCode runs the resolver of each mutation as domain code, which
// decides itself who may act on which rows (privacy.InDomainCode); the
// fields of what it returns are resolved under the request's row rule.
func domainCode(ctx context.Context, next graphql.Resolver) (any, error) {
	if fc := graphql.GetFieldContext(ctx); fc != nil && fc.IsResolver && fc.Object == "Mutation" {
		return next(privacy.InDomainCode(ctx))
	}
	return next(ctx)
}
