package classification

import (
	"context"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

var sink Decision

// BenchmarkDecide decides every class for every kind of viewer.
func BenchmarkDecide(b *testing.B) {
	viewers := []Viewer{
		Anonymous,
		{UserID: 1, Role: RoleUser},
		{UserID: 2, Role: RoleUser},
		{UserID: 3, Role: RoleSupport, Purpose: AfterSales},
		{UserID: 4, Role: RoleRisk},
	}
	subject := Subject{UserID: 1, AgeGroup: AgeAdult, CounterpartyID: 2, OrderOpen: true}
	b.ReportAllocs()
	for b.Loop() {
		for _, v := range viewers {
			for _, c := range All {
				sink = Decide(v, subject, c)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(viewers)*len(All)), "ns/decision")
}

var masked string

// BenchmarkMaskers runs each masker on a typical value.
func BenchmarkMaskers(b *testing.B) {
	for name, m := range map[string]struct {
		mask Masker
		in   string
	}{
		"phone": {MaskPhone, "13812341234"}, "name": {MaskName, "欧阳娜娜"}, "id": {MaskIDNumber, "11010519491231002X"},
		"account": {MaskAccount, "6222021234567890123"}, "device": {MaskDeviceID, "867530901234567"},
		"ip": {MaskIP, "203.0.113.45"}, "address": {MaskAddress, "北京市朝阳区建国路88号"}, "birth": {MaskBirthDate, "1990-05-12"},
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				masked, _ = m.mask(m.in)
			}
		})
	}
}

// BenchmarkDirective resolves 50 users x 10 classified fields through the
// @classified directive as a stranger (so values are masked and reported),
// and the same 500 fields straight, in the same run; it reports both and
// their ratio.
func BenchmarkDirective(b *testing.B) {
	classes := []*Class{PublicProfile, PublicProfile, Contact, RealName, GovernmentID, BirthDate, Internal, Internal, DeviceID, Location}
	e := &Enforcer{Subject: func(context.Context, any) (Subject, error) {
		return Subject{UserID: 1, AgeGroup: AgeAdult}, nil
	}}
	v := Viewer{UserID: 2, Role: RoleUser}
	fc := &graphql.FieldContext{Field: graphql.CollectedField{Field: &ast.Field{Alias: "f", Name: "f",
		Definition: &ast.FieldDefinition{Name: "f", Type: ast.NamedType("String", nil)}}}}
	next := func(context.Context) (any, error) { return "13812341234", nil }
	run := func(classified bool) {
		ctx := context.WithValue(NewContext(context.Background(), v), stateKey{}, &requestState{})
		ctx = graphql.WithFieldContext(ctx, fc)
		for range 50 {
			for _, c := range classes {
				if classified {
					e.Directive(ctx, nil, next, c.Name)
				} else {
					next(ctx)
				}
			}
		}
	}
	b.ReportAllocs()
	var withNs, withoutNs int64
	for b.Loop() {
		start := b.Elapsed()
		run(true)
		mid := b.Elapsed()
		run(false)
		withNs += int64(mid - start)
		withoutNs += int64(b.Elapsed() - mid)
	}
	b.ReportMetric(float64(withNs)/float64(b.N), "ns/list-classified")
	b.ReportMetric(float64(withoutNs)/float64(b.N), "ns/list-baseline")
}
