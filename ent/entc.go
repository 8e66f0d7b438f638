//go:build ignore

// Command entc generates the Ent client and the Ent half of the GraphQL
// schema (ent.graphql). Run it through `go generate ./...`.
package main

import (
	"log"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"

	"veil/classification/codegen"
)

func main() {
	ex, err := entgql.NewExtension(
		entgql.WithSchemaGenerator(),
		entgql.WithWhereInputs(true),
		entgql.WithConfigPath("../gqlgen.yml"),
		entgql.WithSchemaPath("../ent.graphql"),
		entgql.WithSchemaHook(codegen.SchemaHook),
	)
	if err != nil {
		log.Fatalf("entgql: %v", err)
	}
	err = entc.Generate("./schema", &gen.Config{
		Features: []gen.Feature{gen.FeatureUpsert, gen.FeatureLock, gen.FeatureIntercept, gen.FeatureExecQuery},
		Hooks:    []gen.Hook{codegen.Hook()},
	}, entc.Extensions(ex), entc.TemplateFiles("template/classes.tmpl", "template/sealed.tmpl"))
	if err != nil {
		log.Fatalf("entc: %v", err)
	}
}
