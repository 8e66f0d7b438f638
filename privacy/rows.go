package privacy

import (
	"context"
	"time"

	entsql "entgo.io/ent/dialect/sql"

	"veil/classification"
	"veil/ent"
	"veil/ent/intercept"
)

// The row rule decides which rows a viewer may know exist, from the
// record declarations of ent/schema, for every type and on every path:
// node, nodes, every connection, every edge and every count, because it
// is a traverser on the client that adds its predicate to every query of
// a GraphQL request, at every step of a traversal. A row it hides behaves
// as if it did not exist.
//
// A user (and the anonymous viewer, who is no one) sees:
//   - rows about themself (AllowSubject);
//   - rows about their ward while the ward's age gives the guardian a
//     power over them (AllowGuardian, from classification.GuardianPowers):
//     every row of a child under 14; the person and consent state of a
//     minor under 18;
//   - rows whose counterparty they are, and the person on the other side
//     (AllowCounterparty);
//   - public rows, and the people a public row exposes (a listing's
//     seller's public profile) (AllowPublic).
//
// Staff see every row of the types their role serves: a type is served
// when one of its classes may be read raw under a purpose the role may
// declare (AllowStaffRole); what each field shows is still decided per
// field. The system sees everything (AllowSystem); system rows are never
// served (DenySystemRows).

type filterKey struct{}

// filtering reports whether ctx is a GraphQL request whose queries the
// row rule filters.
func filtering(ctx context.Context) bool {
	on, _ := ctx.Value(filterKey{}).(bool)
	return on
}

// InDomainCode returns ctx for the resolver of a mutation: domain code
// (linking a child by phone, paying an order on a listing) looks rows up
// to decide, itself, whether the caller may act on them, so the row rule
// does not filter its queries. What the mutation returns is filtered again
// as its fields resolve, which they do under the request's own context.
//
// SECURITY: every domain function reached this way checks who may act on
// what (identity.ActingFor, trade's buyer checks, ...).
func InDomainCode(ctx context.Context) context.Context {
	return context.WithValue(ctx, filterKey{}, false)
}

// rowRule is the traverser that applies the row rule.
func rowRule() ent.Interceptor {
	return intercept.TraverseFunc(func(ctx context.Context, q intercept.Query) error {
		if !filtering(ctx) {
			return nil
		}
		if p := rowPredicate(classification.FromContext(ctx), q.Type(), nowFrom(ctx)); p != nil {
			q.WhereP(p)
		}
		return nil
	})
}

// rowPredicate returns the predicate that limits rows of typ to those v
// may see on day now, or nil for all of them.
func rowPredicate(v classification.Viewer, typ string, now time.Time) func(*entsql.Selector) {
	rec, declared := ent.Records[typ]
	switch {
	case !declared:
		// DenyUndeclared: codegen refuses such a type; fail closed anyway.
		return deny
	case v.IsSystem():
		// AllowSystem: the system's own processing sees every row.
		return nil
	case rec.Rows == classification.RowsPublic:
		// AllowPublic: public rows are for everyone.
		return nil
	case rec.Rows == classification.RowsSystem:
		// DenySystemRows: the system's bookkeeping is never served.
		return deny
	case v.IsStaff() && roleServes(v.Role, typ):
		// AllowStaffRole: staff see every row of the types they serve.
		return nil
	}
	cutoff := wardCutoff(rec, typ, now)
	return func(s *entsql.Selector) {
		var allow []*entsql.Predicate
		if rec.Rows == classification.RowsPerson {
			allow = append(allow, exposedPeople(s)...)
		}
		if v.SignedIn() {
			allow = append(allow, ownRows(s, rec, v.UserID, cutoff)...)
		}
		if len(allow) == 0 {
			s.Where(entsql.False())
			return
		}
		s.Where(entsql.Or(allow...))
	}
}

func deny(s *entsql.Selector) { s.Where(entsql.False()) }

// ownRows are the predicates of the rows of rec's type that are about
// viewer, their ward born after cutoff, or a counterparty relation of
// viewer's.
func ownRows(s *entsql.Selector, rec classification.Record, viewer int, cutoff string) []*entsql.Predicate {
	if rec.Rows == classification.RowsPerson {
		// A person is their own subject; a ward is a person whose guardian
		// is the viewer.
		allow := []*entsql.Predicate{entsql.EQ(s.C("id"), viewer), ward(s.C, viewer, cutoff)}
		return append(allow, counterparts(s, viewer)...)
	}
	users := entsql.Table(ent.Tables["User"])
	wards := entsql.Dialect(s.Dialect()).Select(users.C("id")).From(users).Where(ward(users.C, viewer, cutoff))
	allow := []*entsql.Predicate{
		entsql.EQ(s.C(rec.Subject), viewer),
		entsql.In(s.C(rec.Subject), wards),
	}
	if rec.Counterparty != "" {
		allow = append(allow, entsql.EQ(s.C(rec.Counterparty), viewer))
	}
	return allow
}

// ward holds for a user row (its columns qualified by column) whose
// guardian is viewer and who was born after cutoff.
func ward(column func(string) string, viewer int, cutoff string) *entsql.Predicate {
	return entsql.And(entsql.EQ(column("guardian_id"), viewer), entsql.GT(column("birth_date"), cutoff))
}

// counterparts are the people on the other side of a row that has a
// counterparty (the buyer of an order the viewer sells, its seller).
func counterparts(s *entsql.Selector, viewer int) []*entsql.Predicate {
	b := entsql.Dialect(s.Dialect())
	var allow []*entsql.Predicate
	for _, typ := range ent.RecordTypes {
		rec := ent.Records[typ]
		if rec.Counterparty == "" {
			continue
		}
		t := entsql.Table(ent.Tables[typ])
		allow = append(allow,
			entsql.In(s.C("id"), b.Select(t.C(rec.Subject)).From(t).Where(entsql.EQ(t.C(rec.Counterparty), viewer))),
			entsql.In(s.C("id"), b.Select(t.C(rec.Counterparty)).From(t).Where(entsql.EQ(t.C(rec.Subject), viewer))),
		)
	}
	return allow
}

// exposedPeople are the people whose public profile a public row makes
// public (the seller of a listing).
func exposedPeople(s *entsql.Selector) []*entsql.Predicate {
	b := entsql.Dialect(s.Dialect())
	var allow []*entsql.Predicate
	for _, typ := range ent.RecordTypes {
		rec := ent.Records[typ]
		t := entsql.Table(ent.Tables[typ])
		for _, column := range rec.Exposes {
			allow = append(allow, entsql.In(s.C("id"), b.Select(t.C(column)).From(t)))
		}
	}
	return allow
}

// wardCutoff is the birth date after which a guardian sees rows of typ
// about their ward on day now (in Beijing time, as
// classification.AgeGroupOf counts it): the age under which they hold the
// power to read them raw, or, for the ward's person and for rows the
// guardian of a minor is shown (consents), to manage the consents.
func wardCutoff(rec classification.Record, typ string, now time.Time) string {
	power := classification.ReadRaw
	if rec.Rows == classification.RowsPerson || shownToGuardians(typ) {
		power = classification.ManageConsents
	}
	age := classification.WardAge(power)
	return now.In(classification.ChinaTime).AddDate(-age, 0, 0).Format(classification.BirthDateLayout)
}

// shownToGuardians reports whether a class of typ is shown to the
// guardian of a minor.
func shownToGuardians(typ string) bool {
	for _, name := range ent.Classes[typ] {
		if c, ok := classification.Lookup(name); ok && c.ShownToGuardians {
			return true
		}
	}
	return false
}

// roleServes reports whether staff of role serve rows of typ: one of the
// type's classes may be read raw under a purpose the role may declare.
func roleServes(role classification.Role, typ string) bool {
	for _, name := range ent.Classes[typ] {
		c, ok := classification.Lookup(name)
		if !ok {
			continue
		}
		for _, p := range c.StaffPurposes {
			if role.MayDeclare(p) {
				return true
			}
		}
	}
	return false
}
