// Package metrics defines Veil's Prometheus metrics, served at /metrics.
// Labels never carry personal data: operations are named by the client's
// operation name (cut to 64 characters), classes by name, codes by code.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Registry holds every Veil metric.
var Registry = prometheus.NewRegistry()

var (
	// Requests counts GraphQL operations by operation name and outcome.
	Requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "veil", Name: "graphql_requests_total", Help: "GraphQL operations by operation (its type and first root field, from the schema) and outcome (ok or error).",
	}, []string{"operation", "outcome"})
	// Latency observes GraphQL operation latency by operation name.
	Latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "veil", Name: "graphql_request_duration_seconds", Help: "GraphQL operation latency by operation (its type and first root field).",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
	}, []string{"operation"})
	// Errors counts errors returned to clients by contract code.
	Errors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "veil", Name: "errors_total", Help: "Errors returned to clients, by extensions.code.",
	}, []string{"code"})
	// Withheld counts values served masked or null, by class and decision.
	Withheld = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "veil", Name: "withheld_values_total", Help: "Values served masked or withheld, by class and decision.",
	}, []string{"class", "decision"})
	// AuditWrites counts audit entries appended, by action.
	AuditWrites = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "veil", Name: "audit_entries_total", Help: "Audit log entries appended, by action.",
	}, []string{"action"})
	// RateLimited counts requests refused by a rate limit, by limit.
	RateLimited = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "veil", Name: "rate_limited_total", Help: "Requests refused by a rate limit, by limit.",
	}, []string{"limit"})
)

func init() {
	Registry.MustRegister(Requests, Latency, Errors, Withheld, AuditWrites, RateLimited,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
}
