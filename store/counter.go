package store

import (
	"context"
	"database/sql"
	"strings"
	"sync/atomic"

	"entgo.io/ent/dialect"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"veil/tracing"
)

// Counter is a dialect.Driver that counts the statements run through it,
// in and out of transactions, and traces each when tracing is on. It never
// sees, keeps or logs arguments, so it is safe where dialect.Debug (which
// logs them) is not.
type Counter struct {
	dialect.Driver
	n atomic.Int64
	// Trace, when set, is told each statement's text (never its
	// arguments), for finding where statements come from.
	Trace func(query string)
}

func (c *Counter) count(query string) {
	c.n.Add(1)
	if c.Trace != nil {
		c.Trace(query)
	}
}

// span starts the span of a statement when tracing is on: named by its
// verb ("sql SELECT"), never by its text (package tracing).
func span(ctx context.Context, query string) (context.Context, trace.Span) {
	if !tracing.On() {
		return ctx, tracing.Noop()
	}
	verb, _, _ := strings.Cut(strings.TrimSpace(query), " ")
	switch verb = strings.ToUpper(verb); verb {
	case "SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "BEGIN", "COMMIT", "ROLLBACK", "CREATE", "ALTER", "DROP", "SAVEPOINT", "RELEASE":
	default:
		verb = "OTHER"
	}
	return tracing.Start(ctx, "sql "+verb, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("db.operation.name", verb)))
}

// Statements returns how many statements have run so far.
func (c *Counter) Statements() int64 { return c.n.Load() }

// Exec implements dialect.ExecQuerier.
func (c *Counter) Exec(ctx context.Context, query string, args, v any) error {
	c.count(query)
	ctx, s := span(ctx, query)
	defer s.End()
	return c.Driver.Exec(ctx, query, args, v)
}

// Query implements dialect.ExecQuerier.
func (c *Counter) Query(ctx context.Context, query string, args, v any) error {
	c.count(query)
	ctx, s := span(ctx, query)
	defer s.End()
	return c.Driver.Query(ctx, query, args, v)
}

// Tx implements dialect.Driver.
func (c *Counter) Tx(ctx context.Context) (dialect.Tx, error) {
	tx, err := c.Driver.Tx(ctx)
	if err != nil {
		return nil, err
	}
	return &countingTx{Tx: tx, c: c}, nil
}

type countingTx struct {
	dialect.Tx
	c *Counter
}

func (t *countingTx) Exec(ctx context.Context, query string, args, v any) error {
	t.c.count(query)
	ctx, s := span(ctx, query)
	defer s.End()
	return t.Tx.Exec(ctx, query, args, v)
}

func (t *countingTx) Query(ctx context.Context, query string, args, v any) error {
	t.c.count(query)
	ctx, s := span(ctx, query)
	defer s.End()
	return t.Tx.Query(ctx, query, args, v)
}

// ExecContext lets the client and transactions of Ent's sql/execquery
// feature run a statement through the counter (the sealing hook does).
func (c *Counter) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return execContext(ctx, c, query, args)
}

// ExecContext: see Counter.ExecContext.
func (t *countingTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return execContext(ctx, t, query, args)
}

func execContext(ctx context.Context, e dialect.ExecQuerier, query string, args []any) (sql.Result, error) {
	var r sql.Result
	if err := e.Exec(ctx, query, args, &r); err != nil {
		return nil, err
	}
	return r, nil
}
