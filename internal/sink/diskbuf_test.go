package sink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/starmates/logshipd/internal/event"
)

func testBatch(start, n int) *event.Batch {
	b := &event.Batch{}
	for i := start; i < start+n; i++ {
		r := event.Record{JSON: []byte(fmt.Sprintf(`{"message":"m%d"}`, i)), Time: time.Unix(int64(i), 0).UTC(),
			Level: event.LevelInfo, Service: "svc", Environment: "dev", Project: "p", HasTrace: i%2 == 0}
		if r.HasTrace {
			r.TraceID[0] = byte(i)
		}
		b.Append(&r, "src", "stream")
	}
	return b
}

func readAll(t *testing.T, d *DiskBuffer, commit bool) []string {
	br := d.newReader()
	defer br.close()
	var got []string
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		b, pos, err := d.Next(ctx, br)
		cancel()
		if err != nil {
			return got
		}
		for i := range b.Items {
			got = append(got, gjson.GetBytes(b.JSON(i), "message").Str)
		}
		if commit {
			require.NoError(t, d.Commit(pos))
		}
	}
}

func TestDiskBufferSurvivesCrashAndTornWrite(t *testing.T) {
	dir := t.TempDir()
	d, err := OpenDiskBuffer(dir, 64<<20, time.Hour)
	require.NoError(t, err)
	for i := range 100 {
		require.NoError(t, d.Append(testBatch(i*10, 10)))
	}
	// Deliver and commit the first 30 batches, then "crash": no Close.
	br := d.newReader()
	for range 30 {
		_, pos, err := d.Next(t.Context(), br)
		require.NoError(t, err)
		require.NoError(t, d.Commit(pos))
	}
	br.close()
	// A torn frame at the end of the last segment (the process died mid-write).
	segs, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	f, err := os.OpenFile(segs[len(segs)-1], os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	f.Write([]byte{200, 0, 0, 0, 1, 2, 3, 4, 'L', 'S'})
	f.Close()
	d.w.Close()

	d2, err := OpenDiskBuffer(dir, 64<<20, time.Hour)
	require.NoError(t, err)
	got := readAll(t, d2, true)
	require.Len(t, got, 700, "batches 30..99 are delivered again, the torn tail is dropped")
	assert.Equal(t, "m300", got[0])
	assert.Equal(t, "m999", got[699])
	require.NoError(t, d2.Append(testBatch(5000, 1)), "appends continue after the cut")
	assert.Equal(t, []string{"m5000"}, readAll(t, d2, true))
	require.NoError(t, d2.Close())
	b := testBatch(0, 3)
	dec, err := decodeBatch(encodeBatch(nil, b))
	require.NoError(t, err)
	assert.Equal(t, b.Items, dec.Items)
	assert.Equal(t, b.Buf, dec.Buf)
}

func TestDiskBufferBoundAndSegments(t *testing.T) {
	d, err := OpenDiskBuffer(t.TempDir(), 1<<20, 0)
	require.NoError(t, err)
	defer d.Close()
	var full int
	for i := range 2000 {
		if err := d.Append(testBatch(i*10, 10)); errors.Is(err, ErrBufferFull) {
			full++
		} else {
			require.NoError(t, err)
		}
	}
	assert.Positive(t, full)
	assert.LessOrEqual(t, d.Bytes(), int64(1<<20))
	segs, _ := filepath.Glob(filepath.Join(d.dir, "*.seg"))
	assert.Greater(t, len(segs), 1, "rotates segments")
	readAll(t, d, true)
	segs, _ = filepath.Glob(filepath.Join(d.dir, "*.seg"))
	assert.Len(t, segs, 1, "consumed segments are deleted")
	assert.Zero(t, d.Bytes())
}

// flakySink is down until up is set, then records messages.
type flakySink struct {
	up   atomic.Bool
	mu   sync.Mutex
	seen map[string]int
}

func (f *flakySink) Send(_ context.Context, b *event.Batch) error {
	if !f.up.Load() {
		return errors.New("connection refused")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range b.Items {
		f.seen[gjson.GetBytes(b.JSON(i), "message").Str]++
	}
	return nil
}
func (f *flakySink) Close(context.Context) error { return nil }

// An outage with a restart of the process in the middle: sources are
// acknowledged as soon as the disk buffer holds their batches, nothing is
// lost, and duplicates are bounded by the batch in delivery at the crash.
func TestDiskBufferedWorkerOutageWithRestart(t *testing.T) {
	dir := t.TempDir()
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	q := DefaultQueueConfig()
	q.Buffer, q.InitialBackoff, q.MaxBackoff = "disk", time.Millisecond, 5*time.Millisecond
	sinkDown := &flakySink{seen: map[string]int{}}

	run := func(s *flakySink, batches, from int) (acked int64, stop func()) {
		db, err := OpenDiskBuffer(dir, q.MaxDiskBytes, q.FsyncInterval)
		require.NoError(t, err)
		w := NewWorker("cw", s, q, nil, logger, nil)
		w.UseDiskBuffer(db)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { w.Run(ctx); close(done) }()
		var n atomic.Int64
		for i := range batches {
			b := testBatch(from+i*500, 500)
			b.Ack = event.NewAck(func(st event.Status) {
				if st == event.Delivered {
					n.Add(500)
				}
			})
			b.Ack.Add(1)
			require.NoError(t, w.Enqueue(ctx, b))
		}
		return n.Load(), func() { cancel(); <-done; db.w.Close() } // crash: no clean close
	}
	acked, crash := run(sinkDown, 60, 0) // 30k records while the destination is down
	assert.EqualValues(t, 30000, acked, "acknowledged once durable in the buffer")
	crash()

	sinkUp := &flakySink{seen: map[string]int{}}
	sinkUp.up.Store(true)
	acked, stop := run(sinkUp, 40, 30000) // 20k more after the restart
	assert.EqualValues(t, 20000, acked)
	require.Eventually(t, func() bool {
		sinkUp.mu.Lock()
		defer sinkUp.mu.Unlock()
		return len(sinkUp.seen) == 50000
	}, 20*time.Second, 10*time.Millisecond, "every record delivered after the outage and the restart")
	stop()
	dups := 0
	for _, c := range sinkUp.seen {
		dups += c - 1
	}
	assert.Zero(t, dups)
}

// At shutdown a disk-buffered worker whose sink is down stops retrying at
// once instead of waiting out the grace period: its batches are durable,
// and the next start delivers all of them.
func TestDiskBufferedWorkerLeavesBatchesOnDiskAtShutdown(t *testing.T) {
	dir := t.TempDir()
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	q := DefaultQueueConfig()
	q.Buffer, q.InitialBackoff, q.MaxBackoff = "disk", time.Hour, time.Hour
	start := func(s Sink) (*Worker, chan struct{}) {
		db, err := OpenDiskBuffer(dir, q.MaxDiskBytes, q.FsyncInterval)
		require.NoError(t, err)
		w := NewWorker("loki", s, q, nil, logger, nil)
		w.UseDiskBuffer(db)
		done := make(chan struct{})
		go func() { w.Run(t.Context()); close(done) }()
		return w, done
	}
	w, done := start(&flakySink{seen: map[string]int{}})
	for i := range 3 {
		b := testBatch(i*10, 10)
		b.Ack = event.NewAck(func(event.Status) {})
		b.Ack.Add(1)
		require.NoError(t, w.Enqueue(t.Context(), b))
	}
	require.Eventually(t, func() bool { return w.Stats().Retries.Load() > 0 }, 10*time.Second, time.Millisecond,
		"the first send fails and the worker backs off (for up to an hour)")
	w.Close()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run still waits on its backoff after Close")
	}
	require.NoError(t, w.CloseSink(t.Context()))

	up := &flakySink{seen: map[string]int{}}
	up.up.Store(true)
	w, done = start(up)
	require.Eventually(t, func() bool {
		up.mu.Lock()
		defer up.mu.Unlock()
		return len(up.seen) == 30
	}, 10*time.Second, 5*time.Millisecond, "the next start delivers every batch left on disk")
	w.Close()
	<-done
	require.NoError(t, w.CloseSink(t.Context()))
}

// FuzzDecodeBatch: the disk buffer's frame decoder never panics on corrupt
// payloads (CRC catches most corruption; this covers what slips through).
func FuzzDecodeBatch(f *testing.F) {
	f.Add(encodeBatch(nil, testBatch(0, 3)))
	f.Add([]byte("LSB1"))
	f.Add([]byte("LSB1\xff\xff\xff\xff\x0f"))
	f.Fuzz(func(t *testing.T, p []byte) {
		b, err := decodeBatch(p)
		if err != nil {
			return
		}
		for i := range b.Items {
			_ = b.JSON(i)
		}
		if _, err := decodeBatch(encodeBatch(nil, b)); err != nil {
			t.Fatalf("re-encoded batch does not decode: %v", err)
		}
	})
}
