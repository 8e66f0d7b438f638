package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"

	"veil/tracing"
)

// traced is the handler extension of tracing (installed when tracing is
// on): a span for the operation, named like its metrics label, and one for
// each resolver or method (edges), named by its schema field. Neither
// holds an alias, an argument, a variable or a value (package tracing).
type traced struct{ observe observe }

var (
	_ graphql.HandlerExtension     = traced{}
	_ graphql.OperationInterceptor = traced{}
	_ graphql.FieldInterceptor     = traced{}
)

func (traced) ExtensionName() string                   { return "Tracing" }
func (traced) Validate(graphql.ExecutableSchema) error { return nil }

func (t traced) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	label := t.observe.operationLabel(ctx)
	ctx, span := tracing.Start(ctx, "graphql "+label)
	if oc := graphql.GetOperationContext(ctx); oc.Operation != nil {
		span.SetAttributes(attribute.String("graphql.operation.type", string(oc.Operation.Operation)))
	}
	handler := next(ctx)
	return func(ctx context.Context) *graphql.Response {
		resp := handler(ctx)
		if resp == nil || len(resp.Errors) > 0 {
			span.SetStatus(codes.Error, "the response has errors")
		}
		span.End()
		return resp
	}
}

func (traced) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	// Resolvers, and methods (Ent's edges load from the store); plain
	// struct fields are not worth a span.
	if fc == nil || !(fc.IsResolver || fc.IsMethod) {
		return next(ctx)
	}
	ctx, span := tracing.Start(ctx, "resolve "+fc.Object+"."+fc.Field.Name)
	defer span.End()
	res, err := next(ctx)
	if err != nil {
		span.SetStatus(codes.Error, "the field has an error")
	}
	return res, err
}
