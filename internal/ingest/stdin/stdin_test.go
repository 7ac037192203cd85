package stdin

import (
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/starmates/logshipd/internal/event"
	"github.com/starmates/logshipd/internal/ingest"
)

// recLanes records what its single lane was given and acknowledges every
// commit at once.
type recLanes struct {
	lines     []string
	committed int // lines written before the last commit
	commits   int
}

func (r *recLanes) NewLane(event.Origin) ingest.Lane { return r }
func (r *recLanes) Write(line []byte, _, _ int64, _ time.Time) {
	r.lines = append(r.lines, string(line))
}
func (r *recLanes) FlushIdle(time.Time) time.Time { return time.Time{} }
func (r *recLanes) FlushAll(time.Time)            {}
func (r *recLanes) Pending() int                  { return len(r.lines) - r.committed }
func (r *recLanes) Close()                        {}
func (r *recLanes) Commit(_ context.Context, done func(event.Status, int64)) error {
	r.committed, r.commits = len(r.lines), r.commits+1
	done(event.Delivered, -1)
	return nil
}

type failingReader struct {
	data []byte
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

// A read error ends the source with the error, after shipping every line
// read before it (the last one even without its newline).
func TestReadErrorShipsWhatWasRead(t *testing.T) {
	src, err := New("in", DefaultConfig(), &failingReader{data: []byte("one\ntwo\nthr"), err: errors.New("EIO")})
	require.NoError(t, err)
	lanes := &recLanes{}
	err = src.Run(t.Context(), lanes)
	require.ErrorContains(t, err, "read stdin: EIO")
	assert.Equal(t, []string{"one", "two", "thr"}, lanes.lines)
	assert.Equal(t, 3, lanes.committed, "every line committed before Run returned")
	assert.EqualValues(t, 1, src.Stats().ReadErrors.Load())
}

// At EOF the same happens and Run reports the end of input.
func TestEOFShipsEverything(t *testing.T) {
	src, err := New("in", DefaultConfig(), &failingReader{data: []byte("a\nb\n"), err: io.EOF})
	require.NoError(t, err)
	lanes := &recLanes{}
	require.ErrorIs(t, src.Run(t.Context(), lanes), ingest.ErrEndOfInput)
	assert.Equal(t, []string{"a", "b"}, lanes.lines)
	assert.Equal(t, 2, lanes.committed)
}

// ctxLanes refuses commits whose context has ended, like the pipeline's
// lanes do, and is safe to inspect while Run runs.
type ctxLanes struct {
	mu        sync.Mutex
	lines     []string
	committed int
}

func (r *ctxLanes) NewLane(event.Origin) ingest.Lane { return r }
func (r *ctxLanes) Write(line []byte, _, _ int64, _ time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, string(line))
}
func (r *ctxLanes) FlushIdle(time.Time) time.Time { return time.Time{} }
func (r *ctxLanes) FlushAll(time.Time)            {}
func (r *ctxLanes) Pending() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.lines) - r.committed
}
func (r *ctxLanes) Close() {}
func (r *ctxLanes) Commit(ctx context.Context, done func(event.Status, int64)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	r.committed = len(r.lines)
	r.mu.Unlock()
	done(event.Delivered, -1)
	return nil
}

// At shutdown (SIGTERM cancels the context) everything read is committed
// past the cancellation, the last line without its newline included:
// stdin cannot be read again.
func TestShutdownCommitsEverythingRead(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	cfg := DefaultConfig()
	cfg.BatchMaxWait = time.Hour // no timed commit: only the shutdown one
	src, err := New("in", cfg, pr)
	require.NoError(t, err)
	lanes := &ctxLanes{}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, lanes) }()
	_, err = pw.Write([]byte("a\nb\npart"))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return lanes.Pending() == 2 }, 10*time.Second, time.Millisecond)
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	lanes.mu.Lock()
	defer lanes.mu.Unlock()
	assert.Equal(t, []string{"a", "b", "part"}, lanes.lines)
	assert.Equal(t, 3, lanes.committed, "the shutdown commit was made despite the cancelled context")
	assert.EqualValues(t, 3, src.Stats().Lines.Load())
}
