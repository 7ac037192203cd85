package normalize

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/starmates/logshipd/bench/workload"
	"github.com/starmates/logshipd/internal/event"
)

// stripVolatile removes what legitimately differs between runs: ingest
// times of records without a timestamp.
func stripVolatile(ndjson []byte) []string {
	var out []string
	for _, l := range bytes.Split(bytes.TrimSpace(ndjson), []byte("\n")) {
		if gjson.GetBytes(l, "origin.timestamp_source").Str == "ingest" {
			l = []byte(gjson.GetBytes(l, "message").Raw)
		}
		out = append(out, string(l))
	}
	return out
}

// The parallel path must produce exactly the sequential output, in order,
// for every sample and workload, whatever the chunk size.
func TestParallelMatchesSequential(t *testing.T) {
	inputs := map[string][]byte{}
	files, _ := filepath.Glob("testdata/golden/*/*.log")
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		inputs[f] = b
	}
	for _, k := range []string{"json", "python", "nginx"} {
		var buf bytes.Buffer
		require.NoError(t, workload.Generate(&buf, k, 3000, 7))
		inputs["workload-"+k] = buf.Bytes()
	}
	for name, data := range inputs {
		t.Run(name, func(t *testing.T) {
			want := stripVolatile(normalizeAll(t, DefaultConfig(), data))
			for _, chunk := range []int{64, 4096, 1 << 20} {
				eng, err := New(DefaultConfig(), nil)
				require.NoError(t, err)
				var out bytes.Buffer
				require.NoError(t, eng.RunParallel(t.Context(), &slowReader{data: data, n: chunk}, &out, event.Origin{Kind: "file", Path: "input.log"}, ParallelConfig{Workers: 3, ChunkSize: chunk}))
				got := stripVolatile(out.Bytes())
				if !assert.Equal(t, len(want), len(got), "chunk %d", chunk) {
					continue
				}
				for i := range want {
					require.Equal(t, want[i], got[i], "chunk %d record %d", chunk, i)
				}
			}
		})
	}
}

// slowReader returns at most n bytes per Read.
type slowReader struct {
	data []byte
	n    int
}

func (s *slowReader) Read(p []byte) (int, error) {
	if len(s.data) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), s.n, len(s.data))
	copy(p, s.data[:n])
	s.data = s.data[n:]
	return n, nil
}

// A pending multiline record is emitted after the flush timeout while the
// input stays open.
func TestParallelFlushTimeout(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Multiline.FlushTimeout = 50 * time.Millisecond
	eng, err := New(cfg, nil)
	require.NoError(t, err)
	pr, pw := io.Pipe()
	out := &lockedBuf{}
	done := make(chan error)
	go func() { done <- eng.RunParallel(t.Context(), pr, out, event.Origin{}, ParallelConfig{}) }()
	_, err = pw.Write([]byte("ERROR:app:boom\nTraceback (most recent call last):\n  File \"a.py\", line 1, in f\n"))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "boom") }, 5*time.Second, 10*time.Millisecond)
	pw.Close()
	require.NoError(t, <-done)
}
