package loki

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/starmates/logshipd/internal/event"
	"github.com/starmates/logshipd/internal/sink"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// rec describes one test record.
type rec struct {
	Seq         int
	Time        time.Time
	Level       event.Level
	Service     string
	Environment string
	Project     string
	Message     string
	Path        string
	Trace       bool
}

func (r rec) trackingID() string { return fmt.Sprintf("6f1c0a7e-0000-4000-8000-%012x", r.Seq) }

func (r rec) traceID() (t [16]byte) {
	copy(t[:], fmt.Sprintf("tr%014d", r.Seq))
	return t
}

func (r rec) spanID() (s [8]byte) {
	copy(s[:], fmt.Sprintf("s%07d", r.Seq%10_000_000))
	return s
}

// canonical mirrors the key order of the canonical record.
type canonical struct {
	Timestamp   string   `json:"timestamp"`
	ATimestamp  string   `json:"@timestamp"`
	Level       string   `json:"level"`
	ALevel      string   `json:"@level"`
	Service     string   `json:"service"`
	Environment string   `json:"environment"`
	Project     string   `json:"project"`
	TrackingID  string   `json:"tracking_id"`
	Message     string   `json:"message"`
	AMessage    string   `json:"@message"`
	Request     *request `json:"request,omitempty"`
	Tracing     *tracing `json:"tracing,omitempty"`
	Origin      origin   `json:"origin"`
}

type request struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	Size   int    `json:"size"`
}

type tracing struct {
	TraceID string `json:"trace_id"`
	SpanID  string `json:"span_id"`
}

type origin struct {
	Kind   string `json:"kind"`
	Format string `json:"format"`
}

func (r rec) record() event.Record {
	c := canonical{
		Timestamp: r.Time.UTC().Format("2006-01-02T15:04:05.000000Z"), ATimestamp: r.Time.UTC().Format("2006-01-02T15:04:05.000Z"),
		Level: r.Level.String(), ALevel: r.Level.String(), Service: r.Service, Environment: r.Environment, Project: r.Project,
		TrackingID: r.trackingID(), Message: r.Message, AMessage: r.Message,
		Origin: origin{Kind: "file", Format: "json"},
	}
	if r.Path != "" {
		c.Request = &request{Method: "GET", Path: r.Path, Size: r.Seq}
	}
	er := event.Record{Time: r.Time, Level: r.Level, Service: r.Service, Environment: r.Environment, Project: r.Project}
	if r.Trace {
		tr, sp := r.traceID(), r.spanID()
		c.Tracing = &tracing{TraceID: hex.EncodeToString(tr[:]), SpanID: hex.EncodeToString(sp[:])}
		er.TraceID, er.SpanID, er.HasTrace, er.HasSpan = tr, sp, true, true
	}
	er.JSON, _ = json.Marshal(c)
	er.TrackingIDLen = uint8(copy(er.TrackingID[:], r.trackingID()))
	return er
}

func batchOf(recs ...rec) *event.Batch {
	b := &event.Batch{}
	for _, r := range recs {
		er := r.record()
		b.Append(&er, "app", "stdout")
	}
	return b
}

var levels = []event.Level{event.LevelDebug, event.LevelInfo, event.LevelWarn, event.LevelError}

// genRecs returns n records over 3 services x 2 environments x 4 levels,
// times 1 ms apart from base (then shuffled within the batch when shuffle).
func genRecs(n int, base time.Time, firstSeq int) []rec {
	out := make([]rec, n)
	for i := range out {
		seq := firstSeq + i
		out[i] = rec{
			Seq: seq, Time: base.Add(time.Duration(seq) * time.Millisecond),
			Level: levels[seq%4], Service: []string{"api", "worker", "billing"}[seq%3],
			Environment: []string{"prod", "staging"}[seq%2], Project: "starmates",
			Message: fmt.Sprintf("request %d handled \"ok\" ✓", seq), Path: fmt.Sprintf("/items/%d", seq),
			Trace: seq%5 != 0,
		}
	}
	return out
}

func testConfig(url string) Config {
	c := DefaultConfig()
	c.URL = url
	return c
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// harness runs a sink behind a real sink.Worker with a dead-letter file.
type harness struct {
	t     testing.TB
	w     *sink.Worker
	dl    *sink.DeadLetter
	stats *sink.Stats
	done  chan struct{}
}

func fastQueue() sink.QueueConfig {
	q := sink.DefaultQueueConfig()
	q.InitialBackoff = 20 * time.Millisecond
	q.MaxBackoff = 200 * time.Millisecond
	return q
}

func runWorker(t testing.TB, s sink.Sink, q sink.QueueConfig) *harness {
	dl, err := sink.OpenDeadLetter(t.TempDir(), "loki")
	require.NoError(t, err)
	h := &harness{t: t, dl: dl, stats: &sink.Stats{}, done: make(chan struct{})}
	h.w = sink.NewWorker("loki", s, q, dl, testLogger(t), h.stats)
	go func() {
		defer close(h.done)
		h.w.Run(t.Context())
	}()
	t.Cleanup(func() {
		h.w.Close()
		<-h.done
		_ = h.w.CloseSink(t.Context())
		_ = dl.Close()
	})
	return h
}

// enqueue hands b to the worker; the returned channel yields its status.
func (h *harness) enqueue(b *event.Batch) <-chan event.Status {
	ch := make(chan event.Status, 1)
	b.Ack = event.NewAck(func(s event.Status) { ch <- s })
	b.Ack.Add(1)
	require.NoError(h.t, h.w.Enqueue(h.t.Context(), b))
	return ch
}

func (h *harness) send(b *event.Batch) event.Status {
	select {
	case st := <-h.enqueue(b):
		return st
	case <-time.After(30 * time.Second):
		h.t.Fatal("batch not finished after 30s")
		return event.Failed
	}
}

type deadLetter struct {
	Reason string          `json:"reason"`
	Detail string          `json:"detail"`
	Record json.RawMessage `json:"record"`
}

func (h *harness) deadLetters() []deadLetter {
	f, err := os.Open(h.dl.Path())
	require.NoError(h.t, err)
	defer f.Close()
	var out []deadLetter
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 4<<20)
	for sc.Scan() {
		var d deadLetter
		require.NoError(h.t, json.Unmarshal(sc.Bytes(), &d))
		out = append(out, d)
	}
	require.NoError(h.t, sc.Err())
	return out
}
