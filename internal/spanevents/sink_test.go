package spanevents

import (
	"context"
	"errors"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/starmates/logshipd/internal/event"
)

// testConfig exports fast.
func testConfig() Config {
	c := DefaultConfig()
	c.BatchTimeout = 10 * time.Millisecond
	return c
}

// exportAll sends the batches through a sink backed by an in-memory
// exporter and returns the spans after Close.
func exportAll(t *testing.T, cfg Config, batches ...*event.Batch) (tracetest.SpanStubs, *Stats) {
	t.Helper()
	mem := keepExporter{tracetest.NewInMemoryExporter()}
	s, err := NewWithExporter(cfg, mem, nil)
	require.NoError(t, err)
	for _, b := range batches {
		require.NoError(t, s.Send(t.Context(), b))
	}
	require.NoError(t, s.Close(t.Context()))
	return mem.GetSpans(), s.Stats()
}

// keepExporter keeps its spans at Shutdown (InMemoryExporter clears them).
type keepExporter struct{ *tracetest.InMemoryExporter }

func (keepExporter) Shutdown(context.Context) error { return nil }

func attrMap(kvs []attribute.KeyValue) map[string]any {
	m := make(map[string]any, len(kvs))
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value.AsInterface()
	}
	return m
}

func eventByName(t *testing.T, sp tracetest.SpanStub, name string) sdktrace.Event {
	t.Helper()
	for _, e := range sp.Events {
		if e.Name == name {
			return e
		}
	}
	require.Failf(t, "event missing", "span has no %q event: %+v", name, sp.Events)
	return sdktrace.Event{}
}

func hasEvent(sp tracetest.SpanStub, name string) bool {
	for _, e := range sp.Events {
		if e.Name == name {
			return true
		}
	}
	return false
}

func mustTraceID(t *testing.T, h string) trace.TraceID {
	t.Helper()
	id, err := trace.TraceIDFromHex(h)
	require.NoError(t, err)
	return id
}

func TestChildOfRemoteParent(t *testing.T) {
	b := normalizeLines(t, "fallback-svc", jsonWithTrace)
	spans, st := exportAll(t, testConfig(), b)
	require.Len(t, spans, 1, "only the ERROR record becomes a span")
	sp := spans[0]

	wantTrace := mustTraceID(t, "3b507d7247f84ab2bf21a142eb4f4517")
	wantParent, err := trace.SpanIDFromHex("c321904023874e02")
	require.NoError(t, err)
	assert.Equal(t, wantTrace, sp.SpanContext.TraceID())
	assert.Equal(t, wantTrace, sp.Parent.TraceID())
	assert.Equal(t, wantParent, sp.Parent.SpanID())
	assert.True(t, sp.Parent.IsRemote())
	assert.True(t, sp.SpanContext.IsSampled())
	assert.NotEqual(t, wantParent, sp.SpanContext.SpanID(), "never reuse the parent's span id")
	assert.Equal(t, SpanName, sp.Name)
	assert.Equal(t, trace.SpanKindInternal, sp.SpanKind)

	at := time.Date(2026, 11, 25, 21, 47, 27, 524096000, time.UTC)
	assert.True(t, sp.StartTime.Equal(at), "start %s", sp.StartTime)
	assert.Equal(t, time.Millisecond, sp.EndTime.Sub(sp.StartTime))

	res := attrMap(sp.Resource.Attributes())
	assert.Equal(t, "api-gateway", res["service.name"])
	assert.Equal(t, "prod", res["deployment.environment"])
	assert.Equal(t, "prod", res["deployment.environment.name"])
	assert.Equal(t, "starmates-ai-team", res["service.namespace"])

	sa := attrMap(sp.Attributes)
	for k := range sa {
		assert.NotContains(t, k, "logshipd.resource", "reserved attributes must not leak")
	}
	assert.Equal(t, "81f3e1b6-9349-47a1-b935-47037c7f4c27", sa["tracking.id"])
	assert.Equal(t, "cloudwatch_sim.handle", sa["code.function.name"])
	assert.Equal(t, int64(34), sa["code.line.number"])

	ev := eventByName(t, sp, EventErrorLog)
	assert.True(t, ev.Time.Equal(at))
	assert.Equal(t, map[string]any{
		"log.level":    "ERROR",
		"log.message":  "POST /api/v1/sessions - 503",
		"log.logger":   "api.handlers",
		"log.module":   "cloudwatch_sim",
		"log.function": "handle",
		"log.line":     int64(34),
		"tracking.id":  "81f3e1b6-9349-47a1-b935-47037c7f4c27",
		"error.type":   "TimeoutError",
	}, attrMap(ev.Attributes))

	ex := attrMap(eventByName(t, sp, EventException).Attributes)
	assert.Equal(t, "TimeoutError", ex["exception.type"])
	assert.Equal(t, "upstream workflow-agent timed out after 0.081s", ex["exception.message"])
	assert.Contains(t, ex["exception.stacktrace"], `File "/tmp/cw/pyd/cloudwatch_sim.py", line 32, in handle`)

	assert.Equal(t, codes.Error, sp.Status.Code)
	assert.Equal(t, "upstream workflow-agent timed out after 0.081s", sp.Status.Description)
	assert.Equal(t, ScopeName, sp.InstrumentationScope.Name)

	assert.Equal(t, int64(2), st.RecordsSeen.Load())
	assert.Equal(t, int64(1), st.RecordsSkipped.Load())
	assert.Equal(t, int64(1), st.SpansCreated.Load())
	assert.Equal(t, int64(1), st.SpansExported.Load())
	assert.Equal(t, int64(0), st.Queued.Load())
}

func TestPythonTracebackUsesTrackingTrace(t *testing.T) {
	b := normalizeLines(t, "workflow-agent", pythonTraceback)
	spans, _ := exportAll(t, testConfig(), b)
	require.Len(t, spans, 1)
	sp := spans[0]

	// No trace context: the trace is the tracking id's 128 bits, and the
	// span is a root span in it.
	assert.Equal(t, mustTraceID(t, "03c4c8af2c8441c3af192afacf9e0c84"), sp.SpanContext.TraceID())
	assert.False(t, sp.Parent.IsValid())
	assert.Equal(t, "workflow-agent", attrMap(sp.Resource.Attributes())["service.name"])
	assert.Equal(t, "dev", attrMap(sp.Resource.Attributes())["deployment.environment"])

	// The text format has no call site: module/function/line come from
	// the innermost frame of the traceback.
	assert.Equal(t, map[string]any{
		"log.level":    "ERROR",
		"log.message":  "workflow generation failed tracking_id=03c4c8af-2c84-41c3-af19-2afacf9e0c84",
		"log.logger":   "workflow_agent",
		"log.module":   "agent",
		"log.function": "generate",
		"log.line":     int64(24),
		"tracking.id":  "03c4c8af-2c84-41c3-af19-2afacf9e0c84",
		"error.type":   "agent.PlannerError",
	}, attrMap(eventByName(t, sp, EventErrorLog).Attributes))
	ex := attrMap(eventByName(t, sp, EventException).Attributes)
	assert.Equal(t, "agent.PlannerError", ex["exception.type"])
	assert.Equal(t, "cannot plan workflow for prompt 'please fail'", ex["exception.message"])
	assert.Contains(t, ex["exception.stacktrace"], "Traceback (most recent call last):")
	assert.Equal(t, "/tmp/cw/fastapi/agent.py", attrMap(sp.Attributes)["code.file.path"])
	assert.Equal(t, codes.Error, sp.Status.Code)
}

func TestTrackingIDOnlyAndNoContext(t *testing.T) {
	b1 := normalizeLines(t, "x", logfmtTrackingOnly)
	b2 := normalizeLines(t, "x", noContext)
	b3 := normalizeLines(t, "x", noContext)
	spans, st := exportAll(t, testConfig(), b1, b2, b3)
	require.Len(t, spans, 3)

	sp := spans[0]
	assert.Equal(t, mustTraceID(t, "5d1c0b7e0a8e4b439d7e2f1f7a3c9e11"), sp.SpanContext.TraceID())
	assert.False(t, sp.Parent.IsValid())
	assert.Equal(t, "workflow-engine", attrMap(sp.Resource.Attributes())["service.name"])
	assert.Equal(t, map[string]any{
		"log.level":    "ERROR",
		"log.message":  "step 3 failed: model quota exhausted",
		"log.logger":   "engine.runner",
		"log.module":   "runner",
		"log.function": "execute",
		"log.line":     int64(88),
		"tracking.id":  "5d1c0b7e-0a8e-4b43-9d7e-2f1f7a3c9e11",
		"error.type":   "QuotaExceeded",
	}, attrMap(eventByName(t, sp, EventErrorLog).Attributes))
	assert.False(t, hasEvent(sp, EventException), "no exception, no exception event")
	assert.Equal(t, codes.Error, sp.Status.Code)
	assert.Equal(t, "step 3 failed: model quota exhausted", sp.Status.Description)

	// Neither trace nor tracking id: each error gets a new random trace.
	for _, sp := range spans[1:] {
		assert.True(t, sp.SpanContext.TraceID().IsValid())
		assert.False(t, sp.Parent.IsValid())
		ev := attrMap(eventByName(t, sp, EventErrorLog).Attributes)
		assert.Equal(t, "disk almost full", ev["log.message"])
		assert.NotContains(t, ev, "log.module")
	}
	assert.NotEqual(t, spans[1].SpanContext.TraceID(), spans[2].SpanContext.TraceID())
	assert.Equal(t, int64(3), st.SpansExported.Load())
}

func TestTraceWithoutSpanIsRootInThatTrace(t *testing.T) {
	b := normalizeLines(t, "svc", `{"level":"error","message":"boom","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","tracking_id":"81f3e1b6-9349-47a1-b935-47037c7f4c27"}`)
	spans, _ := exportAll(t, testConfig(), b)
	require.Len(t, spans, 1)
	assert.Equal(t, mustTraceID(t, "4bf92f3577b34da6a3ce929d0e0e4736"), spans[0].SpanContext.TraceID())
	assert.False(t, spans[0].Parent.IsValid())
}

func TestMinLevel(t *testing.T) {
	text := "level=warn msg=slow service=a\nlevel=info msg=fine service=a\nlevel=error msg=bad service=a\n"
	spans, st := exportAll(t, testConfig(), normalizeLines(t, "a", text))
	require.Len(t, spans, 1)
	assert.Equal(t, int64(2), st.RecordsSkipped.Load())

	cfg := testConfig()
	cfg.MinLevel = "WARN"
	spans, _ = exportAll(t, cfg, normalizeLines(t, "a", text))
	require.Len(t, spans, 2)
	for _, sp := range spans {
		msg := attrMap(eventByName(t, sp, EventErrorLog).Attributes)["log.message"]
		if msg == "slow" {
			assert.Equal(t, codes.Unset, sp.Status.Code, "only ERROR records get status Error")
		} else {
			assert.Equal(t, codes.Error, sp.Status.Code)
		}
	}
}

func TestLongValuesAreCut(t *testing.T) {
	long := make([]byte, 5000)
	for i := range long {
		long[i] = 'x'
	}
	cfg := testConfig()
	cfg.MaxAttributeLength = 1000
	spans, _ := exportAll(t, cfg, normalizeLines(t, "a", `{"level":"error","message":"`+string(long)+`"}`))
	require.Len(t, spans, 1)
	msg := attrMap(eventByName(t, spans[0], EventErrorLog).Attributes)["log.message"].(string)
	assert.LessOrEqual(t, len(msg), 1000)
	assert.Contains(t, msg, "[truncated]")
	assert.LessOrEqual(t, len(spans[0].Status.Description), maxStatusDescription)
}

// blockingExporter holds every export until released (or its ctx ends).
type blockingExporter struct {
	release chan struct{}
	mu      sync.Mutex
	got     int
	calls   atomic.Int64
}

func (e *blockingExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	e.calls.Add(1)
	select {
	case <-e.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	e.mu.Lock()
	e.got += len(spans)
	e.mu.Unlock()
	return nil
}
func (*blockingExporter) Shutdown(context.Context) error { return nil }

func errorBatch(t *testing.T, n int) *event.Batch {
	t.Helper()
	text := ""
	for range n {
		text += "level=error service=a msg=boom\n"
	}
	b := normalizeLines(t, "a", text)
	require.Len(t, b.Items, n)
	return b
}

func TestSendNeverBlocksAndCountsQueueFull(t *testing.T) {
	exp := &blockingExporter{release: make(chan struct{})}
	cfg := testConfig()
	cfg.QueueSize = 8
	cfg.BatchSize = 2
	s, err := NewWithExporter(cfg, exp, nil)
	require.NoError(t, err)

	start := time.Now()
	for range 10 {
		require.NoError(t, s.Send(t.Context(), errorBatch(t, 10)))
	}
	assert.Less(t, time.Since(start), 2*time.Second, "Send must not wait for the exporter")

	st := s.Stats()
	assert.Equal(t, int64(100), st.SpansCreated.Load())
	assert.Positive(t, st.DroppedQueueFull.Load())
	assert.LessOrEqual(t, st.Queued.Load(), int64(8), "the queue stays bounded")

	close(exp.release)
	require.NoError(t, s.Close(t.Context()))
	assert.Equal(t, st.SpansCreated.Load(), st.SpansExported.Load()+st.DroppedQueueFull.Load(),
		"every span is exported or counted as dropped")
	assert.Equal(t, int64(exp.got), st.SpansExported.Load())
	assert.Zero(t, st.DroppedExportFailed.Load())

	// After Close: nothing is created, drops are counted.
	require.NoError(t, s.Send(t.Context(), errorBatch(t, 3)))
	assert.Equal(t, int64(3), st.DroppedClosed.Load())
}

func TestCloseDeadlineAbandonsExports(t *testing.T) {
	exp := &blockingExporter{release: make(chan struct{})} // never released
	cfg := testConfig()
	cfg.MaxRetryTime = time.Minute
	s, err := NewWithExporter(cfg, exp, nil)
	require.NoError(t, err)
	require.NoError(t, s.Send(t.Context(), errorBatch(t, 5)))
	require.Eventually(t, func() bool { return exp.calls.Load() > 0 }, 5*time.Second, 5*time.Millisecond)

	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = s.Close(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 3*time.Second)
	st := s.Stats()
	assert.Equal(t, int64(5), st.DroppedExportFailed.Load())
	assert.Equal(t, int64(1), st.ExportErrors.Load())
}

// failingExporter fails the first n calls with err.
type failingExporter struct {
	n     int64
	err   error
	calls atomic.Int64
	ok    atomic.Int64
}

func (e *failingExporter) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	if e.calls.Add(1) <= e.n {
		return e.err
	}
	e.ok.Add(int64(len(spans)))
	return nil
}
func (*failingExporter) Shutdown(context.Context) error { return nil }

func TestExportFailureIsCountedNotReturned(t *testing.T) {
	exp := &failingExporter{n: 1 << 30, err: errors.New("backend said no")}
	cfg := testConfig()
	s, err := NewWithExporter(cfg, exp, nil)
	require.NoError(t, err)
	require.NoError(t, s.Send(t.Context(), errorBatch(t, 4)))
	require.NoError(t, s.Close(t.Context()))
	st := s.Stats()
	assert.Equal(t, int64(4), st.DroppedExportFailed.Load())
	assert.Positive(t, st.ExportErrors.Load())
	assert.Zero(t, st.ExportRetries.Load(), "non-transport errors are left to the OTLP exporter's own retry")
	assert.Equal(t, int64(1), exp.calls.Load())
}

func TestTransportErrorIsRetried(t *testing.T) {
	refused := &url.Error{Op: "Post", URL: "http://127.0.0.1:1/v1/traces", Err: errors.New("connection refused")}
	exp := &failingExporter{n: 1, err: refused}
	cfg := testConfig()
	cfg.MaxRetryTime = 10 * time.Second
	s, err := NewWithExporter(cfg, exp, nil)
	require.NoError(t, err)
	require.NoError(t, s.Send(t.Context(), errorBatch(t, 3)))
	require.NoError(t, s.Close(t.Context()))
	st := s.Stats()
	assert.Equal(t, int64(3), st.SpansExported.Load())
	assert.Equal(t, int64(1), st.ExportRetries.Load())
	assert.Zero(t, st.DroppedExportFailed.Load())
}

func TestTransportRetryIsBounded(t *testing.T) {
	refused := &url.Error{Op: "Post", URL: "http://127.0.0.1:1/v1/traces", Err: errors.New("connection refused")}
	exp := &failingExporter{n: 1 << 30, err: refused}
	cfg := testConfig()
	cfg.MaxRetryTime = 1500 * time.Millisecond
	s, err := NewWithExporter(cfg, exp, nil)
	require.NoError(t, err)
	require.NoError(t, s.Send(t.Context(), errorBatch(t, 2)))
	start := time.Now()
	require.NoError(t, s.Close(t.Context()))
	assert.Less(t, time.Since(start), 5*time.Second)
	st := s.Stats()
	assert.Equal(t, int64(2), st.DroppedExportFailed.Load())
	assert.Positive(t, st.ExportRetries.Load())
}
