package graph

import (
	"context"
	"fmt"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"veil/fault"
	"veil/scalar"
)

// Limits bound the work one GraphQL document may ask for. The defaults
// follow common practice for public GraphQL APIs.
type Limits struct {
	// Depth is the deepest selection nesting (fragments count as inlined).
	Depth int
	// Aliases is how many aliased fields a document may hold.
	Aliases int
	// Directives is how many directives a document may use.
	Directives int
	// Tokens is the parser's token budget.
	Tokens int
	// Cost is the most fields a document may resolve: each field counts
	// once per element of every connection around it, a connection
	// counting as its first/last argument, or 100 (the page limit).
	Cost int
}

// DefaultLimits are the limits the server runs with unless configured.
var DefaultLimits = Limits{Depth: 10, Aliases: 15, Directives: 50, Tokens: 2000, Cost: 10000}

// shapeLimits is the handler extension that enforces Depth, Aliases and
// Directives before execution.
type shapeLimits struct{ Limits }

var (
	_ graphql.HandlerExtension        = shapeLimits{}
	_ graphql.OperationContextMutator = shapeLimits{}
)

func (shapeLimits) ExtensionName() string                   { return "ShapeLimits" }
func (shapeLimits) Validate(graphql.ExecutableSchema) error { return nil }

func (l shapeLimits) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	c := counter{vars: oc.Variables}
	c.walk(oc.Operation.SelectionSet, 1, 1)
	c.directives += len(oc.Operation.Directives)
	switch {
	case c.badCursor != "":
		// Checked here, before anything runs: Ent's field collection reads
		// the cursors of nested connections before their resolvers could
		// refuse them.
		err := fault.Invalid(c.badCursor, "not a cursor this server gave out")
		return &gqlerror.Error{Message: err.Error(), Err: err}
	case c.longList != "":
		err := fault.Invalid(c.longList, fmt.Sprintf("a list of more than %d values", maxListValues))
		return &gqlerror.Error{Message: err.Error(), Err: err}
	case c.depth > l.Depth:
		return limitError(fmt.Sprintf("the query is %d levels deep; the limit is %d", c.depth, l.Depth))
	case c.aliases > l.Aliases:
		return limitError(fmt.Sprintf("the query uses %d aliases; the limit is %d", c.aliases, l.Aliases))
	case c.directives > l.Directives:
		return limitError(fmt.Sprintf("the query uses %d directives; the limit is %d", c.directives, l.Directives))
	case c.cost > l.Cost:
		return limitError(fmt.Sprintf("the query could resolve %d fields; the limit is %d: ask for smaller pages", c.cost, l.Cost))
	}
	return nil
}

func limitError(msg string) *gqlerror.Error {
	return &gqlerror.Error{Message: msg, Err: fault.New(fault.ValidationFailed, msg)}
}

type counter struct {
	vars                             map[string]any
	depth, aliases, directives, cost int
	// visiting guards against fragment cycles (validation rejects them,
	// but the walk must not rely on it).
	visiting map[string]bool
	// badCursor names the first Cursor argument that is not one.
	badCursor string
	// longList names the first argument holding a list longer than
	// maxListValues (variables included).
	longList string
}

// maxListValues bounds every list an argument holds (a filter's idIn,
// nodes' ids, a batch of events): longer ones would exceed the store's
// limit on a statement's parameters.
const maxListValues = 1000

func (c *counter) walk(set ast.SelectionSet, depth, mult int) {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			c.depth = max(c.depth, depth)
			c.directives += len(s.Directives)
			c.cost += mult
			if s.Alias != "" && s.Alias != s.Name {
				c.aliases++
			}
			c.checkArguments(s)
			c.walk(s.SelectionSet, depth+1, mult*c.pageSize(s))
		case *ast.InlineFragment:
			c.directives += len(s.Directives)
			c.walk(s.SelectionSet, depth, mult)
		case *ast.FragmentSpread:
			c.directives += len(s.Directives)
			if s.Definition == nil || c.visiting[s.Name] {
				continue
			}
			if c.visiting == nil {
				c.visiting = map[string]bool{}
			}
			c.visiting[s.Name] = true
			c.walk(s.Definition.SelectionSet, depth, mult)
			delete(c.visiting, s.Name)
		}
	}
}

// checkArguments notes the first argument of f that holds a list longer
// than maxListValues, and the first after or before argument that does not
// read as a cursor.
func (c *counter) checkArguments(f *ast.Field) {
	if c.badCursor != "" || f.Definition == nil {
		return
	}
	for _, a := range f.Arguments {
		v, err := a.Value.Value(c.vars)
		if c.longList == "" && err == nil && tooLong(v) {
			c.longList = a.Name
		}
		if def := f.Definition.Arguments.ForName(a.Name); def == nil || def.Type.Name() != "Cursor" {
			continue
		}
		if err != nil || v != nil && badCursor(v) {
			c.badCursor = a.Name
			return
		}
	}
}

func badCursor(v any) bool {
	_, err := scalar.UnmarshalCursor(v)
	return err != nil
}

// tooLong reports whether v holds a list of more than maxListValues.
func tooLong(v any) bool {
	switch v := v.(type) {
	case []any:
		if len(v) > maxListValues {
			return true
		}
		for _, e := range v {
			if tooLong(e) {
				return true
			}
		}
	case map[string]any:
		for _, e := range v {
			if tooLong(e) {
				return true
			}
		}
	}
	return false
}

// pageSize is how many elements a connection field may return: its first
// or last argument, or the page limit.
func (c *counter) pageSize(f *ast.Field) int {
	if f.Definition == nil || !strings.HasSuffix(f.Definition.Type.Name(), "Connection") {
		return 1
	}
	args := f.ArgumentMap(c.vars)
	for _, name := range []string{"first", "last"} {
		if n, ok := args[name].(int64); ok && n >= 0 {
			return int(min(n, maxPage))
		}
	}
	return maxPage
}
