// Package httpapi is Veil's HTTP surface: the /graphql endpoint behind
// bearer authentication and body checks, and the health probes. The server
// command and the tests use the same handler.
package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"veil/account"
	"veil/classification"
	"veil/fault"
)

// maxBodyBytes bounds a GraphQL request body.
const maxBodyBytes = 1 << 20

// Exporter streams a subject's export document; the viewer is in ctx.
type Exporter func(ctx context.Context, w io.Writer, forUser *int) error

// New returns the HTTP handler: /graphql (the GraphQL server behind
// authentication and body checks), GET /export (the bearer's export
// document, streamed), /healthz and /readyz (ready reports whether the
// store answers).
func New(graphqlHandler http.Handler, accounts *account.Service, ready func(*http.Request) error, export Exporter) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/graphql", checkBody(authenticate(accounts, graphqlHandler)))
	mux.Handle("GET /export", authenticate(accounts, exportHandler(export)))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := ready(r); err != nil {
			http.Error(w, "store unreachable\n", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	})
	return mux
}

// authenticate puts the request's viewer in its context. A request without
// credentials is anonymous; bad credentials are refused before GraphQL.
func authenticate(accounts *account.Service, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var token string
		if h := r.Header.Get("Authorization"); h != "" {
			scheme, rest, ok := strings.Cut(h, " ")
			if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(rest) == "" {
				writeError(w, fault.New(fault.Unauthenticated, "the Authorization header must be 'Bearer <token>'"))
				return
			}
			token = strings.TrimSpace(rest)
		}
		v, err := accounts.Authenticate(r.Context(), token, r.Header.Get("X-Access-Purpose"))
		if err != nil {
			var fe *fault.Error
			if !errors.As(err, &fe) {
				slog.ErrorContext(r.Context(), "authentication failed", "error", err.Error())
			}
			writeError(w, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(classification.NewContext(r.Context(), v)))
	})
}

// checkBody refuses, with a coded error rather than the transport's bare
// one, what the GraphQL transports would reject: other methods, mutations
// over GET, POST bodies that are not JSON, too large, or not a request.
func checkBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodPost:
		case http.MethodGet:
			// GET carries queries only (GraphQL over HTTP): a mutation
			// must not run from a link or an <img> tag.
			if doc, err := parser.ParseQuery(&ast.Source{Input: r.URL.Query().Get("query")}); err == nil {
				for _, op := range doc.Operations {
					if op.Operation != ast.Query {
						w.Header().Set("Allow", http.MethodPost)
						writeErrorStatus(w, http.StatusMethodNotAllowed, fault.Invalid("query", "GET requests may only run queries; send mutations with POST"))
						return
					}
				}
			}
			next.ServeHTTP(w, r)
			return
		case http.MethodOptions:
			next.ServeHTTP(w, r)
			return
		default:
			w.Header().Set("Allow", "GET, POST")
			writeErrorStatus(w, http.StatusMethodNotAllowed, fault.Invalid("method", "use POST (or GET for queries)"))
			return
		}
		// Only JSON bodies: an HTML form cannot post one cross-site.
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
			writeErrorStatus(w, http.StatusUnsupportedMediaType, fault.Invalid("Content-Type", "must be application/json"))
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				writeErrorStatus(w, http.StatusRequestEntityTooLarge, fault.Invalid("body", "larger than 1 MiB"))
				return
			}
			writeErrorStatus(w, http.StatusBadRequest, fault.Invalid("body", "could not be read"))
			return
		}
		var req struct {
			Query *string `json:"query"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			writeErrorStatus(w, http.StatusBadRequest, fault.Invalid("body", "must be a JSON object {\"query\": ..., \"variables\": {...}}"))
			return
		}
		if req.Query == nil {
			// Persisted-query requests carry a hash instead of a query.
			var apq struct {
				Extensions struct {
					PersistedQuery json.RawMessage `json:"persistedQuery"`
				} `json:"extensions"`
			}
			if json.Unmarshal(body, &apq); apq.Extensions.PersistedQuery == nil {
				writeErrorStatus(w, http.StatusBadRequest, fault.Invalid("query", "is required"))
				return
			}
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		next.ServeHTTP(w, r)
	})
}

// writeError writes err as a GraphQL response with no data and the HTTP
// status that fits its code.
func writeError(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	var fe *fault.Error
	if errors.As(err, &fe) {
		switch fe.Code {
		case fault.Unauthenticated, fault.AccountCancelled:
			status = http.StatusUnauthorized
		case fault.Forbidden:
			status = http.StatusForbidden
		case fault.ValidationFailed:
			status = http.StatusBadRequest
		case fault.RateLimited:
			status = http.StatusTooManyRequests
		}
	}
	writeErrorStatus(w, status, err)
}

func writeErrorStatus(w http.ResponseWriter, status int, err error) {
	var fe *fault.Error
	if !errors.As(err, &fe) {
		fe = fault.ErrInternal
	}
	ext := map[string]any{"code": fe.Code}
	if fe.Field != "" {
		ext["field"] = fe.Field
	}
	w.Header().Set("Content-Type", "application/json")
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="veil"`)
	}
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{
		"errors": []map[string]any{{"message": fe.Message, "extensions": ext}},
	})
}

// exportHandler serves GET /export[?forUser=ID] as a JSON download.
func exportHandler(export Exporter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !classification.FromContext(r.Context()).SignedIn() {
			writeError(w, fault.ErrUnauthenticated)
			return
		}
		var forUser *int
		if s := r.URL.Query().Get("forUser"); s != "" {
			id, err := strconv.Atoi(s)
			if err != nil {
				writeError(w, fault.Invalid("forUser", "must be a user ID"))
				return
			}
			forUser = &id
		}
		// Headers go out with the first byte: an error before it is a coded
		// error; an error after it cuts the document short, which a client
		// sees as invalid JSON, never as a complete-looking document.
		pw := &pendingWriter{w: w}
		if err := export(r.Context(), pw, forUser); err != nil {
			if pw.started {
				slog.ErrorContext(r.Context(), "export failed mid-stream", "error", err.Error())
				return
			}
			var fe *fault.Error
			if !errors.As(err, &fe) {
				slog.ErrorContext(r.Context(), "export failed", "error", err.Error())
			}
			writeError(w, err)
			return
		}
	})
}

// pendingWriter sets the download headers on the first write.
type pendingWriter struct {
	w       http.ResponseWriter
	started bool
}

func (p *pendingWriter) Write(b []byte) (int, error) {
	if !p.started {
		p.started = true
		p.w.Header().Set("Content-Type", "application/json")
		p.w.Header().Set("Content-Disposition", `attachment; filename="veil-export.json"`)
		p.w.Header().Set("Cache-Control", "no-store")
	}
	return p.w.Write(b)
}
