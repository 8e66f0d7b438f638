package classification

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
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

// Withheld reports one value a viewer did not get raw, so a client can tell
// "withheld" from "empty". It names the class, never the value.
type Withheld struct {
	// Path is the value's response path, encoded as a JSON array:
	// ["users","edges",0,"node","phone"].
	Path     json.RawMessage `json:"path"`
	Class    string          `json:"class"`
	Decision string          `json:"decision"`
}

// WithheldList is the value of the withheld extension. It encodes itself
// without reflection: a list holds an entry per withheld value, so it can
// be long.
type WithheldList []Withheld

// MarshalJSON implements json.Marshaler.
func (l WithheldList) MarshalJSON() ([]byte, error) {
	n := 2
	for _, w := range l {
		n += len(w.Path) + len(w.Class) + 64
	}
	buf := make([]byte, 0, n)
	buf = append(buf, '[')
	for i, w := range l {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, `{"path":`...)
		buf = append(buf, w.Path...)
		buf = append(buf, `,"class":`...)
		buf = appendJSONString(buf, w.Class)
		buf = append(buf, `,"decision":`...)
		buf = appendJSONString(buf, w.Decision)
		buf = append(buf, '}')
	}
	return append(buf, ']'), nil
}

// appendPath appends fc's response path as a JSON array, as
// graphql.FieldContext.Path would give it, without building the path.
func appendPath(buf []byte, fc *graphql.FieldContext) []byte {
	var stack [32]*graphql.FieldContext
	chain := stack[:0]
	for it := fc; it != nil; it = it.Parent {
		if it.Index != nil || it.Field.Field != nil {
			chain = append(chain, it)
		}
	}
	buf = append(buf, '[')
	for i := len(chain) - 1; i >= 0; i-- {
		if i < len(chain)-1 {
			buf = append(buf, ',')
		}
		if it := chain[i]; it.Index != nil {
			buf = strconv.AppendInt(buf, int64(*it.Index), 10)
		} else {
			buf = appendJSONString(buf, it.Field.Alias)
		}
	}
	return append(buf, ']')
}

// appendJSONString appends s as a JSON string. GraphQL names and class
// names need no escaping; anything else goes through encoding/json.
func appendJSONString(buf []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			quoted, _ := json.Marshal(s)
			return append(buf, quoted...)
		}
	}
	buf = append(buf, '"')
	buf = append(buf, s...)
	return append(buf, '"')
}

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
	if len(st.withheld) > 0 {
		if resp.Extensions == nil {
			resp.Extensions = map[string]any{}
		}
		resp.Extensions[ExtensionKey] = st.report()
	}
	return resp
}

// report lists what was withheld, sorted by path (fields resolve
// concurrently, so they were noted in no particular order). The paths
// share one buffer.
func (st *requestState) report() WithheldList {
	buf := make([]byte, 0, 64*len(st.withheld))
	ends := make([]int, len(st.withheld))
	for i, w := range st.withheld {
		buf = appendPath(buf, w.fc)
		ends[i] = len(buf)
	}
	list := make(WithheldList, len(st.withheld))
	start := 0
	for i, w := range st.withheld {
		list[i] = Withheld{Path: buf[start:ends[i]:ends[i]], Class: w.class.Name, Decision: w.action.String()}
		start = ends[i]
	}
	sort.Slice(list, func(i, j int) bool { return bytes.Compare(list[i].Path, list[j].Path) < 0 })
	return list
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
		if d.Audited && st != nil {
			st.access(Access{SubjectID: s.UserID, Class: c.Name})
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
	viewer   Viewer
	mu       sync.Mutex
	withheld []withheldField
	accesses map[Access]struct{}
}

type withheldField struct {
	fc     *graphql.FieldContext
	class  *Class
	action Action
}

// withhold notes a withheld value; its path is worked out in report.
func (st *requestState) withhold(fc *graphql.FieldContext, c *Class, a Action) {
	if st == nil || fc == nil {
		return
	}
	st.mu.Lock()
	st.withheld = append(st.withheld, withheldField{fc, c, a})
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
