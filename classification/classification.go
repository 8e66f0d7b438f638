// Package classification is Veil's privacy engine: the sensitivity classes
// every stored or served field carries, the maskers, the viewer kept in the
// request context, and the one pure function that decides, for a viewer, a
// subject and a class, whether a value is shown raw, masked or not at all.
//
// The package depends on nothing generated, so Ent schemas can import it
// for their annotations without forming a codegen cycle.
package classification
