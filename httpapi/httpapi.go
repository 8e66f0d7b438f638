// Package httpapi is Veil's HTTP surface: the /graphql endpoint behind
// bearer authentication and body checks, and the health probes. The server
// command and the tests use the same handler.
package httpapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/time/rate"

	"veil/account"
	"veil/classification"
	"veil/console"
	"veil/fault"
	"veil/gid"
	"veil/metrics"
	"veil/ratelimit"
	"veil/reqctx"
	"veil/store"
	"veil/tracing"
)

// maxBodyBytes bounds a GraphQL request body.
const maxBodyBytes = 1 << 20

// Exporter streams a subject's export document; the viewer is in ctx.
type Exporter func(ctx context.Context, w io.Writer, forUser *int) error

// Options are the HTTP layer's limits.
type Options struct {
	// SessionRate and SessionBurst bound each signed-in session's requests.
	SessionRate  rate.Limit
	SessionBurst int
	// AnonymousRate and AnonymousBurst bound anonymous requests per IP.
	AnonymousRate  rate.Limit
	AnonymousBurst int
	// Shared, when set, keeps the limits in the database, shared with
	// every process on it; otherwise each process limits on its own.
	Shared *ratelimit.Shared
	// SecureCookies marks the session cookie Secure (outside development)
	// and takes the site's own origin to be https.
	SecureCookies bool
	// WebOrigins are origins besides the site's own whose pages may use
	// the session cookie ("https://app.example.com").
	WebOrigins []string
}

// DefaultOptions are the limits the server runs with unless configured.
var DefaultOptions = Options{SessionRate: 20, SessionBurst: 40, AnonymousRate: 5, AnonymousBurst: 20}

// New returns the HTTP handler: /graphql (the GraphQL server behind
// authentication, rate limits and body checks), GET /export (the bearer's
// export document, streamed), /healthz, /readyz (whether the store
// answers) and /metrics (Prometheus). Every response carries an
// X-Request-Id, which the access log records.
func New(graphqlHandler http.Handler, accounts *account.Service, ready func(*http.Request) error, export Exporter, opts Options) http.Handler {
	limits := &limiters{
		session:   ratelimit.New(opts.SessionRate, opts.SessionBurst).On(opts.Shared, "session"),
		anonymous: ratelimit.New(opts.AnonymousRate, opts.AnonymousBurst).On(opts.Shared, "anonymous"),
	}
	mux := http.NewServeMux()
	mux.Handle("/graphql", withCookies(opts, checkAccept(checkBody(authenticate(accounts, limits, opts, limits.limit(graphqlHandler))))))
	mux.Handle("GET /export", withCookies(opts, authenticate(accounts, limits, opts, limits.limit(exportHandler(export)))))
	mux.Handle("GET /metrics", promhttp.HandlerFor(metrics.Registry, promhttp.HandlerOpts{}))
	mux.Handle("/console/", console.Handler())
	mux.Handle("GET /console", http.RedirectHandler("/console/", http.StatusMovedPermanently))
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
	return requestInfo(accessLog(recoverPanics(mux)))
}

// authenticate puts the request's viewer in its context. A request without
// credentials is anonymous; bad credentials are refused before GraphQL,
// and count against the address's anonymous limit, so that sending
// unknown tokens is bounded like anything else an anonymous caller does.
func authenticate(accounts *account.Service, limits *limiters, opts Options, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var token string
		fromCookie := false
		jar := reqctx.From(r.Context()).Cookies
		if h := r.Header.Get("Authorization"); h != "" {
			scheme, rest, ok := strings.Cut(h, " ")
			if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(rest) == "" {
				writeError(w, fault.New(fault.Unauthenticated, "the Authorization header must be 'Bearer <token>'"))
				return
			}
			token = strings.TrimSpace(rest)
		} else {
			var err error
			if token, err = sessionCookie(r, opts.SecureCookies); err != nil {
				writeError(w, err)
				return
			}
			fromCookie = token != ""
		}
		// SECURITY: a browser sends the cookie with whatever page made the
		// request; only the site's own may act with it, or read with it
		// (a GET runs exports and audited reads).
		if fromCookie && (crossSite(r, opts.WebOrigins) || r.Method != http.MethodGet && jar.CheckOrigin() != nil) {
			writeErrorStatus(w, http.StatusForbidden, errForeignOrigin)
			return
		}
		v, err := accounts.Authenticate(r.Context(), token, r.Header.Get("X-Access-Purpose"))
		if fe := (*fault.Error)(nil); fromCookie && errors.As(err, &fe) && (fe.Code == fault.Unauthenticated || fe.Code == fault.AccountCancelled) {
			// An ended session's cookie is of no more use: drop it.
			jar.ClearSession()
		}
		if err != nil {
			var fe *fault.Error
			if errors.As(err, &fe) && fe.Code == fault.Unauthenticated && !limits.allowAnonymous(w, r) {
				return
			}
			if !errors.As(err, &fe) {
				slog.ErrorContext(r.Context(), "authentication failed", "request_id", reqctx.From(r.Context()).ID, "error", err.Error())
				if store.IsUnavailable(err) {
					writeErrorStatus(w, http.StatusServiceUnavailable, fault.ErrUnavailable)
					return
				}
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
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
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
			// Persisted queries and registered documents carry a hash or
			// an ID instead of a query.
			var apq struct {
				DocumentID json.RawMessage `json:"documentId"`
				Extensions struct {
					PersistedQuery json.RawMessage `json:"persistedQuery"`
				} `json:"extensions"`
			}
			if json.Unmarshal(body, &apq); apq.Extensions.PersistedQuery == nil && apq.DocumentID == nil {
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
	if fe.RetryAfterSeconds > 0 {
		ext["retryAfterSeconds"] = fe.RetryAfterSeconds
		w.Header().Set("Retry-After", strconv.Itoa(fe.RetryAfterSeconds))
	}
	metrics.Errors.WithLabelValues(string(fe.Code)).Inc()
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
			id, err := gid.Decode(s)
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

// checkAccept answers 406 to a client that accepts neither JSON media type
// (GraphQL over HTTP: application/graphql-response+json or application/json).
func checkAccept(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		accept := r.Header.Get("Accept")
		if accept == "" || r.Method == http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		for part := range strings.SplitSeq(accept, ",") {
			mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			switch mt {
			case "application/graphql-response+json", "application/json", "application/*", "*/*":
				next.ServeHTTP(w, r)
				return
			}
		}
		writeErrorStatus(w, http.StatusNotAcceptable, fault.Invalid("Accept", "must accept application/graphql-response+json or application/json"))
	})
}

// limiters hold the request rate limits.
type limiters struct{ session, anonymous *ratelimit.Limiter }

// allowAnonymous takes a token of the request address's anonymous limit;
// when none is left it answers RATE_LIMITED and returns false.
func (l *limiters) allowAnonymous(w http.ResponseWriter, r *http.Request) bool {
	return l.allow(w, r, l.anonymous, "ip:"+reqctx.From(r.Context()).ClientIP, "anonymous")
}

// allow takes a token of lim for key; when none is left it answers
// RATE_LIMITED with a Retry-After and returns false.
func (l *limiters) allow(w http.ResponseWriter, r *http.Request, lim *ratelimit.Limiter, key, name string) bool {
	ok, wait := lim.Allow(r.Context(), key, time.Now())
	if !ok {
		metrics.RateLimited.WithLabelValues(name).Inc()
		writeErrorStatus(w, http.StatusTooManyRequests, fault.Limited("too many requests; slow down", int(wait/time.Second)+1))
	}
	return ok
}

// limit refuses, with RATE_LIMITED and a Retry-After, a session or an
// anonymous address that sends requests faster than its limit.
func (l *limiters) limit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := classification.FromContext(r.Context())
		var ok bool
		if v.SignedIn() {
			ok = l.allow(w, r, l.session, fmt.Sprintf("session:%d", v.SessionID), "session")
		} else {
			ok = l.allowAnonymous(w, r)
		}
		if ok {
			next.ServeHTTP(w, r)
		}
	})
}

// requestInfo gives every request a new random id, sent back in
// X-Request-Id and written on its log lines, and notes the client's
// address. A client's own X-Request-Id is not taken: it is a header, and
// nothing a client sends reaches the log.
func requestInfo(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 8)
		rand.Read(buf)
		id := hex.EncodeToString(buf)
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(reqctx.With(r.Context(), reqctx.Info{ID: id, ClientIP: clientAddress(r.RemoteAddr)})))
	})
}

// clientAddress is the address limits and address keys count a client by:
// the remote IPv4 address, or the /64 network of an IPv6 one, which one
// subscriber holds whole (so that walking through its addresses does not
// multiply the limits).
func clientAddress(remote string) string {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	if ip = ip.Unmap(); ip.Is4() {
		return ip.String()
	}
	return netip.PrefixFrom(ip.WithZone(""), 64).Masked().String()
}

// accessLog writes one line per request: no query, no variables, no
// headers, so no personal data.
func accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		method, route := methodOf(r.Method), routeOf(r.URL.Path)
		ctx, span := tracing.Start(r.Context(), "HTTP "+method+" "+route, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("http.request.method", method), attribute.String("http.route", route)))
		defer span.End()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r.WithContext(ctx))
		span.SetAttributes(attribute.Int("http.response.status_code", sw.status))
		slog.InfoContext(ctx, "request",
			"request_id", reqctx.From(ctx).ID, "method", method, "path", route,
			"status", sw.status, "duration_ms", time.Since(start).Milliseconds())
	})
}

// routeOf names a request's route for logs and spans: a path the server
// serves, or "other". A path a client made up may be anything, personal
// data included.
func routeOf(path string) string {
	switch path {
	case "/graphql", "/export", "/metrics", "/healthz", "/readyz", "/console":
		return path
	}
	if strings.HasPrefix(path, "/console/") {
		return "/console/"
	}
	return "other"
}

// methodOf is a request's method if it is a standard one, or "OTHER".
func methodOf(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return m
	}
	return "OTHER"
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// recoverPanics turns a panic outside GraphQL execution into INTERNAL.
func recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				slog.ErrorContext(r.Context(), "panic", "request_id", reqctx.From(r.Context()).ID, "panic", fmt.Sprint(v))
				writeErrorStatus(w, http.StatusInternalServerError, fault.ErrInternal)
			}
		}()
		next.ServeHTTP(w, r)
	})
}
