// Package tracing exports OpenTelemetry spans over OTLP when configured
// (off by default): the HTTP request, the GraphQL operation, each resolver,
// each SQL statement and each audit append.
//
// SECURITY: a span holds names from the server's own vocabulary only (a
// route, an operation label bounded by the schema or the allow-list, a
// schema field, an SQL verb, counts), never a value, a variable,
// an argument, a statement's text, a header or an operation name a client
// chose. TestSpansHoldNoPersonalValue checks it for the personas' reads.
package tracing

import (
	"context"
	"errors"
	"net/url"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
)

var on atomic.Bool

// On reports whether spans are recorded: instrumentation does nothing,
// not even start a no-op span, when they are not.
func On() bool { return on.Load() }

// Tracer is Veil's tracer (it follows the provider Use installs).
var Tracer = otel.Tracer("veil")

// Use records spans through p from now on (p nil: none).
func Use(p trace.TracerProvider) {
	if p == nil {
		on.Store(false)
		return
	}
	otel.SetTracerProvider(p)
	on.Store(true)
}

// Start starts a span named name under ctx when tracing is on, and
// returns a no-op span otherwise.
func Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	if !On() {
		return ctx, Noop()
	}
	return Tracer.Start(ctx, name, opts...)
}

// Noop returns a span that records nothing, for callers that skip work
// when tracing is off.
func Noop() trace.Span { return trace.SpanFromContext(context.Background()) }

// Setup exports spans over OTLP/HTTP to endpoint (host:port over plain
// HTTP, or a URL),
// as service name; the returned function flushes and stops the export.
// An empty endpoint leaves tracing off.
func Setup(ctx context.Context, endpoint, service string) (shutdown func(context.Context) error, err error) {
	if endpoint == "" {
		return func(context.Context) error { return nil }, nil
	}
	// host:port is a collector over plain HTTP (the usual sidecar); a URL
	// is taken as OTEL_EXPORTER_OTLP_ENDPOINT is by the specification: a
	// base, to which /v1/traces is added when it has no path.
	opts := []otlptracehttp.Option{otlptracehttp.WithEndpoint(endpoint), otlptracehttp.WithInsecure()}
	if u, err := url.Parse(endpoint); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		if u.Path == "" || u.Path == "/" {
			u.Path = "/v1/traces"
		}
		opts = []otlptracehttp.Option{otlptracehttp.WithEndpointURL(u.String())}
	}
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, errors.New("tracing: the OTLP endpoint is not usable")
	}
	p := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(resource.NewSchemaless(semconv.ServiceName(service))),
	)
	Use(p)
	return func(ctx context.Context) error {
		Use(nil)
		return p.Shutdown(ctx)
	}, nil
}
