package cloudwatch_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/starmates/logshipd/internal/event"
	"github.com/starmates/logshipd/internal/sink"
	"github.com/starmates/logshipd/internal/sink/cloudwatch"
	"github.com/starmates/logshipd/internal/sink/cloudwatch/cwdouble"
)

// runWorker drives e.sink through a real sink.Worker (the single retry
// layer) with small backoffs, enqueues batches and waits for their acks.
func runWorker(t *testing.T, e *env, batches []*event.Batch) ([]event.Status, *sink.Worker, *sink.DeadLetter) {
	t.Helper()
	dl, err := sink.OpenDeadLetter(t.TempDir(), "cw")
	require.NoError(t, err)
	t.Cleanup(func() { _ = dl.Close() })
	q := sink.DefaultQueueConfig()
	q.InitialBackoff, q.MaxBackoff = time.Millisecond, 10*time.Millisecond
	w := sink.NewWorker("cw", e.sink, q, dl, testLogger(t), nil)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()

	statuses := make([]event.Status, len(batches))
	var wg sync.WaitGroup
	for i, b := range batches {
		wg.Add(1)
		b.Ack = event.NewAck(func(st event.Status) { statuses[i] = st; wg.Done() })
		b.Ack.Add(1)
		require.NoError(t, w.Enqueue(ctx, b))
	}
	waited := make(chan struct{})
	go func() { wg.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(60 * time.Second):
		t.Fatal("batches not acknowledged in time")
	}
	w.Close()
	<-done
	return statuses, w, dl
}

func manyBatches(n, per int, now time.Time) []*event.Batch {
	var out []*event.Batch
	for b := range n {
		var recs []rec
		for i := range per {
			recs = append(recs, rec{t: now.Add(time.Duration(i) * time.Millisecond), service: fmt.Sprintf("s%d", b%2), msg: fmt.Sprintf("b%d-%d", b, i)})
		}
		out = append(out, batchOf(recs...))
	}
	return out
}

func TestWorkerThrottlingStormDeliversExactlyOnce(t *testing.T) {
	e := newEnv(t, func(c *cloudwatch.Config) { c.MaxBatchEvents = 40 })
	now := time.Now().Add(-time.Minute)
	batches := manyBatches(6, 200, now)
	e.d.ThrottleNext(20)
	e.d.Inject("CreateLogGroup", cwdouble.Throttle, 2)
	e.d.Inject("CreateLogStream", cwdouble.Unavailable, 1)
	statuses, w, _ := runWorker(t, e, batches)
	for _, st := range statuses {
		assert.Equal(t, event.Delivered, st)
	}
	assertExactlyOnce(t, e.d, batches...)
	assert.Equal(t, 0, e.d.PendingFaults())
	// One retry layer: every PutLogEvents the double saw was made by the
	// sink once (no SDK retries), and the worker retried.
	assert.Equal(t, int64(e.d.Calls("PutLogEvents")), e.sink.Stats().Puts.Load())
	assert.Equal(t, int64(20), e.sink.Stats().ErrThrottled.Load()-2)
	assert.Positive(t, w.Stats().ErrorsByClass()["throttled"])
	assert.Equal(t, int64(1200), w.Stats().Sent.Load())
	assert.Len(t, e.d.Groups(), 2)
}

func TestWorker5xxBurstsAndResetsDeliverExactlyOnce(t *testing.T) {
	e := newEnv(t, func(c *cloudwatch.Config) { c.MaxBatchEvents = 25; c.Concurrency = 3 })
	now := time.Now().Add(-time.Minute)
	e.d.CreateLogGroup("/ai-teams/prod/s0", "", 0)
	e.d.CreateLogGroup("/ai-teams/prod/s1", "", 0)
	for _, g := range []string{"/ai-teams/prod/s0", "/ai-teams/prod/s1"} {
		require.NoError(t, e.d.CreateLogStream(g, e.streamName("app")))
	}
	batches := manyBatches(8, 100, now)
	e.d.InjectAfter("PutLogEvents", 3, cwdouble.Unavailable, 15)
	e.d.InjectAfter("PutLogEvents", 5, cwdouble.Reset, 3)
	e.d.InjectAfter("PutLogEvents", 2, cwdouble.Unavailable, 10)
	statuses, w, _ := runWorker(t, e, batches)
	for _, st := range statuses {
		assert.Equal(t, event.Delivered, st)
	}
	assertExactlyOnce(t, e.d, batches...)
	assert.Equal(t, 0, e.d.PendingFaults())
	assert.Equal(t, int64(28), e.sink.Stats().ErrRetryable.Load())
	assert.Equal(t, int64(e.d.Calls("PutLogEvents")), e.sink.Stats().Puts.Load())
	assert.Equal(t, int64(0), w.Stats().DeadLettered.Load())
}

func TestWorkerDeadLettersOutOfWindowRecords(t *testing.T) {
	e := newEnv(t, func(c *cloudwatch.Config) { c.RetentionDays = 5 })
	now := time.Now()
	b := batchOf(
		rec{t: now.Add(-time.Minute), msg: "ok"},
		rec{t: now.Add(-15 * 24 * time.Hour), msg: "old"},
		rec{t: now.Add(-6 * 24 * time.Hour), msg: "expired"},
		rec{t: now.Add(3 * time.Hour), msg: "new"},
	)
	statuses, w, dl := runWorker(t, e, []*event.Batch{b})
	assert.Equal(t, event.Rejected, statuses[0])
	assert.Len(t, e.d.Events("/ai-teams/prod/api", e.streamName("app")), 1)
	assert.Equal(t, map[string]int64{"too_old": 1, "expired": 1, "too_new": 1}, w.Stats().DeadByReason())
	require.NoError(t, dl.Close())
	f, err := os.Open(dl.Path())
	require.NoError(t, err)
	defer f.Close()
	reasons := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var ent struct {
			Reason string          `json:"reason"`
			Record json.RawMessage `json:"record"`
		}
		require.NoError(t, json.Unmarshal(sc.Bytes(), &ent))
		var r struct {
			Message string `json:"message"`
		}
		require.NoError(t, json.Unmarshal(ent.Record, &r))
		reasons[r.Message] = ent.Reason
	}
	assert.Equal(t, map[string]string{"old": "too_old", "expired": "expired", "new": "too_new"}, reasons)
}

func TestWorkerRejectedByCloudWatchAreDeadLettered(t *testing.T) {
	// The group's retention (set outside logshipd) is shorter than the
	// sink knows: CloudWatch's rejectedLogEventsInfo is the backstop.
	e := newEnv(t, nil)
	e.d.CreateLogGroup("/ai-teams/prod/api", "", 1)
	now := time.Now()
	b := batchOf(rec{t: now.Add(-3 * 24 * time.Hour), msg: "expired"}, rec{t: now.Add(-time.Minute), msg: "ok"})
	statuses, w, _ := runWorker(t, e, []*event.Batch{b})
	assert.Equal(t, event.Rejected, statuses[0])
	assert.Equal(t, map[string]int64{"expired": 1}, w.Stats().DeadByReason())
	assert.Equal(t, int64(1), w.Stats().Sent.Load())
}
