package classification

import (
	"encoding/json"
	"fmt"

	"entgo.io/ent/schema"
)

// AnnotationName is the key of the class annotation in Ent's annotation maps.
const AnnotationName = "Classification"

// Annotation tags an Ent field or edge with its class. Only exported,
// JSON-tagged fields survive Ent codegen, hence the class is kept by name.
type Annotation struct {
	Class string `json:"class"`
}

var _ schema.Annotation = Annotation{}

// Name implements schema.Annotation.
func (Annotation) Name() string { return AnnotationName }

// Tag returns the annotation that tags a field or edge with class c:
//
//	field.String("id_number").Annotations(classification.Tag(classification.GovernmentID))
func Tag(c *Class) Annotation { return Annotation{Class: c.Name} }

// ClassOf returns the class in an Ent annotation map, as codegen sees it
// (a decoded JSON map) or as the schema declares it (an Annotation).
func ClassOf(annotations map[string]any) (*Class, error) {
	raw, ok := annotations[AnnotationName]
	if !ok {
		return nil, fmt.Errorf("no privacy class")
	}
	var a Annotation
	buf, err := json.Marshal(raw)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(buf, &a); err != nil {
		return nil, err
	}
	c, ok := Lookup(a.Class)
	if !ok {
		return nil, fmt.Errorf("unknown privacy class %q", a.Class)
	}
	return c, nil
}
