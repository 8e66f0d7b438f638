package classification

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// DirectiveName is the GraphQL directive that carries a field's class:
//
//	directive @classified(class: String!) on FIELD_DEFINITION
const DirectiveName = "classified"

// ExtensionKey is the response extension that lists withheld values.
const ExtensionKey = "withheld"

// Access is one audited raw read: a class of a subject's data.
type Access struct {
	SubjectID int
	Class     string
}

// SubjectFunc tells the enforcer whom a parent object is about.
type SubjectFunc func(ctx context.Context, obj any) (Subject, error)

// AccessRecorder writes audited accesses; the request fails if it fails.
type AccessRecorder interface {
	RecordAccesses(ctx context.Context, v Viewer, accesses []Access) error
}

// ErrNotAudited is the error of a response withheld because its audited
// accesses could not be recorded.
var ErrNotAudited = errors.New("classification: the access could not be audited")

// ErrUnclassified is returned for a field whose class is unknown: the
// field is withheld rather than served unchecked.
var ErrUnclassified = errors.New("classification: field has no known class")

// Enforcer applies decisions to every @classified field. It is a gqlgen
// handler extension (it reports withheld values and flushes audited
// accesses once per response) and provides the directive implementation.
type Enforcer struct {
	// Subject resolves the subject of a parent object.
	Subject SubjectFunc
	// Recorder, when set, receives the audited accesses of each response.
	Recorder AccessRecorder
}

var (
	_ graphql.HandlerExtension    = (*Enforcer)(nil)
	_ graphql.ResponseInterceptor = (*Enforcer)(nil)
)

// ExtensionName implements graphql.HandlerExtension.
func (e *Enforcer) ExtensionName() string { return "Classification" }

// Validate implements graphql.HandlerExtension: the server refuses to start
// when a field of an object type has no class or names an unknown one.
func (e *Enforcer) Validate(es graphql.ExecutableSchema) error {
	if e.Subject == nil {
		return errors.New("classification: Enforcer.Subject is not set")
	}
	return CheckSchema(es.Schema())
}

// CheckSchema returns an error naming every field of a data type that lacks
// a known class. Root operation types, connections, edges, payloads and
// introspection types are structural and need none.
func CheckSchema(s *ast.Schema) error {
	var problems []error
	for _, def := range s.Types {
		if !IsDataType(s, def) {
			continue
		}
		for _, f := range def.Fields {
			if _, err := FieldClass(f); err != nil {
				problems = append(problems, fmt.Errorf("%s.%s: %w", def.Name, f.Name, err))
			}
		}
	}
	sort.Slice(problems, func(i, j int) bool { return problems[i].Error() < problems[j].Error() })
	return errors.Join(problems...)
}

// IsDataType reports whether def is an object type that carries data about
// someone, as opposed to a structural type.
func IsDataType(s *ast.Schema, def *ast.Definition) bool {
	if def.Kind != ast.Object || def.BuiltIn || len(def.Name) > 1 && def.Name[:2] == "__" {
		return false
	}
	if def == s.Query || def == s.Mutation || def == s.Subscription || def.Name == "PageInfo" {
		return false
	}
	for _, suffix := range []string{"Connection", "Edge", "Payload"} {
		if len(def.Name) > len(suffix) && def.Name[len(def.Name)-len(suffix):] == suffix {
			return false
		}
	}
	return true
}

// FieldClass returns the class named by a field's @classified directive.
func FieldClass(f *ast.FieldDefinition) (*Class, error) {
	d := f.Directives.ForName(DirectiveName)
	if d == nil {
		return nil, errors.New("no @classified directive")
	}
	arg := d.Arguments.ForName("class")
	if arg == nil || arg.Value == nil {
		return nil, errors.New("@classified without a class")
	}
	c, ok := Lookup(arg.Value.Raw)
	if !ok {
		return nil, fmt.Errorf("unknown class %q", arg.Value.Raw)
	}
	return c, nil
}

// InterceptResponse implements graphql.ResponseInterceptor.
func (e *Enforcer) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	st := &requestState{viewer: FromContext(ctx)}
	resp := next(context.WithValue(ctx, stateKey{}, st))
	if resp == nil {
		return resp
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.accesses) > 0 && e.Recorder != nil {
		accesses := make([]Access, 0, len(st.accesses))
		for a := range st.accesses {
			accesses = append(accesses, a)
		}
		sort.Slice(accesses, func(i, j int) bool {
			if accesses[i].SubjectID != accesses[j].SubjectID {
				return accesses[i].SubjectID < accesses[j].SubjectID
			}
			return accesses[i].Class < accesses[j].Class
		})
		if err := e.Recorder.RecordAccesses(ctx, st.viewer, accesses); err != nil {
			// Fail closed: data whose access could not be audited is not
			// served. The error goes through the server's presenter.
			graphql.AddError(ctx, fmt.Errorf("%w: %w", ErrNotAudited, err))
			return &graphql.Response{Errors: graphql.GetErrors(ctx)}
		}
	}
	if st.hidden > 0 {
		// An error may have nulled objects around values noted as
		// withheld: the report then names only what the data holds.
		var data any
		if len(resp.Errors) > 0 && json.Unmarshal(resp.Data, &data) != nil {
			data = nil
		}
		if report := st.report(data, len(resp.Errors) > 0); len(report) > 0 {
			if resp.Extensions == nil {
				resp.Extensions = map[string]any{}
			}
			resp.Extensions[ExtensionKey] = report
		}
	}
	return resp
}

// Directive is the implementation of @classified. It decides before the
// field resolver runs, so a withheld value is never even loaded.
func (e *Enforcer) Directive(ctx context.Context, obj any, next graphql.Resolver, class string) (any, error) {
	c, ok := Lookup(class)
	if !ok {
		return nil, ErrUnclassified
	}
	if c.Level == Public {
		return next(ctx)
	}
	s, err := e.Subject(ctx, obj)
	if err != nil {
		return nil, err
	}
	st, _ := ctx.Value(stateKey{}).(*requestState)
	var v Viewer
	if st != nil {
		v = st.viewer
	} else {
		v = FromContext(ctx)
	}
	d := Decide(v, s, c)
	if d.Action == Raw {
		if st != nil {
			if d.Audited {
				st.access(Access{SubjectID: s.UserID, Class: c.Name})
			}
			// Noted so that a list's report can name it as the exception
			// to a wildcard.
			st.withhold(graphql.GetFieldContext(ctx), c, Raw)
		}
		return next(ctx)
	}
	return withhold(ctx, next, st, c, d.Action)
}

// withhold serves a value masked, or null, and notes it in the report.
func withhold(ctx context.Context, next graphql.Resolver, st *requestState, c *Class, a Action) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if a == Mask && (c.Mask == nil || !isString(fc)) {
		a = Withhold
	}
	if a == Withhold {
		st.withhold(fc, c, Withhold)
		return nil, nil
	}
	res, err := next(ctx)
	if err != nil || isNil(res) {
		// An absent value reads as absent: there is nothing to hide.
		st.withhold(fc, c, Raw)
		return res, err
	}
	masked, shown := maskValue(res, c.Mask)
	if !shown {
		a = Withhold
	}
	st.withhold(fc, c, a)
	return masked, nil
}

func isString(fc *graphql.FieldContext) bool {
	if fc == nil || fc.Field.Definition == nil {
		return false
	}
	t := fc.Field.Definition.Type
	return t.Elem == nil && t.NamedType == "String"
}

func isNil(res any) bool {
	p, ok := res.(*string)
	return res == nil || ok && p == nil
}

// maskValue masks a string or non-nil *string resolver result, keeping its
// Go type; shown is false when the masker shows nothing (null).
func maskValue(res any, m Masker) (masked any, shown bool) {
	switch v := res.(type) {
	case string:
		if s, ok := m(v); ok {
			return s, true
		}
	case *string:
		if s, ok := m(*v); ok {
			return &s, true
		}
	}
	return nil, false
}

type stateKey struct{}

// requestState is one response's viewer and what it withheld and must
// audit.
type requestState struct {
	viewer Viewer
	mu     sync.Mutex
	// withheld holds every classified value served, raw ones included;
	// hidden counts those that were not served raw.
	withheld []withheldField
	hidden   int
	accesses map[Access]struct{}
}

type withheldField struct {
	fc     *graphql.FieldContext
	class  *Class
	action Action
}

// withhold notes a classified value served, and what the viewer got of
// it; its path is worked out in report.
func (st *requestState) withhold(fc *graphql.FieldContext, c *Class, a Action) {
	if st == nil || fc == nil {
		return
	}
	st.mu.Lock()
	st.withheld = append(st.withheld, withheldField{fc, c, a})
	if a != Raw {
		st.hidden++
	}
	st.mu.Unlock()
}

func (st *requestState) access(a Access) {
	st.mu.Lock()
	if st.accesses == nil {
		st.accesses = map[Access]struct{}{}
	}
	st.accesses[a] = struct{}{}
	st.mu.Unlock()
}
