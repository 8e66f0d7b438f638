// Package codegen turns the privacy classes on Ent schemas into generated
// code: it fails generation when a field or edge has no class, keeps
// non-public fields out of GraphQL filters and ordering, and writes each
// field's class into the generated GraphQL schema as @classified, where the
// classification engine finds it at run time. It is used only by ent/entc.go.
package codegen

import (
	"errors"
	"fmt"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/entc/gen"
	"entgo.io/ent/schema/field"
	"github.com/vektah/gqlparser/v2/ast"

	"veil/classification"
)

var camel = gen.Funcs["camel"].(func(string) string)

// Hook checks every field and edge of every Ent type before generation and
// keeps non-public ones out of the generated WhereInput types, so that no
// viewer can probe a withheld value through a filter.
func Hook() gen.Hook {
	return func(next gen.Generator) gen.Generator {
		return gen.GenerateFunc(func(g *gen.Graph) error {
			var problems []error
			for _, t := range g.Nodes {
				if err := checkRecord(t); err != nil {
					problems = append(problems, err)
				}
				for _, f := range t.Fields {
					if err := checkField(t, f); err != nil {
						problems = append(problems, err)
					}
				}
				for _, e := range t.Edges {
					if err := checkEdge(t, e); err != nil {
						problems = append(problems, err)
					}
				}
			}
			problems = append(problems, checkCategories(g)...)
			if err := errors.Join(problems...); err != nil {
				return err
			}
			return next.Generate(g)
		})
	}
}

// checkRecord refuses a type that does not declare whom its rows are
// about (classification.Record), or declares it wrongly.
func checkRecord(t *gen.Type) error {
	r, err := classification.RecordOf(t.Annotations)
	if err != nil {
		return fmt.Errorf("%s: %w", t.Name, err)
	}
	fields := make([]string, len(t.Fields))
	for i, f := range t.Fields {
		fields[i] = f.Name
	}
	if err := r.Check(fields); err != nil {
		return fmt.Errorf("%s: record declaration: %w", t.Name, err)
	}
	return nil
}

// checkCategories makes every deletion category belong to exactly one
// type.
func checkCategories(g *gen.Graph) []error {
	owner := map[string]string{}
	var problems []error
	for _, t := range g.Nodes {
		r, err := classification.RecordOf(t.Annotations)
		if err != nil || r.Category == "" {
			continue
		}
		if other, dup := owner[r.Category]; dup {
			problems = append(problems, fmt.Errorf("deletion category %s is declared by both %s and %s", r.Category, other, t.Name))
		}
		owner[r.Category] = t.Name
	}
	for _, c := range classification.DataCategories {
		if owner[c] == "" {
			problems = append(problems, fmt.Errorf("deletion category %s is declared by no type", c))
		}
	}
	return problems
}

func checkField(t *gen.Type, f *gen.Field) error {
	c, err := classification.ClassOf(f.Annotations)
	if err != nil {
		return fmt.Errorf("%s.%s: %w: tag it with classification.Tag", t.Name, f.Name, err)
	}
	ant, err := gqlAnnotation(f.Annotations)
	if err != nil {
		return err
	}
	switch {
	case c.NeverStored:
		return fmt.Errorf("%s.%s: class %s must never be persisted", t.Name, f.Name, c.Name)
	case c.Level == classification.Secret && !f.Sensitive() && !ant.Skip.Is(entgql.SkipType):
		return fmt.Errorf("%s.%s: secret field must be Sensitive() or skipped from GraphQL", t.Name, f.Name)
	case c.Level != classification.Public && ant.OrderField != "":
		return fmt.Errorf("%s.%s: class %s is not public and cannot be an order field", t.Name, f.Name, c.Name)
	case c.EncryptedAtRest && (f.Type.Type == field.TypeString || f.Type.Type == field.TypeFloat64) && !f.HasValueScanner():
		return fmt.Errorf("%s.%s: class %s is encrypted at rest: use crypt.String or crypt.Float as its ValueScanner", t.Name, f.Name, c.Name)
	case f.HasValueScanner() && !c.EncryptedAtRest:
		// ent/template/sealed.tmpl decodes every ValueScanner field as
		// encrypted, sealed to its row.
		return fmt.Errorf("%s.%s: a ValueScanner is only for fields of classes encrypted at rest (class %s is not)", t.Name, f.Name, c.Name)
	case f.HasValueScanner() && f.Nillable:
		return fmt.Errorf("%s.%s: an encrypted field cannot be Nillable (Ent does not support it): make it Optional", t.Name, f.Name)
	}
	if c.Level != classification.Public {
		ant.Skip |= entgql.SkipWhereInput
		f.Annotations[ant.Name()] = ant
	}
	return nil
}

func checkEdge(t *gen.Type, e *gen.Edge) error {
	c, err := classification.ClassOf(e.Annotations)
	if err != nil {
		return fmt.Errorf("%s.%s (edge): %w: tag it with classification.Tag", t.Name, e.Name, err)
	}
	if c.Level == classification.Public {
		return nil
	}
	ant, err := gqlAnnotation(e.Annotations)
	if err != nil {
		return err
	}
	ant.Skip |= entgql.SkipWhereInput
	if e.Annotations == nil {
		e.Annotations = gen.Annotations{}
	}
	e.Annotations[ant.Name()] = ant
	return nil
}

func gqlAnnotation(ants gen.Annotations) (*entgql.Annotation, error) {
	ant := &entgql.Annotation{}
	if raw, ok := ants[ant.Name()]; ok && raw != nil {
		if err := ant.Decode(raw); err != nil {
			return nil, err
		}
	}
	return ant, nil
}

// SchemaHook writes @classified(class: ...) on every GraphQL field generated
// from an Ent field or edge (the Relay id is public), and makes non-public
// fields nullable so that a withheld value can be served as null.
func SchemaHook(g *gen.Graph, s *ast.Schema) error {
	s.Directives[classification.DirectiveName] = &ast.DirectiveDefinition{
		Name:        classification.DirectiveName,
		Description: "The privacy class of a field; the server masks or withholds it per viewer.",
		Arguments: ast.ArgumentDefinitionList{{
			Name: "class", Type: ast.NonNullNamedType("String", nil),
		}},
		Locations: []ast.DirectiveLocation{ast.LocationFieldDefinition},
	}
	for _, t := range g.Nodes {
		dropIDOrdering(s.Types[t.Name+"WhereInput"])
		def := s.Types[t.Name]
		if def == nil {
			continue
		}
		classify(def, "id", classification.PublicData)
		for _, f := range t.Fields {
			c, err := classification.ClassOf(f.Annotations)
			if err != nil {
				return err
			}
			ant, err := gqlAnnotation(f.Annotations)
			if err != nil {
				return err
			}
			names := ant.Mapping
			if len(names) == 0 {
				names = []string{camel(f.Name)}
			}
			for _, n := range names {
				classify(def, n, c)
			}
		}
		for _, e := range t.Edges {
			c, err := classification.ClassOf(e.Annotations)
			if err != nil {
				return err
			}
			classify(def, camel(e.Name), c)
		}
	}
	return nil
}

func classify(def *ast.Definition, field string, c *classification.Class) {
	fd := def.Fields.ForName(field)
	if fd == nil {
		return
	}
	fd.Directives = append(fd.Directives, &ast.Directive{
		Name: classification.DirectiveName,
		Arguments: ast.ArgumentList{{
			Name:  "class",
			Value: &ast.Value{Kind: ast.StringValue, Raw: c.Name},
		}},
	})
	if c.Level != classification.Public {
		fd.Type.NonNull = false
	}
}

// dropIDOrdering removes the idGT, idGTE, idLT and idLTE filters from a
// WhereInput: global IDs are opaque, and comparing one with the rows of a
// public type would tell its type and its place in the sequence.
func dropIDOrdering(def *ast.Definition) {
	if def == nil {
		return
	}
	kept := def.Fields[:0]
	for _, f := range def.Fields {
		switch f.Name {
		case "idGT", "idGTE", "idLT", "idLTE":
			continue
		}
		kept = append(kept, f)
	}
	def.Fields = kept
}
