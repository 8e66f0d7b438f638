package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"

	"veil/analytics"
	"veil/app"
	"veil/classification"
	"veil/crypt"
	"veil/graph"
	"veil/inventory"
	"veil/retention"
	"veil/seed"
	"veil/sharing"
	"veil/store"
)

// openStore opens the configured store for a maintenance command.
func openStore(ctx context.Context, fs *flag.FlagSet, args []string) (*store.Store, error) {
	cfg, err := parseConfig(fs, args)
	if err != nil {
		return nil, err
	}
	if err := useKeys(cfg); err != nil {
		return nil, err
	}
	return app.Open(ctx, cfg.DatabaseURL)
}

// purge removes what is past retention; see package retention.
func purge(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("purge", flag.ContinueOnError)
	dryRun := fs.Bool("dry-run", false, "count what is due and delete nothing")
	months := fs.Int("activity-months", envInt("VEIL_ACTIVITY_RETENTION_MONTHS", retention.MinActivityMonths),
		"months activity logs are kept, at least 6 (VEIL_ACTIVITY_RETENTION_MONTHS)")
	batch := fs.Int("batch", 1000, "rows per batch")
	st, err := openStore(ctx, fs, args)
	if err != nil {
		return err
	}
	defer st.Close()
	opts := retention.Options{Now: time.Now(), ActivityMonths: *months, BatchSize: *batch, DryRun: *dryRun}
	if !*dryRun {
		opts.Progress = progress("purging")
	}
	results, err := retention.Purge(ctx, st.Client, opts)
	verb := "removed"
	if *dryRun {
		verb = "due"
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "rule\tclass\trows %s\n", verb)
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t%d\n", r.Rule, r.Class, r.Rows)
	}
	tw.Flush()
	return err
}

// analyticsExport writes de-identified activity data; see package analytics.
func analyticsExport(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("analytics-export", flag.ContinueOnError)
	out := fs.String("out", "-", "file to write JSON lines to, - for standard output")
	keyHex := fs.String("key", os.Getenv("VEIL_ANALYTICS_KEY"), "hex key (at least 32 bytes) for pseudonyms (VEIL_ANALYTICS_KEY); required")
	st, err := openStore(ctx, fs, args)
	if err != nil {
		return err
	}
	defer st.Close()
	key, err := hex.DecodeString(*keyHex)
	if err != nil || len(key) < analytics.MinKeyBytes {
		return errors.New("analytics-export needs VEIL_ANALYTICS_KEY (or -key): at least 32 bytes, hex-encoded, held by the operator")
	}
	w, closeOut, err := output(*out)
	if err != nil {
		return err
	}
	defer closeOut()
	n, err := analytics.Export(ctx, st.Client, key, w, 1000)
	fmt.Fprintf(os.Stderr, "exported %d de-identified activity events\n", n)
	return err
}

// analyticsAggregate writes the non-personal page-view figures; see
// analytics.Aggregate.
func analyticsAggregate(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("analytics-aggregate", flag.ContinueOnError)
	out := fs.String("out", "-", "file to write JSON lines to, - for standard output")
	minVisitors := fs.Int("min-visitors", analytics.MinVisitors, "leave out figures of fewer distinct visitors than this (at least 5)")
	st, err := openStore(ctx, fs, args)
	if err != nil {
		return err
	}
	defer st.Close()
	w, closeOut, err := output(*out)
	if err != nil {
		return err
	}
	defer closeOut()
	n, err := analytics.Aggregate(ctx, st.Client, w, *minVisitors)
	fmt.Fprintf(os.Stderr, "wrote %d page-view figures\n", n)
	return err
}

// share writes the file a consent-based recipient receives; see
// sharing.Transfer. It holds personal data: it goes to a new file only
// its owner can read, never to standard output.
func share(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("share", flag.ContinueOnError)
	name := fs.String("recipient", "", "the declared recipient that receives data on consent (see the sharing list); required")
	out := fs.String("out", "", "new file to write the JSON lines to; required")
	st, err := openStore(ctx, fs, args)
	if err != nil {
		return err
	}
	defer st.Close()
	to, ok := sharing.Lookup(*name)
	if !ok || to.Basis != classification.BasisConsent {
		var names []string
		for _, r := range sharing.Recipients {
			if r.Basis == classification.BasisConsent {
				names = append(names, strconv.Quote(r.Name))
			}
		}
		return fmt.Errorf("share needs -recipient, one of %s", strings.Join(names, ", "))
	}
	if *out == "" {
		return errors.New("share needs -out FILE: the file holds personal data and is not written to standard output")
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	res, err := sharing.Transfer(ctx, st.Client, st.Counter, to, f, time.Now())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	fmt.Fprintf(os.Stderr, "shared the data of %d users with %s; left out %d whose consent does not count (a minor's own)\n", res.Shared, to.Name, res.Refused)
	return err
}

// output opens path for a command's output, readable by its owner only;
// "-" is standard output.
func output(path string) (io.Writer, func() error, error) {
	if path == "-" {
		return os.Stdout, func() error { return nil }, nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, nil, err
	}
	return f, f.Close, nil
}

func envInt(key string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(key)); err == nil {
		return v
	}
	return def
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// progress returns a reporter that draws a progress bar on standard error,
// or nil when standard error is not a terminal.
func progress(description string) func(done, total int) {
	if !isTerminal(os.Stderr) {
		return nil
	}
	var bar *progressbar.ProgressBar
	return func(done, total int) {
		if bar == nil {
			bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(os.Stderr),
				progressbar.OptionSetDescription(description), progressbar.OptionShowCount())
		}
		bar.Set(done)
	}
}

// inventoryCmd prints the collected-information and third-party sharing
// lists; see package inventory.
func inventoryCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("inventory", flag.ContinueOnError)
	format := fs.String("format", "md", "md or json")
	st, err := openStore(ctx, fs, args)
	if err != nil {
		return err
	}
	defer st.Close()
	if *format != "md" && *format != "json" {
		return fmt.Errorf("inventory: -format must be md or json, not %q", *format)
	}
	if err := seed.EnsureCatalog(ctx, st.Client); err != nil {
		return err
	}
	inv, err := inventory.Build(ctx, st.Client)
	if err != nil {
		return err
	}
	if *format == "md" {
		_, err = io.WriteString(os.Stdout, inv.Markdown())
		return err
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(inv)
}

// rotateKey re-seals every encrypted value under the keyring's current
// key and to its row; with -generate it first adds a new key to the key file and makes
// it current.
func rotateKey(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("rotate-key", flag.ContinueOnError)
	generate := fs.Bool("generate", false, "add a new data key to the key file and make it current first")
	batch := fs.Int("batch", 500, "values per transaction")
	sealUnbound := fs.Bool("seal-unbound", false, "also seal the values not sealed to their row: once, after upgrading a database from before rows were bound (sealing a value someone wrote into the database would make it authentic)")
	cfg, err := parseConfig(fs, args)
	if err != nil {
		return err
	}
	if *generate {
		k, err := crypt.LoadFile(cfg.KeyFile)
		if err != nil {
			return fmt.Errorf("rotate-key -generate: %w", err)
		}
		id, err := k.AddKey(time.Now())
		if err != nil {
			return err
		}
		if err := k.WriteFile(cfg.KeyFile); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "added key %s to %s and made it current\n", id, cfg.KeyFile)
	}
	if err := useKeys(cfg); err != nil {
		return err
	}
	st, err := app.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	opts := store.RotateOptions{Batch: *batch, Progress: progress("re-encrypting"), SealUnbound: *sealUnbound,
		Left: func(column string, row int, err error) {
			if row == 0 {
				fmt.Fprintf(os.Stderr, "%s: %v\n", column, err)
				return
			}
			fmt.Fprintf(os.Stderr, "%s of row %d left as it is: %v\n", column, row, err)
		}}
	n, err := st.RotateKeys(ctx, crypt.Active(), opts)
	fmt.Printf("%d values re-encrypted under key %s, each sealed to its row\n", n, crypt.Active().Current)
	return err
}

// documentsCmd registers trusted documents (add) and lists them (list):
// a directory of .graphql files, one document each, that the server
// accepts alone when started with -documents DIR. A registered document
// never changes: released apps send its ID.
type doc struct{ name, text, path string }

// withinLimits checks docs against the default shape limits, as the
// server does at start, by loading them from a scratch directory.
func withinLimits(docs []doc) error {
	if len(docs) == 0 {
		return nil
	}
	staged, err := os.MkdirTemp("", "veil-documents")
	if err != nil {
		return err
	}
	defer os.RemoveAll(staged)
	for _, d := range docs {
		if err := os.WriteFile(filepath.Join(staged, d.name+".graphql"), []byte(d.text), 0o600); err != nil {
			return err
		}
	}
	loaded, err := graph.LoadDocuments(staged)
	if err != nil {
		return err
	}
	return loaded.CheckLimits(graph.DefaultLimits)
}

func documentsCmd(args []string) error {
	if len(args) == 0 || (args[0] != "add" && args[0] != "list") {
		return errors.New("usage: documents add [-dir DIR] FILE... | documents list [-dir DIR]")
	}
	sub := args[0]
	fs := flag.NewFlagSet("documents "+sub, flag.ContinueOnError)
	dir := fs.String("dir", envOr("VEIL_DOCUMENTS", "documents"), "the directory of trusted documents (VEIL_DOCUMENTS)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if sub == "list" {
		docs, err := graph.LoadDocuments(*dir)
		if err != nil {
			return err
		}
		for _, d := range docs.List() {
			fmt.Printf("%s\t%s\n", d.ID, d.Name)
		}
		return nil
	}
	if fs.NArg() == 0 {
		return errors.New("documents add: name the .graphql files to register")
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return err
	}
	// Every file is checked before any is written, against the directory
	// and the others: a name has one text, and a text one name.
	texts, names := map[string]string{}, map[string]string{} // text -> name, name -> text
	registered, _ := filepath.Glob(filepath.Join(*dir, "*.graphql"))
	for _, f := range registered {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		name := strings.TrimSuffix(filepath.Base(f), ".graphql")
		texts[string(b)], names[name] = name, string(b)
	}
	var docs []doc
	for _, f := range fs.Args() {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		name, text := strings.TrimSuffix(filepath.Base(f), filepath.Ext(f)), string(b)
		if err := graph.CheckDocument(name, text); err != nil {
			return err
		}
		if old, ok := names[name]; ok && old != text {
			return fmt.Errorf("%s is registered already with another text: released clients may send it; register the new text under a new name", name)
		}
		if other, ok := texts[text]; ok && other != name {
			return fmt.Errorf("%s is the same document as %s, registered already", name, other)
		}
		if _, ok := names[name]; !ok {
			docs = append(docs, doc{name, text, filepath.Join(*dir, name+".graphql")})
		}
		texts[text], names[name] = name, text
	}
	// The new documents must also pass the shape limits the server checks
	// at start (with the default limits): a release must not ship one
	// that would stop the server.
	if err := withinLimits(docs); err != nil {
		return err
	}
	for _, d := range docs {
		if err := os.WriteFile(d.path, []byte(d.text), 0o644); err != nil {
			return err
		}
		fmt.Printf("%s\t%s\n", graph.DocumentID(d.text), d.name)
	}
	return nil
}
