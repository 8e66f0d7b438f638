package graph

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"veil/classification"
	"veil/fault"
)

// Documents is the allow-list of trusted documents: the GraphQL documents
// an app's released clients send, registered at build time as the .graphql
// files of one directory (the file's name, without .graphql, is the
// document's name). With a list, clients send a document's ID instead of
// its text, and the server refuses every other document except from staff
// (the console's users); without one, clients may send any document, and
// automatic persisted queries are on.
type Documents struct {
	byID   map[string]*Document
	byText map[string]*Document
	list   []*Document
}

// Document is a registered document.
type Document struct {
	// Name is the file's name without .graphql: the document's label in
	// the metrics.
	Name string
	// ID is "sha256:" and the hex SHA-256 of Text, as clients send it.
	ID   string
	Text string
}

// DocumentID returns the ID of a document's text.
func DocumentID(text string) string {
	sum := sha256.Sum256([]byte(text))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// documentName is what a registered document may be called: it becomes a
// metrics label.
var documentName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,63}$`)

// CheckDocument parses and validates text, named name, against the schema.
func CheckDocument(name, text string) error {
	if !documentName.MatchString(name) {
		return fmt.Errorf("%q: a document's name is a letter, then up to 63 letters, digits, '-' or '_'", name)
	}
	if _, errs := gqlparser.LoadQueryWithRules(NewExecutableSchema(Config{}).Schema(), text, nil); errs != nil {
		return fmt.Errorf("%s: %v", name, errs)
	}
	return nil
}

// LoadDocuments reads every .graphql file of dir and checks each against
// the schema: a document that does not validate stops the server at start,
// not a client in production.
func LoadDocuments(dir string) (*Documents, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.graphql"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("documents: %s holds no .graphql file", dir)
	}
	d := &Documents{byID: map[string]*Document{}, byText: map[string]*Document{}}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		doc := &Document{Name: strings.TrimSuffix(filepath.Base(f), ".graphql"), Text: string(b), ID: DocumentID(string(b))}
		if err := CheckDocument(doc.Name, doc.Text); err != nil {
			return nil, fmt.Errorf("documents: %w", err)
		}
		if same := d.byID[doc.ID]; same != nil {
			return nil, fmt.Errorf("documents: %s and %s are the same document", same.Name, doc.Name)
		}
		d.byID[doc.ID], d.byText[doc.Text] = doc, doc
		d.list = append(d.list, doc)
	}
	sort.Slice(d.list, func(i, j int) bool { return d.list[i].Name < d.list[j].Name })
	return d, nil
}

// List returns the registered documents by name.
func (d *Documents) List() []*Document { return d.list }

// named returns the registered document of text, or nil.
func (d *Documents) named(text string) *Document {
	if d == nil {
		return nil
	}
	return d.byText[text]
}

// trustedDocuments is the handler extension of an allow-list: it puts the
// text of the document a request names in place, and refuses documents
// that are not registered unless staff send them. With no list (docs
// nil), it only refuses a documentId, which would name nothing.
type trustedDocuments struct{ docs *Documents }

var (
	_ graphql.HandlerExtension          = trustedDocuments{}
	_ graphql.OperationParameterMutator = trustedDocuments{}
)

func (trustedDocuments) ExtensionName() string                   { return "TrustedDocuments" }
func (trustedDocuments) Validate(graphql.ExecutableSchema) error { return nil }

func (t trustedDocuments) MutateOperationParameters(ctx context.Context, raw *graphql.RawParams) *gqlerror.Error {
	if t.docs == nil {
		// No list: documents are free, and automatic persisted queries
		// (the next extension) handle their hashes.
		if _, ok := raw.Extensions[documentIDKey]; ok {
			delete(raw.Extensions, documentIDKey)
			return coded(fault.Invalid("documentId", "this server has no registered documents: send the query"))
		}
		return nil
	}
	ref, err := requestedDocument(raw)
	if err != nil {
		return coded(err)
	}
	if ref.ID != "" {
		doc := t.docs.byID[ref.ID]
		switch {
		case doc == nil:
			return coded(fault.Invalid(ref.field, "is not a registered document"))
		case raw.Query != "" && raw.Query != doc.Text:
			return coded(fault.Invalid("query", "is not the registered document "+ref.field+" names"))
		}
		raw.Query = doc.Text
		delete(raw.Extensions, "persistedQuery")
		return nil
	}
	if t.docs.byText[raw.Query] != nil {
		return nil
	}
	if classification.FromContext(ctx).IsStaff() {
		// The console: staff write their own queries, each read as their
		// role and declared purpose allow, and audited.
		return nil
	}
	return coded(fault.New(fault.Forbidden, "this server accepts registered documents only: send the documentId of one"))
}

// requestedDocument returns the document raw names, if any: a documentId
// (which the transport puts in the extensions), or the SHA-256 of an
// automatic persisted query.
func requestedDocument(raw *graphql.RawParams) (documentRef, error) {
	if v, ok := raw.Extensions[documentIDKey]; ok {
		delete(raw.Extensions, documentIDKey)
		ref, ok := v.(documentRef)
		if !ok {
			// Only the transport sets it; a client's extensions may not.
			return documentRef{}, fault.Invalid("extensions", documentIDKey+" is reserved")
		}
		ref.ID = strings.ToLower(ref.ID)
		if !strings.HasPrefix(ref.ID, "sha256:") {
			return documentRef{}, fault.Invalid("documentId", `must be "sha256:" and the document's SHA-256 in hex`)
		}
		return ref, nil
	}
	pq, ok := raw.Extensions["persistedQuery"].(map[string]any)
	if !ok {
		return documentRef{}, nil
	}
	hash, _ := pq["sha256Hash"].(string)
	if hash == "" {
		return documentRef{}, fault.Invalid("extensions.persistedQuery.sha256Hash", "is required")
	}
	return documentRef{"sha256:" + strings.ToLower(hash), "extensions.persistedQuery.sha256Hash"}, nil
}

// documentRef is the ID of the document a request names, and the field it
// came in; a type of its own, so that no client's extensions can pass for
// one.
type documentRef struct{ ID, field string }

// documentIDKey is where the transport passes a request's documentId
// (GraphQL over HTTP's persisted documents) on to the extensions.
const documentIDKey = "veil.documentId"

func coded(err error) *gqlerror.Error {
	var fe *fault.Error
	if !errors.As(err, &fe) {
		fe = fault.ErrInternal
	}
	return &gqlerror.Error{Message: fe.Message, Err: fe}
}

// CheckLimits checks the shape of every registered operation against l
// (depth, aliases, directives), which every request of it would meet: a
// document over them stops the server at start. Cost is left to each
// request, since page sizes may come in variables.
func (d *Documents) CheckLimits(l Limits) error {
	schema := NewExecutableSchema(Config{}).Schema()
	for _, doc := range d.list {
		q, errs := gqlparser.LoadQueryWithRules(schema, doc.Text, nil)
		if errs != nil {
			return fmt.Errorf("documents: %s: %v", doc.Name, errs)
		}
		for _, op := range q.Operations {
			c := counter{}
			c.walk(op.SelectionSet, 1, 1)
			c.directives += len(op.Directives)
			for _, over := range []struct {
				what       string
				got, limit int
			}{{"levels of nesting", c.depth, l.Depth}, {"aliases", c.aliases, l.Aliases}, {"directives", c.directives, l.Directives}} {
				if over.got > over.limit {
					return fmt.Errorf("documents: %s has %d %s; the limit is %d", doc.Name, over.got, over.what, over.limit)
				}
			}
		}
	}
	return nil
}
