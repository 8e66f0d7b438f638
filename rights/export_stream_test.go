package rights_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"veil/rights"
	"veil/veiltest"
)

// writeRecorder keeps what is written and the largest single write.
type writeRecorder struct {
	buf     bytes.Buffer
	largest int
}

func (w *writeRecorder) Write(p []byte) (int, error) {
	w.largest = max(w.largest, len(p))
	return w.buf.Write(p)
}

// TestExportStreams exports a user with 20,000 activity rows: the
// document is megabytes and one valid JSON value holding every row, yet
// it reaches the writer in pieces no larger than the export's 32 KiB
// buffer, not assembled in memory first. (How much memory the export
// holds is measured by BenchmarkExportMemory.)
func TestExportStreams(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		const rows = 20_000
		id := seedActivity(t, env, rows)
		var w writeRecorder
		if err := rights.Export(context.Background(), env.Store.Client, env.Store.Counter, id, &w, env.Clock); err != nil {
			t.Fatal(err)
		}
		if !json.Valid(w.buf.Bytes()) {
			t.Fatalf("the export is not one JSON document: %.200s", w.buf.Bytes())
		}
		if n := bytes.Count(w.buf.Bytes(), []byte("a search query of moderate length")); n != rows {
			t.Errorf("%d of %d activity rows exported", n, rows)
		}
		if w.buf.Len() < 1<<20 || w.largest > 32<<10 {
			t.Errorf("%d bytes in all, the largest write %d bytes: want megabytes in writes of at most 32 KiB", w.buf.Len(), w.largest)
		}
	})
}
