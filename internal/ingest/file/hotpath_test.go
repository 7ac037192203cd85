package file

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/starmates/logshipd/internal/checkpoint"
	"github.com/starmates/logshipd/internal/event"
	"github.com/starmates/logshipd/internal/ingest"
)

// nopLanes is a lane that discards everything (hot-path measurements).
type nopLanes struct{ n int }

func (l *nopLanes) NewLane(event.Origin) ingest.Lane                        { return l }
func (l *nopLanes) Write([]byte, int64, int64, time.Time)                   { l.n++ }
func (l *nopLanes) FlushIdle(time.Time) time.Time                           { return time.Time{} }
func (l *nopLanes) FlushAll(time.Time)                                      {}
func (l *nopLanes) Pending() int                                            { return 0 }
func (l *nopLanes) Close()                                                  {}
func (l *nopLanes) Commit(context.Context, func(event.Status, int64)) error { return nil }

func hotStream(tb testing.TB) (*stream, []byte) {
	src, err := New("test", testConfig("/nonexistent/*.log"), tb.TempDir(), nil, nil)
	require.NoError(tb, err)
	m := &manager{src: src, cfg: src.cfg, log: src.log, stats: src.stats, store: src.store, lanes: &nopLanes{}, owners: map[checkpoint.FileID]*ckpt{}}
	ck := m.newCkpt(checkpoint.Entry{Device: 1, Inode: 1, Fingerprint: checkpoint.Fingerprint(nil)})
	s := m.newStream("/x.log", 0, newHead(nil, 1024), ck)
	var b strings.Builder
	for i := 0; b.Len() < 256<<10; i++ {
		fmt.Fprintf(&b, `{"time":"2026-08-01T12:00:00Z","level":"info","msg":"request %d done","tracking_id":"0f8fad5b-d9cb-469f-a165-70867728950e"}`+"\n", i)
	}
	return s, []byte(b.String())
}

// Framing a chunk into lane writes allocates nothing per line.
func TestFeedDoesNotAllocate(t *testing.T) {
	s, chunk := hotStream(t)
	now := time.Now()
	s.feed(chunk, now) // warm up (ring)
	allocs := testing.AllocsPerRun(20, func() { s.feed(chunk, now) })
	require.Zero(t, allocs)
}

// go test -run '^$' -bench BenchmarkFeed -benchmem -count 6 ./internal/ingest/file/ | benchstat -
func BenchmarkFeed(b *testing.B) {
	s, chunk := hotStream(b)
	now := time.Now()
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()
	for b.Loop() {
		s.feed(chunk, now)
	}
}
