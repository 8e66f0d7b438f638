// Package store opens Veil's database — SQLite (embedded default) or
// PostgreSQL (through lib/pq) — migrates it, and counts the SQL statements
// it runs without ever logging their arguments.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	_ "github.com/lib/pq"  // PostgreSQL driver, registered as "postgres".
	_ "modernc.org/sqlite" // Pure-Go SQLite driver, registered as "sqlite".

	"veil/audit"
	"veil/ent"
	"veil/ent/migrate"
)

// DefaultURL is the store used when DATABASE_URL is unset: an SQLite file
// in the working directory.
const DefaultURL = "sqlite:veil.db"

// Store is an open, migrated database.
type Store struct {
	Client *ent.Client
	// DB is the underlying pool, for health checks.
	DB *sql.DB
	// Dialect is dialect.SQLite or dialect.Postgres.
	Dialect string
	// Counter counts every statement the client runs.
	Counter *Counter
	// URL is what the pool was opened with: the DATABASE_URL on
	// PostgreSQL, the file's DSN on SQLite.
	URL string

	closers []func() error
}

// maxIdleConns is how many PostgreSQL connections stay open between
// requests.
const maxIdleConns = 32

// Open connects to url (see ParseURL), migrates the schema and returns the
// store. The caller closes it. The client has no privacy layer yet: open
// stores through app.Open, which installs it.
func Open(ctx context.Context, url string) (*Store, error) {
	driverName, dsn, dia, err := ParseURL(url)
	if err != nil {
		return nil, err
	}
	if dia == dialect.SQLite {
		if err := createPrivate(url); err != nil {
			return nil, err
		}
	}
	db, err := sql.Open(driverName, dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	if dia == dialect.SQLite {
		// One writer at a time; concurrent writers would get SQLITE_BUSY.
		db.SetMaxOpenConns(1)
	} else {
		// database/sql keeps 2 idle connections by default: under load the
		// rest would be closed and opened again, each time a new
		// PostgreSQL backend to fork and warm up.
		db.SetMaxIdleConns(maxIdleConns)
		db.SetConnMaxIdleTime(5 * time.Minute)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: cannot reach the database: %w", err)
	}
	counter := &Counter{Driver: entsql.OpenDB(dia, db)}
	client := ent.NewClient(ent.Driver(counter))
	if err := client.Schema.Create(ctx, migrate.WithGlobalUniqueID(true)); err != nil {
		client.Close()
		return nil, fmt.Errorf("store: migrate: %w", err)
	}
	if err := audit.EnsureHead(ctx, client); err != nil {
		client.Close()
		return nil, fmt.Errorf("store: audit log: %w", err)
	}
	return &Store{Client: client, DB: db, Dialect: dia, Counter: counter, URL: dsn}, nil
}

// createPrivate creates the SQLite file of url, if it does not exist yet,
// readable by its owner only; SQLite gives its WAL and shared-memory files
// the same mode.
func createPrivate(url string) error {
	if url == "" {
		url = DefaultURL
	}
	path := strings.TrimPrefix(strings.TrimPrefix(url, "sqlite:"), "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if path == ":memory:" || strings.HasPrefix(path, ":") {
		return nil
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: create %s: %w", path, err)
	}
	return f.Close()
}

// Close closes the client and its pool, and the side pools (OpenSide).
func (s *Store) Close() error {
	err := s.Client.Close()
	for _, c := range s.closers {
		err = errors.Join(err, c())
	}
	return err
}

// OpenSide opens a pool of its own on a PostgreSQL store's database, with
// the run-time parameters given ("synchronous_commit=off"), for state
// that is not the store's data.
func (s *Store) OpenSide(params string) (*sql.DB, error) {
	if s.Dialect != dialect.Postgres {
		return nil, errors.New("store: a side pool is for PostgreSQL")
	}
	sep := "?"
	if strings.Contains(s.URL, "?") {
		sep = "&"
	}
	db, err := sql.Open("postgres", s.URL+sep+params)
	if err != nil {
		return nil, err
	}
	db.SetMaxIdleConns(maxIdleConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	s.closers = append(s.closers, db.Close)
	return db, nil
}

// ParseURL maps a DATABASE_URL to a database/sql driver, DSN and Ent
// dialect. Accepted forms: empty (DefaultURL); "sqlite:PATH[?query]" or
// "file:PATH[?query]"; "postgres://..." or "postgresql://...".
func ParseURL(url string) (driverName, dsn, dia string, err error) {
	if url == "" {
		url = DefaultURL
	}
	switch {
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		// Not binary_parameters=yes, although it saves lib/pq a round trip
		// per statement: it sends []byte parameters in binary, and Ent
		// writes JSON fields as []byte, which a jsonb column then refuses
		// ("unsupported jsonb version number").
		return "postgres", url, dialect.Postgres, nil
	case strings.HasPrefix(url, "sqlite:"), strings.HasPrefix(url, "file:"):
		path := strings.TrimPrefix(strings.TrimPrefix(url, "sqlite:"), "file:")
		if path == "" || strings.HasPrefix(path, "?") {
			return "", "", "", errors.New("store: an sqlite URL needs a path, e.g. sqlite:veil.db")
		}
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		return "sqlite", "file:" + path + sep + "_pragma=foreign_keys(1)&_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=temp_store(MEMORY)&_time_format=sqlite", dialect.SQLite, nil
	default:
		return "", "", "", errors.New("store: DATABASE_URL must start with sqlite:, file:, postgres:// or postgresql://")
	}
}

// WithTx runs fn in a transaction, committing if it returns nil and rolling
// back otherwise, so a failure half way changes nothing.
func WithTx(ctx context.Context, c *ent.Client, fn func(tx *ent.Tx) error) error {
	tx, err := c.Tx(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if v := recover(); v != nil {
			tx.Rollback()
			panic(v)
		}
	}()
	if err := fn(tx); err != nil {
		if rerr := tx.Rollback(); rerr != nil {
			return fmt.Errorf("%w (rollback: %v)", err, rerr)
		}
		return err
	}
	return tx.Commit()
}
