package stdin

import (
	"context"
	"errors"
	"io"
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
