package replay_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
	"go.uber.org/goleak"

	"github.com/starmates/logshipd/internal/event"
	"github.com/starmates/logshipd/internal/ingest/replay"
	"github.com/starmates/logshipd/internal/normalize"
	"github.com/starmates/logshipd/internal/pipeline"
	"github.com/starmates/logshipd/internal/sink"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var discard = slog.New(slog.NewJSONHandler(io.Discard, nil))

// windowSink records messages and refuses records older than 14 days, like
// CloudWatch.
type windowSink struct {
	mu   sync.Mutex
	msgs []string
	down bool
}

func (w *windowSink) Send(_ context.Context, b *event.Batch) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.down {
		return fmt.Errorf("destination down")
	}
	for i := range b.Items {
		w.msgs = append(w.msgs, gjson.GetBytes(b.JSON(i), "message").Str)
	}
	return nil
}
func (w *windowSink) Close(context.Context) error { return nil }
func (w *windowSink) AgeReason(t, now time.Time) string {
	if t.Before(now.Add(-14 * 24 * time.Hour)) {
		return "too_old"
	}
	return ""
}

func runReplay(t *testing.T, dataDir string, paths []string, force bool, s sink.Sink, grace time.Duration) (*pipeline.Pipeline, error) {
	prog := &replay.Progress{}
	src, err := replay.New("replay", replay.Config{Paths: paths, Force: force, DataDir: dataDir}, discard, prog)
	require.NoError(t, err)
	q := sink.DefaultQueueConfig()
	q.InitialBackoff, q.MaxBackoff = time.Millisecond, 2*time.Millisecond
	p, err := pipeline.New(discard, dataDir, grace, []pipeline.SourceSpec{{Name: "replay", Source: src, Normalize: normalize.DefaultConfig()}},
		[]pipeline.SinkSpec{{Name: "cw", Sink: s, Queue: q}})
	require.NoError(t, err)
	return p, p.Run(t.Context())
}

func writeLog(t *testing.T, path string, n int, gz bool, ts func(i int) time.Time) {
	var buf bytes.Buffer
	for i := range n {
		fmt.Fprintf(&buf, `{"time":"%s","msg":"m%d","level":"info"}`+"\n", ts(i).Format(time.RFC3339Nano), i)
	}
	data := buf.Bytes()
	if gz {
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(data)
		zw.Close()
		data = z.Bytes()
	}
	require.NoError(t, os.WriteFile(path, data, 0o600))
}

func TestReplayIdempotentForceGzipAndWindows(t *testing.T) {
	dir := t.TempDir()
	now := time.Now().UTC()
	plain := filepath.Join(dir, "a.log")
	gz := filepath.Join(dir, "b.log.gz")
	writeLog(t, plain, 500, false, func(i int) time.Time { return now.Add(-time.Hour).Add(time.Duration(i) * time.Millisecond) })
	// b: the first 100 records are 20 days old: refused by the destination's window.
	writeLog(t, gz, 300, true, func(i int) time.Time {
		if i < 100 {
			return now.Add(-20 * 24 * time.Hour)
		}
		return now.Add(-time.Minute)
	})
	data := filepath.Join(dir, "data")
	s := &windowSink{}
	_, err := runReplay(t, data, []string{plain, gz}, false, s, time.Second)
	require.NoError(t, err)
	assert.Len(t, s.msgs, 500+200, "every record in the window is shipped once")
	assert.Equal(t, "m0", s.msgs[0])
	assert.Equal(t, "m499", s.msgs[499])
	dead, err := os.ReadFile(filepath.Join(data, "dead-letter", "cw.jsonl"))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(dead)), "\n")
	assert.Len(t, lines, 100)
	assert.Equal(t, "too_old", gjson.Get(lines[0], "reason").Str)

	// Re-run: the ledger says both files are done.
	s2 := &windowSink{}
	_, err = runReplay(t, data, []string{plain, gz}, false, s2, time.Second)
	require.NoError(t, err)
	assert.Empty(t, s2.msgs, "idempotent: nothing is shipped twice")

	// --force ships again.
	s3 := &windowSink{}
	_, err = runReplay(t, data, []string{plain}, true, s3, time.Second)
	require.NoError(t, err)
	assert.Len(t, s3.msgs, 500)
}

func TestReplayResumesAfterUndeliveredRun(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.log")
	now := time.Now().UTC()
	writeLog(t, path, 200, false, func(int) time.Time { return now })
	data := filepath.Join(dir, "data")
	down := &windowSink{down: true}
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	prog := &replay.Progress{}
	src, err := replay.New("replay", replay.Config{Paths: []string{path}, DataDir: data}, discard, prog)
	require.NoError(t, err)
	p, err := pipeline.New(discard, data, 100*time.Millisecond, []pipeline.SourceSpec{{Name: "replay", Source: src, Normalize: normalize.DefaultConfig()}},
		[]pipeline.SinkSpec{{Name: "cw", Sink: down, Queue: sink.DefaultQueueConfig()}})
	require.NoError(t, err)
	_ = p.Run(ctx)
	up := &windowSink{}
	_, err = runReplay(t, data, []string{path}, false, up, time.Second)
	require.NoError(t, err)
	assert.Len(t, up.msgs, 200, "nothing was acknowledged while the sink was down, so everything ships now")
}

func TestLedgerCorruptionIsAnError(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "replay"), 0o750))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "replay", "ledger.json"), []byte("{not json"), 0o600))
	_, err := replay.OpenLedger(filepath.Join(dir, "replay"))
	require.ErrorContains(t, err, "corrupt")
}
