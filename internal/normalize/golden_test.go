package normalize

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/starmates/logshipd/internal/event"
	"github.com/starmates/logshipd/internal/ingest"
	"github.com/starmates/logshipd/internal/schematest"
)

// Regenerate with: go test ./internal/normalize/ -run TestGolden -update
var update = flag.Bool("update", false, "rewrite golden files")

// goldenNow is the ingest time used for records without a timestamp.
var goldenNow = time.Date(2026, 11, 25, 23, 0, 0, 0, time.UTC)

// normalizeAll runs data through a fresh stream with cfg.
func normalizeAll(t testing.TB, cfg Config, data []byte) []byte {
	eng, err := New(cfg, nil)
	require.NoError(t, err)
	var out bytes.Buffer
	st := eng.NewStream(Origin{Kind: "file", Path: "input.log"}, func(r *event.Record) {
		if r.BelowLevel {
			return
		}
		out.Write(r.JSON)
		out.WriteByte('\n')
	})
	fr := ingest.NewFramer(0)
	fr.Feed(data, func(l []byte) { st.Write(l, goldenNow) })
	fr.End(func(l []byte) { st.Write(l, goldenNow) })
	st.Flush(goldenNow)
	return out.Bytes()
}

// TestGolden walks testdata/golden/<format>/<case>.log. Each input sits
// next to <case>.ndjson, the expected records. An input without its golden
// file fails (run with -update to create it). Every record must validate
// against the schema. Directories group inputs by their main format; every
// case runs with auto-detection, the mode users run.
func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/golden/*/*.log")
	require.NoError(t, err)
	require.NotEmpty(t, inputs)
	for _, in := range inputs {
		format := filepath.Base(filepath.Dir(in))
		name := format + "/" + strings.TrimSuffix(filepath.Base(in), ".log")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(in)
			require.NoError(t, err)
			cfg := DefaultConfig()
			cfg.Service = "golden-svc"
			got := normalizeAll(t, cfg, data)
			for _, line := range bytes.Split(bytes.TrimSpace(got), []byte("\n")) {
				require.NoError(t, schematest.Validate(line))
			}
			goldenPath := strings.TrimSuffix(in, ".log") + ".ndjson"
			if *update {
				require.NoError(t, os.WriteFile(goldenPath, got, 0o644))
				return
			}
			want, err := os.ReadFile(goldenPath)
			require.NoError(t, err, "missing golden file: run go test ./internal/normalize/ -run TestGolden -update")
			require.Equal(t, string(want), string(got))
		})
	}
}
