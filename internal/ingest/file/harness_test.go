package file

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/starmates/logshipd/internal/event"
	"github.com/starmates/logshipd/internal/ingest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeSink implements ingest.Lanes. It records every line handed over by
// a Commit, checks that each lane's offsets are contiguous, and runs the
// done callbacks in commit order from one goroutine, after an optional
// delay, with a controllable status (or never).
type fakeSink struct {
	t *testing.T

	mu        sync.Mutex
	lanes     []*fakeLane
	committed map[string]int
	acked     map[string]int
	problems  []string
	commits   int
	// Lanes written to since their last commit, now and at most: how many
	// files were being read at the same time.
	dirty, maxDirty int

	delay  atomic.Int64 // ns before each ack
	status atomic.Uint32
	noAck  atomic.Bool
	// onAck, if set, runs (under mu) after the ack of a batch: tests use
	// it to take a consistent snapshot of the checkpoint file.
	onAck func(lines []string)

	q    chan ackItem
	stop chan struct{}
	wg   sync.WaitGroup
}

type ackItem struct {
	lines []string
	done  func(event.Status, int64)
	wm    int64
}

func newFakeSink(t *testing.T) *fakeSink {
	s := &fakeSink{t: t, committed: map[string]int{}, acked: map[string]int{}, q: make(chan ackItem, 1<<16), stop: make(chan struct{})}
	s.wg.Go(s.ackLoop)
	t.Cleanup(s.close)
	return s
}

func (s *fakeSink) close() {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	s.wg.Wait()
}

func (s *fakeSink) ackLoop() {
	for {
		select {
		case <-s.stop:
			return
		case it := <-s.q:
			if d := time.Duration(s.delay.Load()); d > 0 {
				select {
				case <-time.After(d):
				case <-s.stop:
					return
				}
			}
			if s.noAck.Load() {
				continue
			}
			st := event.Status(s.status.Load())
			it.done(st, it.wm)
			s.mu.Lock()
			if st != event.Failed {
				for _, l := range it.lines {
					s.acked[l]++
				}
			}
			if s.onAck != nil {
				s.onAck(it.lines)
			}
			s.mu.Unlock()
		}
	}
}

// idle reports whether every queued ack was delivered.
func (s *fakeSink) idle() bool { return len(s.q) == 0 }

func (s *fakeSink) NewLane(origin event.Origin) ingest.Lane {
	l := &fakeLane{s: s, origin: origin, next: -1}
	s.mu.Lock()
	s.lanes = append(s.lanes, l)
	s.mu.Unlock()
	return l
}

func (s *fakeSink) count(line string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.committed[line]
}

func (s *fakeSink) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.committed {
		n += c
	}
	return n
}

func (s *fakeSink) snapshot() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.committed))
	for k, v := range s.committed {
		out[k] = v
	}
	return out
}

func (s *fakeSink) requireNoProblems(t *testing.T) {
	s.mu.Lock()
	defer s.mu.Unlock()
	require.Empty(t, s.problems)
}

type fakeLane struct {
	s       *fakeSink
	origin  event.Origin
	batch   []string
	lastEnd int64
	next    int64
	closed  bool
	written int
	commitN int
	flushes int // FlushAll calls
}

func (l *fakeLane) Write(line []byte, start, end int64, _ time.Time) {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	if l.closed {
		l.s.problems = append(l.s.problems, l.origin.Path+": write after close")
	}
	if l.next >= 0 && start != l.next {
		l.s.problems = append(l.s.problems, fmt.Sprintf("%s: line at %d, expected %d (gap or overlap)", l.origin.Path, start, l.next))
	}
	if end <= start {
		l.s.problems = append(l.s.problems, fmt.Sprintf("%s: empty range %d..%d", l.origin.Path, start, end))
	}
	l.next = end
	l.lastEnd = end
	l.written++
	if len(l.batch) == 0 {
		l.s.dirty++
		l.s.maxDirty = max(l.s.maxDirty, l.s.dirty)
	}
	l.batch = append(l.batch, string(line))
}

func (l *fakeLane) FlushIdle(time.Time) time.Time { return time.Time{} }

func (l *fakeLane) FlushAll(time.Time) {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	l.flushes++
}

func (l *fakeLane) Pending() int {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	return len(l.batch)
}

func (l *fakeLane) Close() {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	l.closed = true
}

func (l *fakeLane) Commit(_ context.Context, done func(event.Status, int64)) error {
	l.s.mu.Lock()
	if l.closed {
		l.s.problems = append(l.s.problems, l.origin.Path+": commit after close")
	}
	lines := l.batch
	if len(lines) > 0 {
		l.s.dirty--
	}
	l.batch = nil
	l.commitN += len(lines)
	l.s.commits++
	for _, x := range lines {
		l.s.committed[x]++
	}
	wm := l.lastEnd
	l.s.mu.Unlock()
	l.s.q <- ackItem{lines: lines, done: done, wm: wm}
	return nil
}

// testConfig is a fast configuration for tests.
func testConfig(include ...string) Config {
	c := DefaultConfig()
	c.Include = include
	c.PollInterval = 20 * time.Millisecond
	c.RescanInterval = 100 * time.Millisecond
	c.CheckpointInterval = 50 * time.Millisecond
	c.BatchMaxWait = 20 * time.Millisecond
	c.CloseInactive = time.Second
	return c
}

func testLogger(t *testing.T) *slog.Logger {
	if os.Getenv("FILE_SOURCE_DEBUG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// running is a source started in the background.
type running struct {
	src    *Source
	cancel context.CancelFunc
	done   chan error
}

func start(t *testing.T, cfg Config, dataDir string, lanes ingest.Lanes) *running {
	t.Helper()
	src, err := New("test", cfg, dataDir, testLogger(t), nil)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	r := &running{src: src, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- src.Run(ctx, lanes) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

func (r *running) stop(t *testing.T) {
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	select {
	case err := <-r.done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
}

func appendFile(t *testing.T, path, content string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	require.NoError(t, err)
	_, err = f.WriteString(content)
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

// lines returns "prefix-<i>\n" for i in [from, to).
func lines(prefix string, from, to int) string {
	var b strings.Builder
	for i := from; i < to; i++ {
		fmt.Fprintf(&b, "%s-%d\n", prefix, i)
	}
	return b.String()
}

// requireLines waits until each of the lines was committed exactly once
// (and nothing else arrives meanwhile with the same text).
func requireLines(t *testing.T, s *fakeSink, text string) {
	t.Helper()
	want := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	require.Eventually(t, func() bool {
		for _, l := range want {
			if s.count(l) < 1 {
				return false
			}
		}
		return true
	}, 20*time.Second, 5*time.Millisecond, "lines did not arrive")
	for _, l := range want {
		require.Equal(t, 1, s.count(l), "line %q", l)
	}
}

// assertEventually polls cond until it holds or timeout passes.
func assertEventually(t *testing.T, cond func() bool, timeout time.Duration) bool {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return cond()
}

func statsString(st *Stats) string {
	return fmt.Sprintf("opened=%d closed=%d tracked=%d evictions=%d renames=%d copytrunc=%d truncations=%d reuses=%d copies=%d lines=%d truncatedLines=%d bytes=%d readErrors=%d failed=%d saves=%d lag=%d",
		st.FilesOpened.Load(), st.FilesClosed.Load(), st.FilesTracked.Load(), st.Evictions.Load(), st.RotationsRename.Load(),
		st.RotationsCopyTruncate.Load(), st.TruncationsDetected.Load(), st.InodeReuses.Load(), st.CopiesResumed.Load(),
		st.LinesRead.Load(), st.LinesTruncated.Load(), st.BytesRead.Load(), st.ReadErrors.Load(), st.BatchesFailed.Load(),
		st.CheckpointSaves.Load(), st.CheckpointLagBytes.Load())
}

// dumpState describes the running manager's trackers and pending files.
func dumpState(src *Source) string {
	m := src.cur.Load()
	if m == nil {
		return "not running"
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder
	for id, t := range m.trackers {
		fmt.Fprintf(&b, "tracker %v path=%s unmatched=%v size=%d\n", id, t.path(), t.unmatched.Load(), t.size.Load())
	}
	for id, p := range m.pending {
		fmt.Fprintf(&b, "pending %v path=%s copyOf=%v verified=%d\n", id, p.path, p.copyOf != nil, p.verified)
	}
	m.lanes.(*fakeSink).mu.Lock()
	for _, l := range m.lanes.(*fakeSink).lanes {
		fmt.Fprintf(&b, "lane %s written=%d committed=%d closed=%v lastEnd=%d\n", l.origin.Path, l.written, l.commitN, l.closed, l.lastEnd)
	}
	m.lanes.(*fakeSink).mu.Unlock()
	files, _ := m.expand()
	for _, f := range files {
		fmt.Fprintf(&b, "on disk %v %s size=%d birth=%d\n", f.st.id, f.path, f.st.size, f.st.birth)
	}
	return b.String()
}

// lanesFor returns the lanes opened for path.
func (s *fakeSink) lanesFor(path string) []*fakeLane {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*fakeLane
	for _, l := range s.lanes {
		if l.origin.Path == path {
			out = append(out, l)
		}
	}
	return out
}

func (s *fakeSink) ackedCount(line string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.acked[line]
}
