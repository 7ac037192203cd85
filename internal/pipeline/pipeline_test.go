package pipeline

import (
	"bufio"
	"context"
	"encoding/json"
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
	"go.uber.org/goleak"

	"github.com/starmates/logshipd/internal/event"
	"github.com/starmates/logshipd/internal/ingest"
	"github.com/starmates/logshipd/internal/normalize"
	"github.com/starmates/logshipd/internal/sink"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var discard = slog.New(slog.NewJSONHandler(io.Discard, nil))

// recorder is a sink that keeps every message and can fail on demand.
type recorder struct {
	mu       sync.Mutex
	msgs     []string
	failNext atomic.Int32 // retryable failures to return first
	perm     atomic.Bool  // refuse everything for good
	partial  atomic.Bool  // refuse the first record of each batch
	block    chan struct{}
}

func (r *recorder) Send(ctx context.Context, b *event.Batch) error {
	if r.block != nil {
		select {
		case <-r.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if r.failNext.Load() > 0 {
		r.failNext.Add(-1)
		return errors.New("temporary outage")
	}
	if r.perm.Load() {
		return sink.Permanent(errors.New("bad request"))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	start := 0
	if r.partial.Load() && len(b.Items) > 0 {
		start = 1
	}
	for i := start; i < len(b.Items); i++ {
		r.msgs = append(r.msgs, gjson.GetBytes(b.JSON(i), "message").Str)
	}
	if start == 1 {
		return &sink.PartialError{Items: []sink.ItemError{{Index: 0, Reason: "too_old", Detail: "older than 14 days"}}}
	}
	return nil
}

func (r *recorder) Close(context.Context) error { return nil }

func (r *recorder) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.msgs...)
}

// lineSource writes n lines, committing every `per` lines, and records the
// done callbacks.
type lineSource struct {
	n, per int
	mu     sync.Mutex
	acks   []ack
	all    sync.WaitGroup
	end    bool // return ErrEndOfInput after the lines, else wait for ctx
}

type ack struct {
	st event.Status
	wm int64
	n  int // records in the batch (JSON lines stay pending until the next line)
}

func (s *lineSource) Name() string { return "lines" }

func (s *lineSource) Run(ctx context.Context, lanes ingest.Lanes) error {
	lane := lanes.NewLane(event.Origin{Kind: "test"})
	var off int64
	now := time.Now()
	for i := range s.n {
		line := fmt.Sprintf(`{"msg":"m%d","level":"info"}`, i)
		lane.Write([]byte(line), off, off+int64(len(line))+1, now)
		off += int64(len(line)) + 1
		if (i+1)%s.per == 0 || i == s.n-1 {
			if i == s.n-1 {
				lane.FlushAll(now)
			}
			s.all.Add(1)
			n := lane.Pending()
			if err := lane.Commit(ctx, func(st event.Status, wm int64) {
				s.mu.Lock()
				s.acks = append(s.acks, ack{st, wm, n})
				s.mu.Unlock()
				s.all.Done()
			}); err != nil {
				s.all.Done()
				return err
			}
		}
	}
	if s.end {
		return ingest.ErrEndOfInput
	}
	<-ctx.Done()
	return nil
}

func (s *lineSource) acked() []ack {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ack(nil), s.acks...)
}

func newPipeline(t *testing.T, src ingest.Source, sinks map[string]sink.Sink, q sink.QueueConfig, grace time.Duration) (*Pipeline, string) {
	dir := t.TempDir()
	var specs []SinkSpec
	for name, s := range sinks {
		specs = append(specs, SinkSpec{Name: name, Sink: s, Queue: q})
	}
	p, err := New(discard, dir, grace, []SourceSpec{{Name: "lines", Source: src, Normalize: normalize.DefaultConfig()}}, specs)
	require.NoError(t, err)
	return p, dir
}

func fastQueue() sink.QueueConfig {
	q := sink.DefaultQueueConfig()
	q.InitialBackoff, q.MaxBackoff = time.Millisecond, 5*time.Millisecond
	return q
}

func TestFanOutDeliversEverythingInOrderWithRetries(t *testing.T) {
	a, b := &recorder{}, &recorder{}
	b.failNext.Store(5)
	src := &lineSource{n: 1000, per: 37, end: true}
	p, _ := newPipeline(t, src, map[string]sink.Sink{"a": a, "b": b}, fastQueue(), 5*time.Second)
	require.NoError(t, p.Run(t.Context()))
	for _, r := range []*recorder{a, b} {
		got := r.got()
		require.Len(t, got, 1000)
		for i, m := range got {
			require.Equal(t, fmt.Sprintf("m%d", i), m)
		}
	}
	acks := src.acked()
	require.Len(t, acks, (1000+36)/37)
	for i := 1; i < len(acks); i++ {
		assert.Equal(t, event.Delivered, acks[i].st)
		assert.Greater(t, acks[i].wm, acks[i-1].wm, "watermarks arrive in commit order")
	}
	assert.EqualValues(t, 5, p.Workers()[0].Stats().Retries.Load()+p.Workers()[1].Stats().Retries.Load())
}

func TestPermanentAndPartialRefusalsAreDeadLettered(t *testing.T) {
	perm, part := &recorder{}, &recorder{}
	perm.perm.Store(true)
	part.partial.Store(true)
	src := &lineSource{n: 10, per: 5, end: true}
	p, dir := newPipeline(t, src, map[string]sink.Sink{"perm": perm, "part": part}, fastQueue(), 5*time.Second)
	require.NoError(t, p.Run(t.Context()))
	for _, a := range src.acked() {
		assert.Equal(t, event.Rejected, a.st, "worst status wins")
	}
	lines := readLines(t, filepath.Join(dir, "dead-letter", "perm.jsonl"))
	require.Len(t, lines, 10)
	assert.Equal(t, "refused", gjson.Get(lines[0], "reason").Str)
	assert.Equal(t, "m0", gjson.Get(lines[0], "record.message").Str)
	lines = readLines(t, filepath.Join(dir, "dead-letter", "part.jsonl"))
	require.Len(t, lines, 2)
	assert.Equal(t, "too_old", gjson.Get(lines[1], "reason").Str)
	assert.Equal(t, "m5", gjson.Get(lines[1], "record.message").Str, "JSON records are emitted at once: batches are m0-m4 and m5-m9")
	assert.Len(t, part.got(), 8)
}

func TestBackpressureBlocksSourceAndAckWaitsForSlowSink(t *testing.T) {
	slow := &recorder{block: make(chan struct{})}
	fast := &recorder{}
	q := fastQueue()
	q.MaxBatches = 1
	src := &lineSource{n: 50, per: 1}
	p, _ := newPipeline(t, src, map[string]sink.Sink{"slow": slow, "fast": fast}, q, time.Second)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- p.Run(ctx) }()
	require.Eventually(t, func() bool { return len(fast.got()) >= 1 }, 5*time.Second, 5*time.Millisecond)
	time.Sleep(50 * time.Millisecond) // let the source run into the full queue
	for _, a := range src.acked() {
		assert.Zero(t, a.n, "no ack of a non-empty batch while one sink has not delivered")
	}
	assert.Less(t, len(fast.got()), 5, "the source is held back by the slow sink's full queue")
	close(slow.block)
	require.Eventually(t, func() bool { return len(src.acked()) == 50 }, 5*time.Second, 5*time.Millisecond)
	cancel()
	require.NoError(t, <-done)
}

func TestDropNewestCounts(t *testing.T) {
	slow := &recorder{block: make(chan struct{})}
	q := fastQueue()
	q.MaxBatches = 1
	q.WhenFull = "drop_newest"
	src := &lineSource{n: 20, per: 1}
	p, _ := newPipeline(t, src, map[string]sink.Sink{"slow": slow}, q, time.Second)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- p.Run(ctx) }()
	require.Eventually(t, func() bool { return p.Workers()[0].Stats().Dropped.Load() > 0 }, 5*time.Second, 5*time.Millisecond)
	close(slow.block)
	require.Eventually(t, func() bool { return len(src.acked()) == 20 }, 5*time.Second, 5*time.Millisecond)
	dropped := 0
	for _, a := range src.acked() {
		if a.st == event.Dropped {
			dropped += a.n
		}
	}
	assert.EqualValues(t, dropped, p.Workers()[0].Stats().Dropped.Load())
	assert.Equal(t, 20, dropped+len(slow.got()), "every record is delivered or counted as dropped")
	cancel()
	require.NoError(t, <-done)
}

func TestGraceEndsUndeliverableBatchesAsFailed(t *testing.T) {
	down := &recorder{}
	down.failNext.Store(1 << 30)
	src := &lineSource{n: 3, per: 1, end: true}
	p, _ := newPipeline(t, src, map[string]sink.Sink{"down": down}, fastQueue(), 100*time.Millisecond)
	start := time.Now()
	require.NoError(t, p.Run(t.Context()))
	assert.Less(t, time.Since(start), 5*time.Second)
	acks := src.acked()
	require.Len(t, acks, 3)
	for _, a := range acks {
		if a.n > 0 {
			assert.Equal(t, event.Failed, a.st, "nothing undelivered is acknowledged")
		}
	}
}

func readLines(t *testing.T, path string) []string {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		require.True(t, json.Valid(sc.Bytes()), sc.Text())
		out = append(out, sc.Text())
	}
	return out
}

// Commits big enough to be normalized on the worker pool (Parts) still
// reach every sink whole and in input order, and their callbacks run in
// commit order with growing watermarks up to the end of the input.
func TestLargeCommitsAreNormalizedInParallelInOrder(t *testing.T) {
	a, b := &recorder{}, &recorder{}
	b.failNext.Store(3)
	const n = 120000
	src := &lineSource{n: n, per: 4999, end: true}
	p, _ := newPipeline(t, src, map[string]sink.Sink{"a": a, "b": b}, fastQueue(), 5*time.Second)
	require.NoError(t, p.Run(t.Context()))
	for _, r := range []*recorder{a, b} {
		got := r.got()
		require.Len(t, got, n)
		for i, m := range got {
			require.Equal(t, fmt.Sprintf("m%d", i), m)
		}
	}
	acks := src.acked()
	require.Len(t, acks, (n+4998)/4999)
	for i := 1; i < len(acks); i++ {
		require.Equal(t, event.Delivered, acks[i].st)
		require.Greater(t, acks[i].wm, acks[i-1].wm, "watermarks arrive in commit order")
	}
	assert.Positive(t, p.Stats().Parts.Load(), "commits of ~150 KB run on the worker pool")
}
