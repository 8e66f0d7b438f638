package graph

import (
	"encoding/json"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"veil/fault"
)

// The media types of a GraphQL-over-HTTP response.
const (
	mediaJSON            = "application/json"
	mediaGraphQLResponse = "application/graphql-response+json"
)

// httpTransport is GraphQL over HTTP: GET for queries and POST with a JSON
// body. It replaces gqlgen's GET and POST transports, which differ from
// the specification where a client can see it:
//
//   - a request that fails before execution (a document that does not
//     parse or validate, variables that do not coerce) is answered with no
//     "data" entry at all, and with 200 under application/json but a 4xx
//     under application/graphql-response+json, as the specification asks;
//   - a body or query string that is not the GraphQL-over-HTTP shape is
//     answered VALIDATION_FAILED in words of Veil's own, where gqlgen's
//     answer is uncoded and echoes the body.
//
// httpapi checks the method, the media types and the body's size, and
// refuses mutations written in a GET's query string, before a request gets
// here; a GET that names a stored document (a documentId, a persisted
// query's hash) is refused here once its text is known, if it mutates.
type httpTransport struct{}

var _ graphql.Transport = httpTransport{}

func (httpTransport) Supports(r *http.Request) bool {
	if r.Header.Get("Upgrade") != "" {
		return false
	}
	if r.Method == http.MethodGet {
		return true
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && r.Method == http.MethodPost && mt == mediaJSON
}

func (httpTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	media := responseMedia(r.Header.Get("Accept"))
	w.Header().Set("Content-Type", media)
	params, err := readParams(r)
	if err != nil {
		msg := err.(*fault.Error).Message
		resp := exec.DispatchError(graphql.StartOperationTrace(ctx), gqlerror.List{{Message: msg, Err: err}})
		writeResponse(w, http.StatusBadRequest, resp, false)
		return
	}
	params.Headers = r.Header
	params.ReadTime.End = graphql.Now()
	oc, errs := exec.CreateOperationContext(ctx, params)
	if r.Method == http.MethodGet && oc != nil && oc.Operation != nil && oc.Operation.Operation != ast.Query {
		// GET carries queries only: a mutation must not run from a link.
		w.Header().Set("Allow", http.MethodPost)
		err := fault.Invalid("query", "GET requests may only run queries; send mutations with POST")
		resp := exec.DispatchError(graphql.WithOperationContext(ctx, oc), gqlerror.List{{Message: err.(*fault.Error).Message, Err: err}})
		writeResponse(w, http.StatusMethodNotAllowed, resp, false)
		return
	}
	if errs != nil {
		resp := exec.DispatchError(graphql.WithOperationContext(ctx, oc), errs)
		status := http.StatusOK
		if media == mediaGraphQLResponse {
			status = requestErrorStatus(resp.Errors)
		}
		writeResponse(w, status, resp, false)
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, oc)
	writeResponse(w, http.StatusOK, responses(ctx), true)
}

// responseMedia picks the response's media type from an Accept header that
// httpapi has checked names one of the two: the first of them listed, and
// application/json when the client accepts anything (the specification
// keeps it the default while clients move to the new type).
func responseMedia(accept string) string {
	for part := range strings.SplitSeq(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err == nil && (mt == mediaJSON || mt == mediaGraphQLResponse) {
			return mt
		}
	}
	return mediaJSON
}

// readParams reads a GET query string or a POST body into the request's
// parameters. Every error is a fault.Error of VALIDATION_FAILED whose
// message names what is wrong and repeats nothing of the request.
func readParams(r *http.Request) (*graphql.RawParams, error) {
	params := &graphql.RawParams{}
	params.ReadTime.Start = graphql.Now()
	if r.Method == http.MethodPost {
		var body struct {
			*graphql.RawParams
			DocumentID json.RawMessage `json:"documentId"`
		}
		body.RawParams = params
		dec := json.NewDecoder(r.Body)
		dec.UseNumber()
		if err := dec.Decode(&body); err != nil {
			return nil, fault.Invalid("body", badBody)
		}
		if body.DocumentID != nil {
			var id string
			if json.Unmarshal(body.DocumentID, &id) != nil {
				return nil, fault.Invalid("documentId", "must be a string")
			}
			withDocumentID(params, documentRef{id, "documentId"})
		}
		return params, nil
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, fault.Invalid("query", "the query string is not URL-encoded")
	}
	params.Query = q.Get("query")
	params.OperationName = q.Get("operationName")

	for name, into := range map[string]*map[string]any{"variables": &params.Variables, "extensions": &params.Extensions} {
		if s := q.Get(name); s != "" {
			dec := json.NewDecoder(strings.NewReader(s))
			dec.UseNumber()
			if dec.Decode(into) != nil {
				return nil, fault.Invalid(name, name+" must be a JSON object")
			}
		}
	}
	if q.Has("documentId") {
		withDocumentID(params, documentRef{q.Get("documentId"), "documentId"})
	}
	return params, nil
}

// requestErrorStatus is the 4xx status of a request that failed before
// execution, under application/graphql-response+json: 403 when it was
// refused, 400 when it was malformed. errs are presented: each has a code.
func requestErrorStatus(errs gqlerror.List) int {
	for _, e := range errs {
		if e.Extensions["code"] == string(fault.Forbidden) {
			return http.StatusForbidden
		}
	}
	return http.StatusBadRequest
}

// writeResponse writes resp. A request that never reached execution has
// no "data" entry (the GraphQL specification: "If an error was raised
// before execution begins, the data entry should not be present").
func writeResponse(w http.ResponseWriter, status int, resp *graphql.Response, executed bool) {
	var body any = resp
	if !executed {
		body = struct {
			Errors     gqlerror.List  `json:"errors"`
			Extensions map[string]any `json:"extensions,omitempty"`
		}{resp.Errors, resp.Extensions}
	}
	b, err := json.Marshal(body)
	if err != nil {
		// Only a resolver's value could fail to marshal: a bug. The
		// error is not logged: it may quote the value.
		slog.Error("a response could not be encoded as JSON")
		status, b = http.StatusInternalServerError, []byte(`{"errors":[{"message":"internal error","extensions":{"code":"INTERNAL"}}]}`)
	}
	w.WriteHeader(status)
	w.Write(b)
}

// withDocumentID passes a request's documentId on to the trusted
// documents extension, through the extensions.
func withDocumentID(params *graphql.RawParams, ref documentRef) {
	if params.Extensions == nil {
		params.Extensions = map[string]any{}
	}
	params.Extensions[documentIDKey] = ref
}
