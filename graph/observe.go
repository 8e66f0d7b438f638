package graph

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"veil/classification"
	"veil/metrics"
)

// observe is the handler extension that records each operation's latency
// and outcome, and the values it withheld, as Prometheus metrics.
type observe struct{}

var (
	_ graphql.HandlerExtension    = observe{}
	_ graphql.ResponseInterceptor = observe{}
)

func (observe) ExtensionName() string                   { return "Observe" }
func (observe) Validate(graphql.ExecutableSchema) error { return nil }

func (observe) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	start := time.Now()
	resp := next(ctx)
	name := "unknown"
	if graphql.HasOperationContext(ctx) {
		switch oc := graphql.GetOperationContext(ctx); {
		case oc.Operation != nil && oc.Operation.Name != "":
			name = oc.Operation.Name
		case oc.Operation != nil:
			name = "anonymous " + string(oc.Operation.Operation)
		}
	}
	if len(name) > 64 {
		name = name[:64]
	}
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
				counts[labels{w.Class, w.Decision}]++
			}
			for l, n := range counts {
				metrics.Withheld.WithLabelValues(l.class, l.decision).Add(float64(n))
			}
		}
	}
	return resp
}
