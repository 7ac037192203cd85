package file

import (
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/starmates/logshipd/internal/checkpoint"
	"github.com/starmates/logshipd/internal/event"
)

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	return fi.Sys().(*syscall.Stat_t).Ino
}

func entries(t *testing.T, dataDir string) []checkpoint.Entry {
	t.Helper()
	st, err := checkpoint.Open(dataDir, "test")
	require.NoError(t, err)
	return st.Entries()
}

func entryFor(t *testing.T, dataDir, path string) (checkpoint.Entry, bool) {
	t.Helper()
	for _, e := range entries(t, dataDir) {
		if e.Path == path {
			return e, true
		}
	}
	return checkpoint.Entry{}, false
}

func TestReadsExistingAndAppendedLines(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.log")
	writeFile(t, path, lines("a", 0, 100))
	sink := newFakeSink(t)
	r := start(t, testConfig(filepath.Join(dir, "*.log")), t.TempDir(), sink)
	requireLines(t, sink, lines("a", 0, 100))
	appendFile(t, path, lines("a", 100, 200))
	requireLines(t, sink, lines("a", 100, 200))
	// A last line without newline waits for its newline.
	appendFile(t, path, "partial")
	appendFile(t, path, " line\n")
	requireLines(t, sink, "partial line\n")
	require.Equal(t, int64(201), r.src.Stats().LinesRead.Load())
	sink.requireNoProblems(t)
}

func TestNewFileAfterStartIsReadFromTheBeginning(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "present.log")
	writeFile(t, marker, "old\n")
	sink := newFakeSink(t)
	cfg := testConfig(filepath.Join(dir, "*.log"))
	cfg.StartAt = StartEnd
	dataDir := t.TempDir()
	start(t, cfg, dataDir, sink)
	// Once the file present at start has a checkpoint, the first scan is
	// over: files created now are new files.
	require.Eventually(t, func() bool { _, ok := entryFor(t, dataDir, marker); return ok }, 10*time.Second, 5*time.Millisecond)
	appendFile(t, marker, "appended\n")
	requireLines(t, sink, "appended\n")
	writeFile(t, filepath.Join(dir, "late.log"), lines("late", 0, 50))
	requireLines(t, sink, lines("late", 0, 50))
	sink.requireNoProblems(t)
}

func TestStartAtEnd(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.log")
	writeFile(t, path, lines("old", 0, 100))
	sink := newFakeSink(t)
	cfg := testConfig(path)
	cfg.StartAt = StartEnd
	dataDir := t.TempDir()
	r := start(t, cfg, dataDir, sink)
	// The entry at the end of the file is stored right away, so a restart
	// before anything is read does not re-read the old lines either.
	require.Eventually(t, func() bool {
		e, ok := entryFor(t, dataDir, path)
		return ok && e.Offset == int64(len(lines("old", 0, 100)))
	}, 10*time.Second, 5*time.Millisecond)
	appendFile(t, path, lines("new", 0, 10))
	requireLines(t, sink, lines("new", 0, 10))
	r.stop(t)
	require.Equal(t, 0, sink.count("old-0"))
	require.Equal(t, 0, sink.count("old-99"))

	// Restarted with start_at: end, the checkpoint wins: lines appended
	// while stopped are read.
	appendFile(t, path, lines("whilestopped", 0, 10))
	start(t, cfg, dataDir, sink)
	requireLines(t, sink, lines("whilestopped", 0, 10))
	require.Equal(t, 0, sink.count("old-0"))
	sink.requireNoProblems(t)
}

func TestCompressedFilesAreIgnored(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "app.log"), lines("live", 0, 10))
	for _, name := range []string{"app.log.1.gz", "app.log.2.zst", "app.log.3.bz2"} {
		f, err := os.Create(filepath.Join(dir, name))
		require.NoError(t, err)
		zw := gzip.NewWriter(f)
		_, err = zw.Write([]byte(lines("rotated", 0, 10)))
		require.NoError(t, err)
		require.NoError(t, zw.Close())
		require.NoError(t, f.Close())
	}
	writeFile(t, filepath.Join(dir, "plain.gz"), lines("plaintext-named-gz", 0, 3))
	sink := newFakeSink(t)
	// Even a pattern naming .gz files explicitly does not tail them.
	start(t, testConfig(filepath.Join(dir, "app.log*"), filepath.Join(dir, "*.gz")), t.TempDir(), sink)
	requireLines(t, sink, lines("live", 0, 10))
	writeFile(t, filepath.Join(dir, "app.log.4.gz"), lines("new-rotated", 0, 3))
	appendFile(t, filepath.Join(dir, "app.log"), "marker\n")
	requireLines(t, sink, "marker\n")
	require.Equal(t, 11, sink.total(), "only the live file's lines")
	sink.requireNoProblems(t)
}

func TestExclude(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "app.log"), "app\n")
	writeFile(t, filepath.Join(dir, "debug.log"), "debug\n")
	writeFile(t, filepath.Join(dir, "sub", "x.log"), "sub-x\n")
	writeFile(t, filepath.Join(dir, "sub", "deep", "y.log"), "sub-deep-y\n")
	writeFile(t, filepath.Join(dir, "other", "z.log"), "other-z\n")
	sink := newFakeSink(t)
	cfg := testConfig(filepath.Join(dir, "**", "*.log"))
	cfg.Exclude = []string{"debug.log", filepath.Join(dir, "sub", "**")}
	start(t, cfg, t.TempDir(), sink)
	requireLines(t, sink, "app\nother-z\n")
	appendFile(t, filepath.Join(dir, "app.log"), "marker\n")
	requireLines(t, sink, "marker\n")
	require.Equal(t, 3, sink.total())
	sink.requireNoProblems(t)
}

func TestDoubleStarGlob(t *testing.T) {
	dir := t.TempDir()
	paths := []string{
		filepath.Join(dir, "app.log"),
		filepath.Join(dir, "a", "app.log"),
		filepath.Join(dir, "a", "b", "c", "app.log"),
		filepath.Join(dir, "x", "app.log"),
	}
	for i, p := range paths {
		writeFile(t, p, fmt.Sprintf("depth-%d\n", i))
	}
	writeFile(t, filepath.Join(dir, "a", "other.log"), "not-matched\n")
	sink := newFakeSink(t)
	start(t, testConfig(filepath.Join(dir, "**", "app.log")), t.TempDir(), sink)
	requireLines(t, sink, "depth-0\ndepth-1\ndepth-2\ndepth-3\n")
	// A directory created later is found by the rescan.
	writeFile(t, filepath.Join(dir, "new", "deeper", "app.log"), "late-dir\n")
	requireLines(t, sink, "late-dir\n")
	require.Equal(t, 0, sink.count("not-matched"))
	sink.requireNoProblems(t)
}

func TestDeletedFileIsDrainedThenClosed(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.log")
	writeFile(t, path, lines("a", 0, 10))
	sink := newFakeSink(t)
	dataDir := t.TempDir()
	r := start(t, testConfig(path), dataDir, sink)
	requireLines(t, sink, lines("a", 0, 10))

	// A writer still holding the file appends after it was deleted: those
	// lines are read before the file is closed.
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	require.NoError(t, os.Remove(path))
	_, err = f.WriteString(lines("after-delete", 0, 20))
	require.NoError(t, err)
	require.NoError(t, f.Close())
	requireLines(t, sink, lines("after-delete", 0, 20))

	st := r.src.Stats()
	require.Eventually(t, func() bool { return st.FilesTracked.Load() == 0 }, 10*time.Second, 5*time.Millisecond)
	require.Equal(t, st.FilesOpened.Load(), st.FilesClosed.Load())
	lanes := sink.lanesFor(path)
	require.Len(t, lanes, 1)
	require.Eventually(t, func() bool {
		sink.mu.Lock()
		defer sink.mu.Unlock()
		return lanes[0].closed && lanes[0].flushes == 1
	}, 10*time.Second, 5*time.Millisecond, "a deleted file's lane is flushed (FlushAll) and closed")
	// Its checkpoint is forgotten once acknowledged.
	require.Eventually(t, func() bool {
		_, ok := entryFor(t, dataDir, path)
		return !ok
	}, 10*time.Second, 10*time.Millisecond)
	sink.requireNoProblems(t)
}

func TestOverLongLineIsTruncatedAndCounted(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.log")
	long := strings.Repeat("x", 10_000)
	writeFile(t, path, "before\n"+long+"\nafter\n")
	sink := newFakeSink(t)
	cfg := testConfig(path)
	cfg.MaxLineBytes = 1024
	cfg.ReadBufferBytes = 4096 // the long line spans reads
	r := start(t, cfg, t.TempDir(), sink)
	want := strings.Repeat("x", 1024) + " [truncated 8976 bytes]"
	requireLines(t, sink, "before\n"+want+"\nafter\n")
	require.Equal(t, int64(1), r.src.Stats().LinesTruncated.Load())

	// A long line written in pieces, with pauses, does not block the file.
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	for range 5 {
		before := r.src.Stats().BytesRead.Load()
		_, err = f.WriteString(strings.Repeat("y", 3000))
		require.NoError(t, err)
		require.Eventually(t, func() bool { return r.src.Stats().BytesRead.Load() >= before+3000 }, 10*time.Second, time.Millisecond)
	}
	_, err = f.WriteString("\nlast\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	requireLines(t, sink, strings.Repeat("y", 1024)+" [truncated 13976 bytes]\nlast\n")
	require.Equal(t, int64(2), r.src.Stats().LinesTruncated.Load())
	sink.requireNoProblems(t)
}

func TestTruncatedFileRestartsAtZero(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.log")
	writeFile(t, path, lines("gen0", 0, 100))
	sink := newFakeSink(t)
	r := start(t, testConfig(path), t.TempDir(), sink)
	requireLines(t, sink, lines("gen0", 0, 100))
	// Truncate, then write less than before.
	require.NoError(t, os.Truncate(path, 0))
	appendFile(t, path, lines("gen1", 0, 5))
	requireLines(t, sink, lines("gen1", 0, 5))
	// Truncate and refill past the old offset before the source looks:
	// the changed leading bytes give it away.
	require.Eventually(t, func() bool { return r.src.Stats().TruncationsDetected.Load() == 1 }, 10*time.Second, time.Millisecond)
	f, err := os.OpenFile(path, os.O_TRUNC|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(lines("gen2", 0, 300))
	require.NoError(t, err)
	require.NoError(t, f.Close())
	requireLines(t, sink, lines("gen2", 0, 300))
	require.Equal(t, int64(2), r.src.Stats().TruncationsDetected.Load())
	require.Equal(t, 1, sink.count("gen0-0"))
	sink.requireNoProblems(t)
}

// Two different files whose first lines (and even first
// fingerprint_bytes) are identical are both read in full.
func TestIdenticalFirstLinesInTwoFiles(t *testing.T) {
	dir := t.TempDir()
	shortHeader := "starting service v1.2.3\n"
	longHeader := strings.Repeat("=", 2000) + "\n" // longer than fingerprint_bytes
	writeFile(t, filepath.Join(dir, "a.log"), shortHeader+lines("a", 0, 50))
	writeFile(t, filepath.Join(dir, "b.log"), shortHeader+lines("b", 0, 50))
	writeFile(t, filepath.Join(dir, "c.log"), longHeader+lines("c", 0, 50))
	writeFile(t, filepath.Join(dir, "d.log"), longHeader+lines("d", 0, 50))
	writeFile(t, filepath.Join(dir, "e.log"), shortHeader) // the whole file is the shared line
	sink := newFakeSink(t)
	start(t, testConfig(filepath.Join(dir, "*.log")), t.TempDir(), sink)
	requireEventuallyCount(t, sink, strings.TrimSuffix(shortHeader, "\n"), 3)
	requireEventuallyCount(t, sink, strings.TrimSuffix(longHeader, "\n"), 2)
	for _, p := range []string{"a", "b", "c", "d"} {
		requireLines(t, sink, lines(p, 0, 50))
	}
	// Found later, a file with the same first fingerprint_bytes as a
	// followed one is compared further, then read in full.
	writeFile(t, filepath.Join(dir, "f.log"), longHeader+lines("f", 0, 50))
	requireLines(t, sink, lines("f", 0, 50))
	requireEventuallyCount(t, sink, strings.TrimSuffix(longHeader, "\n"), 3)
	sink.requireNoProblems(t)
}

func requireEventuallyCount(t *testing.T, s *fakeSink, line string, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return s.count(line) >= n }, 20*time.Second, 5*time.Millisecond)
	require.Equal(t, n, s.count(line))
}

// A reused inode whose new content starts with the whole content of the
// old file (identical first line) is recognised by its birth time and
// read from the start.
func TestInodeReuseWithIdenticalFirstLine(t *testing.T) {
	dir := t.TempDir()
	dataDir := t.TempDir()
	header := "HEADER same first line\n"
	path := filepath.Join(dir, "a.log")
	writeFile(t, path, header)
	sink := newFakeSink(t)
	cfg := testConfig(filepath.Join(dir, "*.log"))
	r := start(t, cfg, dataDir, sink)
	requireEventuallyCount(t, sink, strings.TrimSuffix(header, "\n"), 1)
	require.Eventually(t, func() bool { return sink.idle() }, 10*time.Second, 5*time.Millisecond)
	r.stop(t)
	old, ok := entryFor(t, dataDir, path)
	require.True(t, ok)
	require.Equal(t, int64(len(header)), old.Offset)

	// Replace the file by one that reuses the inode (ext4 hands a freed
	// inode number out again), starting with the same line.
	oldIno := inode(t, path)
	require.NoError(t, os.Remove(path))
	newPath := ""
	for i := range 200 {
		p := filepath.Join(dir, fmt.Sprintf("n%03d.log", i))
		writeFile(t, p, header+lines("new", 0, 5))
		if inode(t, p) == oldIno {
			newPath = p
			break
		}
		require.NoError(t, os.Remove(p))
	}
	if newPath == "" {
		// The file system did not reuse the inode: simulate it with an
		// entry for the new file's inode that has another birth time and
		// the fingerprint of the shared first line.
		newPath = filepath.Join(dir, "n.log")
		writeFile(t, newPath, header+lines("new", 0, 5))
		st, err := checkpoint.Open(dataDir, "test")
		require.NoError(t, err)
		fs, err := statPath(newPath)
		require.NoError(t, err)
		old.Device, old.Inode, old.Birth = fs.id.Device, fs.id.Inode, fs.birth-1
		st.Forget(checkpoint.FileID{Device: old.Device, Inode: oldIno})
		st.Set(old)
		require.NoError(t, st.Save())
		t.Log("inode not reused by the file system: simulated")
	}
	r = start(t, cfg, dataDir, sink)
	requireLines(t, sink, lines("new", 0, 5))
	requireEventuallyCount(t, sink, strings.TrimSuffix(header, "\n"), 2)
	require.Equal(t, int64(1), r.src.Stats().InodeReuses.Load())
	sink.requireNoProblems(t)
}

// Without birth times (or before the first run saw the old file), a
// reused inode whose leading bytes differ is told apart by the
// fingerprint.
func TestInodeReuseDetectedByFingerprint(t *testing.T) {
	dir := t.TempDir()
	dataDir := t.TempDir()
	path := filepath.Join(dir, "a.log")
	writeFile(t, path, "HEADER\n"+lines("new", 0, 5))
	fs, err := statPath(path)
	require.NoError(t, err)
	st, err := checkpoint.Open(dataDir, "test")
	require.NoError(t, err)
	oldContent := []byte("HEADER\nold-0\nold-1\n")
	st.Set(checkpoint.Entry{
		Device: fs.id.Device, Inode: fs.id.Inode, Fingerprint: checkpoint.Fingerprint(oldContent),
		FingerprintLen: len(oldContent), Generation: 3, Path: "/gone/old.log", Offset: int64(len(oldContent)), Updated: time.Now(),
	})
	require.NoError(t, st.Save())
	sink := newFakeSink(t)
	start(t, testConfig(path), dataDir, sink)
	requireLines(t, sink, "HEADER\n"+lines("new", 0, 5))
	require.Eventually(t, func() bool {
		e, ok := entryFor(t, dataDir, path)
		return ok && e.Generation == 4 && e.Offset == fs.size
	}, 10*time.Second, 10*time.Millisecond)
}

func TestMaxOpenFiles(t *testing.T) {
	dir := t.TempDir()
	const files, rounds, per = 20, 30, 20
	sink := newFakeSink(t)
	cfg := testConfig(filepath.Join(dir, "*.log"))
	cfg.MaxOpenFiles = 4
	r := start(t, cfg, t.TempDir(), sink)

	var maxHeld atomic.Int64
	stopSampling := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stopSampling:
				return
			case <-time.After(time.Millisecond):
			}
			if m := r.src.cur.Load(); m != nil {
				if h := int64(m.pool.held()); h > maxHeld.Load() {
					maxHeld.Store(h)
				}
			}
		}
	})
	var want strings.Builder
	for round := range rounds {
		for i := range files {
			chunk := lines(fmt.Sprintf("f%02d-r%02d", i, round), 0, per)
			appendFile(t, filepath.Join(dir, fmt.Sprintf("f%02d.log", i)), chunk)
			want.WriteString(chunk)
		}
		time.Sleep(5 * time.Millisecond) // keep every file active for a while (pacing, not an assertion)
	}
	requireLines(t, sink, want.String())
	close(stopSampling)
	wg.Wait()
	st := r.src.Stats()
	t.Logf("max_open_files=4, 20 active files: opened=%d closed=%d evictions=%d max held=%d", st.FilesOpened.Load(), st.FilesClosed.Load(), st.Evictions.Load(), maxHeld.Load())
	require.LessOrEqual(t, maxHeld.Load(), int64(4))
	require.Positive(t, st.Evictions.Load())
	require.Greater(t, st.FilesOpened.Load(), int64(files))
	require.Equal(t, int64(files), st.FilesTracked.Load())
	sink.requireNoProblems(t)
}

// An idle file's handle is closed after close_inactive and reopened when
// the file grows.
func TestCloseInactiveAndReopen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.log")
	writeFile(t, path, "one\n")
	sink := newFakeSink(t)
	cfg := testConfig(path)
	cfg.CloseInactive = 100 * time.Millisecond
	r := start(t, cfg, t.TempDir(), sink)
	requireLines(t, sink, "one\n")
	st := r.src.Stats()
	require.Eventually(t, func() bool { return st.FilesClosed.Load() == 1 }, 10*time.Second, 5*time.Millisecond)
	appendFile(t, path, "two\n")
	requireLines(t, sink, "two\n")
	require.Equal(t, int64(2), st.FilesOpened.Load())
	sink.requireNoProblems(t)
}

func TestRestartReadsOnlyNewLines(t *testing.T) {
	dir := t.TempDir()
	dataDir := t.TempDir()
	path := filepath.Join(dir, "a.log")
	writeFile(t, path, lines("first", 0, 1000))
	sink := newFakeSink(t)
	cfg := testConfig(path)
	r := start(t, cfg, dataDir, sink)
	requireLines(t, sink, lines("first", 0, 1000))
	require.Eventually(t, func() bool { return sink.idle() }, 10*time.Second, 5*time.Millisecond)
	r.stop(t)
	e, ok := entryFor(t, dataDir, path)
	require.True(t, ok)
	require.Equal(t, int64(len(lines("first", 0, 1000))), e.Offset)

	appendFile(t, path, lines("second", 0, 500))
	start(t, cfg, dataDir, sink)
	requireLines(t, sink, lines("second", 0, 500))
	requireLines(t, sink, lines("first", 0, 1000)) // still exactly once
	sink.requireNoProblems(t)
}

// The checkpoint only moves in the done callback: batches that fail, or
// that are never acknowledged, are read again after a restart.
func TestCheckpointNotAdvancedWithoutAck(t *testing.T) {
	for _, mode := range []string{"failed", "never"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			dataDir := t.TempDir()
			path := filepath.Join(dir, "a.log")
			writeFile(t, path, lines("x", 0, 200))
			sink := newFakeSink(t)
			switch mode {
			case "failed":
				sink.status.Store(uint32(event.Failed))
			case "never":
				sink.noAck.Store(true)
			}
			cfg := testConfig(path)
			r := start(t, cfg, dataDir, sink)
			requireLines(t, sink, lines("x", 0, 200))
			require.Eventually(t, func() bool { return sink.idle() }, 10*time.Second, 5*time.Millisecond)
			r.stop(t)
			if e, ok := entryFor(t, dataDir, path); ok {
				require.Zero(t, e.Offset)
			}
			if mode == "failed" {
				require.Positive(t, r.src.Stats().BatchesFailed.Load())
			}

			sink2 := newFakeSink(t)
			start(t, cfg, dataDir, sink2)
			requireLines(t, sink2, lines("x", 0, 200))
			sink2.requireNoProblems(t)
		})
	}
}

// Acknowledgements are applied in order and never move an offset
// backwards; after a failed batch, later ones do not move it either.
func TestAckOrderingGuards(t *testing.T) {
	src, err := New("test", testConfig("/nonexistent/*.log"), t.TempDir(), nil, nil)
	require.NoError(t, err)
	m := &manager{src: src, cfg: src.cfg, log: src.log, stats: src.stats, store: src.store, owners: map[checkpoint.FileID]*ckpt{}}
	c := m.newCkpt(checkpoint.Entry{Device: 1, Inode: 2, Fingerprint: checkpoint.Fingerprint(nil), Offset: 100})
	get := func() int64 { e, _ := src.store.Get(checkpoint.FileID{Device: 1, Inode: 2}); return e.Offset }
	require.Equal(t, int64(100), get())
	for range 4 {
		c.beginCommit()
	}
	c.ack(event.Delivered, 50) // a resumed lane reports 0..: never backwards
	require.Equal(t, int64(100), get())
	c.ack(event.Rejected, 300) // final statuses move on
	require.Equal(t, int64(300), get())
	c.ack(event.Failed, 400)
	require.Equal(t, int64(300), get())
	c.ack(event.Delivered, 500) // contiguous prefix only: not past the failed batch
	require.Equal(t, int64(300), get())
	require.Equal(t, int64(1), src.stats.BatchesFailed.Load())
}

// Shutdown commits what was read but does not FlushAll live files (their
// pending multiline records lie after the watermark).
func TestShutdownDoesNotFlushLiveFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.log")
	writeFile(t, path, lines("a", 0, 10))
	sink := newFakeSink(t)
	r := start(t, testConfig(path), t.TempDir(), sink)
	requireLines(t, sink, lines("a", 0, 10))
	r.stop(t)
	lanes := sink.lanesFor(path)
	require.Len(t, lanes, 1)
	sink.mu.Lock()
	defer sink.mu.Unlock()
	require.True(t, lanes[0].closed)
	require.Zero(t, lanes[0].flushes)
}

func TestCorruptCheckpointRefusesToStart(t *testing.T) {
	dataDir := t.TempDir()
	writeFile(t, filepath.Join(dataDir, "checkpoints", "test.json"), `{"version": 1, "entries": [`)
	_, err := New("test", testConfig("/var/log/*.log"), dataDir, nil, nil)
	require.ErrorIs(t, err, checkpoint.ErrCorrupt)
	require.ErrorContains(t, err, "refusing to start")
}

func TestRunTwiceConcurrentlyIsAnError(t *testing.T) {
	sink := newFakeSink(t)
	r := start(t, testConfig(filepath.Join(t.TempDir(), "*.log")), t.TempDir(), sink)
	require.Eventually(t, func() bool { return r.src.cur.Load() != nil }, 5*time.Second, time.Millisecond)
	err := r.src.Run(context.Background(), sink)
	require.ErrorContains(t, err, "already running")
}

// copytruncate while logshipd is stopped: the rotated copy continues from
// the checkpoint of the original (nothing is read twice), the truncated
// original is read from the start.
func TestCopyTruncateWhileStopped(t *testing.T) {
	dir := t.TempDir()
	dataDir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	writeFile(t, path, lines("before", 0, 300)) // > fingerprint_bytes
	sink := newFakeSink(t)
	cfg := testConfig(path + "*")
	r := start(t, cfg, dataDir, sink)
	requireLines(t, sink, lines("before", 0, 300))
	require.Eventually(t, func() bool { return sink.idle() }, 10*time.Second, 5*time.Millisecond)
	r.stop(t)

	appendFile(t, path, lines("unread", 0, 100)) // written after the stop, before the rotation
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	writeFile(t, path+".1", string(b))
	require.NoError(t, os.Truncate(path, 0))
	appendFile(t, path, lines("after", 0, 50))

	r = start(t, cfg, dataDir, sink)
	requireLines(t, sink, lines("unread", 0, 100))
	requireLines(t, sink, lines("after", 0, 50))
	requireLines(t, sink, lines("before", 0, 300)) // still once
	st := r.src.Stats()
	require.Equal(t, int64(1), st.CopiesResumed.Load())
	require.Equal(t, int64(1), st.TruncationsDetected.Load())
	sink.requireNoProblems(t)
}

// A copy of a live file (cp app.log app.log.bak, matched by the
// patterns) holds nothing the original does not: it is not read while
// the original lives on.
func TestCopyOfLiveFileIsNotReadTwice(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	writeFile(t, path, lines("orig", 0, 300))
	sink := newFakeSink(t)
	cfg := testConfig(path + "*")
	cfg.CloseInactive = time.Minute // how long such a copy is held back
	r := start(t, cfg, t.TempDir(), sink)
	requireLines(t, sink, lines("orig", 0, 300))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	writeFile(t, path+".bak", string(b))
	appendFile(t, path, "marker\n")
	requireLines(t, sink, "marker\n")
	// Give the scan time to see the copy, then check nothing was re-read.
	require.Eventually(t, func() bool {
		m := r.src.cur.Load()
		m.mu.Lock()
		defer m.mu.Unlock()
		return len(m.pending) == 1
	}, 10*time.Second, 5*time.Millisecond)
	requireLines(t, sink, lines("orig", 0, 300))
}

// rename/create rotation where every new file starts with the same long
// banner (longer than fingerprint_bytes): the new file resembles the
// renamed one, which is then deleted (compressed). Nothing of the new
// file may be skipped, banner included.
func TestRenameRotationWithIdenticalBanner(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	banner := strings.Repeat("#", 2000) + "\n"
	writeFile(t, path, banner+lines("old", 0, 100))
	sink := newFakeSink(t)
	r := start(t, testConfig(path+"*"), t.TempDir(), sink)
	requireLines(t, sink, lines("old", 0, 100))
	require.NoError(t, os.Rename(path, path+".1"))
	writeFile(t, path, banner)
	// Let a scan see the new file while its whole content is the banner.
	require.Eventually(t, func() bool {
		m := r.src.cur.Load()
		m.mu.Lock()
		defer m.mu.Unlock()
		return len(m.pending) == 1
	}, 10*time.Second, 5*time.Millisecond)
	gzipAndRemove(t, path+".1")
	appendFile(t, path, lines("new", 0, 100))
	requireLines(t, sink, lines("new", 0, 100))
	requireEventuallyCount(t, sink, strings.TrimSuffix(banner, "\n"), 2)
	sink.requireNoProblems(t)
}

// Changing fingerprint_bytes between runs does not make files look new.
func TestFingerprintBytesChangedBetweenRuns(t *testing.T) {
	dir := t.TempDir()
	dataDir := t.TempDir()
	path := filepath.Join(dir, "a.log")
	writeFile(t, path, lines("first", 0, 500))
	sink := newFakeSink(t)
	cfg := testConfig(path)
	cfg.FingerprintBytes = 4096
	r := start(t, cfg, dataDir, sink)
	requireLines(t, sink, lines("first", 0, 500))
	require.Eventually(t, func() bool { return sink.idle() }, 10*time.Second, 5*time.Millisecond)
	r.stop(t)
	e, ok := entryFor(t, dataDir, path)
	require.True(t, ok)
	require.Equal(t, 4096, e.FingerprintLen)

	appendFile(t, path, lines("second", 0, 5))
	cfg.FingerprintBytes = 1024
	start(t, cfg, dataDir, sink)
	requireLines(t, sink, lines("second", 0, 5))
	requireLines(t, sink, lines("first", 0, 500))
	require.Eventually(t, func() bool {
		e, ok := entryFor(t, dataDir, path)
		return ok && e.FingerprintLen == 1024
	}, 10*time.Second, 10*time.Millisecond)
}

// However many files are busy, only a few are read at the same time (one
// batch each, then they take turns): what is buffered stays bounded, and
// every file is still read whole.
func TestBusyFilesTakeTurns(t *testing.T) {
	dir := t.TempDir()
	var want []string
	for i := range 24 {
		name := fmt.Sprintf("f%02d", i)
		content := lines(name, 0, 3000)
		writeFile(t, filepath.Join(dir, name+".log"), content)
		want = append(want, content)
	}
	sink := newFakeSink(t)
	cfg := testConfig(filepath.Join(dir, "*.log"))
	cfg.BatchMaxBytes = 4096
	cfg.ReadBufferBytes = minReadBuffer
	cfg.BatchMaxWait = time.Hour
	start(t, cfg, t.TempDir(), sink)
	requireLines(t, sink, strings.Join(want, ""))
	sink.mu.Lock()
	defer sink.mu.Unlock()
	assert.LessOrEqual(t, sink.maxDirty, runtime.GOMAXPROCS(0)+1, "files read at the same time")
	assert.Greater(t, sink.maxDirty, 0)
	assert.Empty(t, sink.problems)
}
