package graph

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"veil/classification"
	"veil/metrics"
)

// observe is the handler extension that records each operation's latency
// and outcome, and the values it withheld, as Prometheus metrics.
type observe struct{ docs *Documents }

var (
	_ graphql.HandlerExtension    = observe{}
	_ graphql.ResponseInterceptor = observe{}
)

func (observe) ExtensionName() string                   { return "Observe" }
func (observe) Validate(graphql.ExecutableSchema) error { return nil }

func (o observe) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	start := time.Now()
	resp := next(ctx)
	name := o.operationLabel(ctx)
	outcome := "ok"
	if resp == nil || len(resp.Errors) > 0 {
		outcome = "error"
	}
	metrics.Requests.WithLabelValues(name, outcome).Inc()
	metrics.Latency.WithLabelValues(name).Observe(time.Since(start).Seconds())
	if resp != nil {
		if list, ok := resp.Extensions[classification.ExtensionKey].(classification.WithheldList); ok {
			type labels struct{ class, decision string }
			counts := map[labels]int{}
			for _, w := range list {
				// An entry with a wildcard stands for Count values; RAW
				// entries are exceptions to one, served as stored.
				if w.Decision != classification.Raw.String() {
					counts[labels{w.Class, w.Decision}] += max(w.Count, 1)
				}
			}
			for l, n := range counts {
				metrics.Withheld.WithLabelValues(l.class, l.decision).Add(float64(n))
			}
		}
	}
	return resp
}

// operationLabel names an operation for the metrics from the server's own
// lists, never from the client: a registered document by its name
// ("document checkout"), any other by its type and its first root field
// ("query me", "mutation login"), or "unknown" for a document that did not
// validate. The values are bounded by the schema and the allow-list, and
// an operation name chosen by a client (which may be anything, personal
// data included) is never one.
func (o observe) operationLabel(ctx context.Context) string {
	if !graphql.HasOperationContext(ctx) {
		return "unknown"
	}
	oc := graphql.GetOperationContext(ctx)
	if doc := o.docs.named(oc.RawQuery); doc != nil {
		return "document " + doc.Name
	}
	op := oc.Operation
	if op == nil {
		return "unknown"
	}
	for _, sel := range op.SelectionSet {
		if f, ok := sel.(*ast.Field); ok && f.Definition != nil {
			return string(op.Operation) + " " + f.Definition.Name
		}
	}
	return string(op.Operation) + " other"
}
