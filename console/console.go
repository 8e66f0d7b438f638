// Package console serves the admin console at /console: GraphiQL and a
// privacy view, built from files embedded in the binary (the third-party
// ones fetched from npm by vendor.sh and committed), so that it works on
// an air-gapped network and loads nothing from elsewhere.
package console

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed assets
var assets embed.FS

// contentSecurityPolicy allows nothing but this origin (and inline data
// URLs, which GraphiQL's stylesheet uses for fonts and icons).
const contentSecurityPolicy = "default-src 'self'; img-src 'self' data:; font-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// Handler serves /console/, /console/privacy and /console/assets/.
func Handler() http.Handler {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err)
	}
	files := http.FileServerFS(sub)
	mux := http.NewServeMux()
	page := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			http.ServeFileFS(w, r, sub, name)
		}
	}
	mux.Handle("GET /console/{$}", page("index.html"))
	mux.Handle("GET /console/privacy", page("privacy.html"))
	mux.Handle("GET /console/assets/", http.StripPrefix("/console/assets/", noListing(sub, files)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		mux.ServeHTTP(w, r)
	})
}

// noListing serves files only: a folder is not found, not listed.
func noListing(fsys fs.FS, files http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimSuffix(r.URL.Path, "/")
		if info, err := fs.Stat(fsys, name); name == "" || err != nil || info.IsDir() {
			http.NotFound(w, r)
			return
		}
		files.ServeHTTP(w, r)
	})
}
