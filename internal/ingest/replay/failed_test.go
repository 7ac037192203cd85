package replay_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/starmates/logshipd/internal/event"
	"github.com/starmates/logshipd/internal/ingest"
	"github.com/starmates/logshipd/internal/ingest/replay"
)

// scriptLanes answers the commits of every lane with the statuses of
// script, in order (Delivered once the script is used up). The watermark
// is the end of the last line written.
type scriptLanes struct {
	script []event.Status
	wms    []int64
}

type scriptLane struct {
	s   *scriptLanes
	end int64
}

func (s *scriptLanes) NewLane(event.Origin) ingest.Lane { return &scriptLane{s: s} }

func (l *scriptLane) Write(_ []byte, _, end int64, _ time.Time) { l.end = end }
func (l *scriptLane) FlushIdle(time.Time) time.Time             { return time.Time{} }
func (l *scriptLane) FlushAll(time.Time)                        {}
func (l *scriptLane) Pending() int                              { return 0 }
func (l *scriptLane) Close()                                    {}
func (l *scriptLane) Commit(_ context.Context, done func(event.Status, int64)) error {
	st := event.Delivered
	if len(l.s.script) > 0 {
		st, l.s.script = l.s.script[0], l.s.script[1:]
	}
	l.s.wms = append(l.s.wms, l.end)
	done(st, l.end)
	return nil
}

// A failed batch freezes the file's ledger entry: a later delivered batch
// must not move it past the records that were not delivered, or the next
// run would skip them.
func TestFailedBatchFreezesLedgerEntry(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	writeLog(t, path, 20000, false, func(int) time.Time { return time.Now() })
	src, err := replay.New("replay", replay.Config{Paths: []string{path}, DataDir: dir, BatchBytes: 4096}, discard, &replay.Progress{})
	require.NoError(t, err)
	lanes := &scriptLanes{script: []event.Status{event.Delivered, event.Failed}}
	err = src.Run(t.Context(), lanes)
	require.ErrorContains(t, err, "not delivered")
	require.GreaterOrEqual(t, len(lanes.wms), 3, "several batches after the failed one")

	led, err := replay.OpenLedger(filepath.Join(dir, "replay"))
	require.NoError(t, err)
	require.Len(t, led.Entries, 1)
	for _, e := range led.Entries {
		assert.Equal(t, lanes.wms[0], e.Offset, "stays after the last batch delivered before the failure")
		assert.False(t, e.Done)
	}
}

// The ledger is saved while a replay runs, not only at its end: a crash
// (kill -9, no deferred save) re-ships at most SaveInterval of data.
func TestLedgerIsSavedDuringTheRun(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	writeLog(t, path, 4000, false, func(int) time.Time { return time.Now() })
	src, err := replay.New("replay", replay.Config{Paths: []string{path}, DataDir: dir, BatchBytes: 2048,
		Rate: 2000, SaveInterval: 20 * time.Millisecond}, discard, &replay.Progress{})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, &scriptLanes{}) }()
	var onDisk int64
	require.Eventually(t, func() bool {
		led, err := replay.OpenLedger(filepath.Join(dir, "replay"))
		if err != nil {
			t.Errorf("a concurrent save never leaves a torn ledger: %v", err)
			return false
		}
		for _, e := range led.Entries {
			onDisk = e.Offset
		}
		return onDisk > 0
	}, 10*time.Second, 5*time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("the run had already ended (%v): the ledger must be on disk before the end", err)
	default:
	}
	cancel()
	<-done
}

// Offsets count the bytes of the file, not of the lines passed on: a line
// cut at max_line_bytes (and marked) still moves the ledger past all of
// its bytes, so a resume starts exactly after the last acknowledged line.
func TestOffsetsCountCutLinesWhole(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	data := "short\n" + strings.Repeat("x", 5000) + "\nafter\n"
	require.NoError(t, os.WriteFile(path, []byte(data), 0o644))
	src, err := replay.New("replay", replay.Config{Paths: []string{path}, DataDir: dir, MaxLineBytes: 1024, BatchBytes: 1},
		discard, &replay.Progress{})
	require.NoError(t, err)
	lanes := &scriptLanes{}
	require.ErrorIs(t, src.Run(t.Context(), lanes), ingest.ErrEndOfInput)
	require.NotEmpty(t, lanes.wms)
	assert.EqualValues(t, len(data), lanes.wms[len(lanes.wms)-1], "the last line ends at the end of the file")
	led, err := replay.OpenLedger(filepath.Join(dir, "replay"))
	require.NoError(t, err)
	for _, e := range led.Entries {
		assert.EqualValues(t, len(data), e.Offset)
		assert.True(t, e.Done)
	}
}

// A paced replay (--rate) commits at least every second, so records reach
// the sinks and the ledger moves steadily instead of in 1 MiB bursts.
func TestPacedReplayCommitsEverySecond(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	writeLog(t, path, 50, false, func(int) time.Time { return time.Now() })
	src, err := replay.New("replay", replay.Config{Paths: []string{path}, DataDir: dir, Rate: 20}, discard, &replay.Progress{})
	require.NoError(t, err)
	lanes := &scriptLanes{}
	require.ErrorIs(t, src.Run(t.Context(), lanes), ingest.ErrEndOfInput)
	// 50 lines at 20/s take 2.5 s: commits after ~1 s and ~2 s, then the final one.
	assert.GreaterOrEqual(t, len(lanes.wms), 3, "timed commits before the end")
	assert.Less(t, lanes.wms[0], lanes.wms[len(lanes.wms)-1], "the first commit covers only part of the file")
}

// A temporary file left by a save that a crash interrupted is removed.
func TestStaleLedgerTempFilesAreRemoved(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "replay")
	require.NoError(t, os.MkdirAll(dir, 0o750))
	stale := filepath.Join(dir, ".ledger-123")
	require.NoError(t, os.WriteFile(stale, []byte("{"), 0o600))
	_, err := replay.OpenLedger(dir)
	require.NoError(t, err)
	_, err = os.Stat(stale)
	assert.True(t, os.IsNotExist(err))
}
