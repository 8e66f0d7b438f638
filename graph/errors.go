package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"veil/classification"
	"veil/ent"
	"veil/fault"
	"veil/metrics"
	"veil/reqctx"
	"veil/scalar"
	"veil/store"
)

// presentError maps every error to a contract code, in this one place. A
// fault.Error keeps its message; Ent validation and constraint errors
// become VALIDATION_FAILED without echoing values; GraphQL parse and
// validation errors become VALIDATION_FAILED; anything else is logged
// (message only) and shown as INTERNAL with no detail.
func presentError(ctx context.Context, err error) *gqlerror.Error {
	gqlErr := graphql.DefaultErrorPresenter(ctx, err)
	var fe *fault.Error
	var ve *ent.ValidationError
	switch {
	case errors.As(err, &fe):
		gqlErr.Message = fe.Message
		setCode(gqlErr, fe.Code)
		if fe.Field != "" {
			gqlErr.Extensions["field"] = fe.Field
		}
		if fe.Purpose != "" {
			gqlErr.Extensions["purpose"] = fe.Purpose
		}
		if fe.RetryAfterSeconds > 0 {
			gqlErr.Extensions["retryAfterSeconds"] = fe.RetryAfterSeconds
		}
		if slices.Contains(scalar.Errors, error(fe)) {
			// A scalar does not know where it was given; the path does:
			// an argument (["payOrder","orderId"]) or a variable.
			if field := inputField(gqlErr.Path); field != "" {
				gqlErr.Message = field + ": " + fe.Message
				gqlErr.Extensions["field"] = field
			}
		}
	case errors.As(err, &ve):
		gqlErr.Message = ve.Name + ": invalid value"
		setCode(gqlErr, fault.ValidationFailed)
		gqlErr.Extensions["field"] = ve.Name
	case store.IsBadValue(err):
		// SECURITY: never echo or log the driver's message: it names the
		// value the client sent (in a filter, or inside a cursor).
		gqlErr.Message = "a value in the request does not fit the field it is compared with (a cursor from another order, a time zone offset out of range)"
		gqlErr.Err = nil
		setCode(gqlErr, fault.ValidationFailed)
	case isEmptyFilter(err):
		gqlErr.Message = "where: a filter (not, and, or) is empty"
		setCode(gqlErr, fault.ValidationFailed)
		gqlErr.Extensions["field"] = "where"
	case ent.IsConstraintError(err):
		// SECURITY: never echo the driver's message: it names the value.
		gqlErr.Message = "the change conflicts with existing data"
		setCode(gqlErr, fault.ValidationFailed)
	case isGraphQLRequestError(gqlErr):
		setCode(gqlErr, fault.ValidationFailed)
		// Some of gqlparser's rules suggest names whatever the server's
		// setting; suggestions would map the schema introspection hides.
		if i := strings.Index(gqlErr.Message, " Did you mean "); i >= 0 {
			gqlErr.Message = gqlErr.Message[:i]
		}
		gqlErr.Message = withoutValues(gqlErr.Message)
		gqlErr.Message, gqlErr.Path = withoutVariableValues(gqlErr.Message, gqlErr.Path)
		if field := variableField(gqlErr.Path); field != "" {
			gqlErr.Extensions["field"] = field
		}
		// gqlgen quotes the operation name, which is not the document's.
		if strings.HasPrefix(gqlErr.Message, "operation ") && strings.HasSuffix(gqlErr.Message, " not found") {
			if gqlErr.Message == "operation  not found" {
				gqlErr.Message = "operationName: is required when the document has more than one operation"
			} else {
				gqlErr.Message = "operationName: the document has no operation of that name"
			}
			gqlErr.Extensions["field"] = "operationName"
		}
	case isLayerError(err):
		// Made by the GraphQL layer about the request (its transport,
		// persisted queries, entgql's pagination rules): the client's
		// to mend.
		setCode(gqlErr, fault.ValidationFailed)
	case errors.Is(err, classification.ErrNotAudited):
		slog.ErrorContext(ctx, "audit write failed: response withheld", "request_id", reqctx.From(ctx).ID, "error", err.Error())
		gqlErr.Message = "the access could not be recorded in the audit log, so nothing was served; try again shortly"
		gqlErr.Err = nil
		setCode(gqlErr, fault.Internal)
		gqlErr.Extensions["retryAfterSeconds"] = fault.ErrUnavailable.RetryAfterSeconds
	case store.IsUnavailable(err):
		slog.ErrorContext(ctx, "store unavailable", "request_id", reqctx.From(ctx).ID, "path", graphql.GetPath(ctx).String(), "error", err.Error())
		gqlErr.Message = fault.ErrUnavailable.Message
		gqlErr.Err = nil
		setCode(gqlErr, fault.Internal)
		gqlErr.Extensions["retryAfterSeconds"] = fault.ErrUnavailable.RetryAfterSeconds
	default:
		slog.ErrorContext(ctx, "internal error", "request_id", reqctx.From(ctx).ID, "path", graphql.GetPath(ctx).String(), "error", err.Error())
		gqlErr.Message = fault.ErrInternal.Message
		gqlErr.Err = nil
		setCode(gqlErr, fault.Internal)
	}
	if code, ok := gqlErr.Extensions["code"].(string); ok {
		metrics.Errors.WithLabelValues(code).Inc()
	}
	return gqlErr
}

var (
	quoted      = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	graphQLName = regexp.MustCompile(`^"[_A-Za-z][_0-9A-Za-z]*"$`)
)

// withoutValues drops from a parser or validation message every quoted
// value ("Unexpected Int \"739146\"", "found \"13812345678\""), which
// would repeat what the client sent, and keeps quoted names ("Cannot query
// field \"x\" on type \"User\""), which say where the document is wrong.
func withoutValues(msg string) string {
	return quoted.ReplaceAllStringFunc(msg, func(q string) string {
		if graphQLName.MatchString(q) {
			return q
		}
		return "<value>"
	})
}

var (
	notAValid   = regexp.MustCompile(`^.* is not a valid ([_0-9A-Za-z]+)$`)
	cannotUseAs = regexp.MustCompile(`^cannot use (?:value )?.* as ([_0-9A-Za-z]+)(?:: .*)?$`)
)

// withoutVariableValues rewrites gqlparser's coercion messages about a
// variable, which repeat its value unquoted ("13800000001 is not a valid
// ConsentPurpose"), and drops from the path an unknown field's name, a key
// of the client's object.
func withoutVariableValues(msg string, path ast.Path) (string, ast.Path) {
	if len(path) < 2 || path[0] != ast.PathName("variable") {
		return msg, path
	}
	if m := notAValid.FindStringSubmatch(msg); m != nil {
		return "is not a valid " + m[1], path
	}
	if m := cannotUseAs.FindStringSubmatch(msg); m != nil {
		return "cannot be used as " + m[1], path
	}
	if msg == "unknown field" {
		if _, ok := path[len(path)-1].(ast.PathName); ok && len(path) > 2 {
			return "has an unknown field", path[:len(path)-1]
		}
	}
	return msg, path
}

// isEmptyFilter reports whether err is entgql's refusal of an empty
// WhereInput (ent.ErrEmpty...WhereInput), for any type.
func isEmptyFilter(err error) bool {
	for ; err != nil; err = errors.Unwrap(err) {
		if strings.HasPrefix(err.Error(), "ent: empty predicate ") {
			return true
		}
	}
	return false
}

// badBody answers a request body that is not the GraphQL-over-HTTP shape.
const badBody = "the request body must be a JSON object: query (a string), and optionally operationName (a string), variables and extensions (objects)"

// isLayerError reports whether err was made by the GraphQL layer itself
// and wraps no other error: a *gqlerror.Error at the root of the chain.
// Errors of Veil's own code and of the store always wrap their cause.
func isLayerError(err error) bool {
	var ge *gqlerror.Error
	return errors.As(err, &ge) && ge.Err == nil
}

// isGraphQLRequestError reports whether gqlgen flagged the error as a
// problem with the request document or its variables.
func isGraphQLRequestError(e *gqlerror.Error) bool {
	if e.Extensions == nil {
		return false
	}
	code, _ := e.Extensions["code"].(string)
	return code == errcode.ValidationFailed || code == errcode.ParseFailed
}

// variableField names the variable a coercion error is about, in the
// notation of fault.Invalid: ["variable", "in", 0, "kind"] is "in[0].kind".
func variableField(path ast.Path) string {
	if len(path) < 2 || path[0] != ast.PathName("variable") {
		return ""
	}
	var b strings.Builder
	for _, el := range path[1:] {
		switch el := el.(type) {
		case ast.PathIndex:
			fmt.Fprintf(&b, "[%d]", int(el))
		case ast.PathName:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(string(el))
		}
	}
	return b.String()
}

// inputField names the argument or variable an input error is about:
// ["createOrder","input","listingId"] is "input.listingId".
func inputField(path ast.Path) string {
	if len(path) < 2 {
		return ""
	}
	if path[0] == ast.PathName("variable") {
		return variableField(path)
	}
	return variableField(append(ast.Path{ast.PathName("variable")}, path[1:]...))
}

func setCode(e *gqlerror.Error, c fault.Code) {
	if e.Extensions == nil {
		e.Extensions = map[string]any{}
	}
	e.Extensions["code"] = string(c)
}

// recoverPanic turns a resolver panic into a bare INTERNAL error; the
// panic value is logged, never sent.
func recoverPanic(ctx context.Context, v any) error {
	slog.ErrorContext(ctx, "panic in resolver", "request_id", reqctx.From(ctx).ID, "path", graphql.GetPath(ctx).String(), "panic", v)
	return fault.ErrInternal
}
