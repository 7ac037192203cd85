package spanevents

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/starmates/logshipd/internal/event"
	"github.com/starmates/logshipd/internal/sink"
)

// Names written by the sink.
const (
	// SpanName is the name of every span the sink creates.
	SpanName = "log.error"
	// EventErrorLog is the event carrying the log record (the guide's name).
	EventErrorLog = "error_log"
	// EventException is the OpenTelemetry exception event.
	EventException = "exception"
	// ScopeName is the instrumentation scope of the spans.
	ScopeName = "github.com/starmates/logshipd/internal/spanevents"
	// spanDuration is the length of the child span: the error is an
	// instant, the span only exists to carry it.
	spanDuration = time.Millisecond
	// maxStatusDescription bounds the status description.
	maxStatusDescription = 1024
)

// Sink turns records at or above MinLevel into short OTLP spans. It is a
// sink.Sink: fan-out, acks and backpressure come from its sink.Worker.
//
// Send never waits for the trace backend: it builds the spans, queues them
// for the batch exporter and returns nil, so the batch counts as delivered
// to the span pipeline. Spans that do not fit the queue, or whose export
// fails after bounded retries, are dropped and counted (Stats). This is
// deliberate: span events are telemetry derived from the logs, and the logs
// themselves still reach every other sink when the trace backend is down.
type Sink struct {
	cfg      Config
	minLevel event.Level
	logger   *slog.Logger
	stats    *Stats
	tp       *sdktrace.TracerProvider
	tracer   trace.Tracer
	abort    context.CancelFunc
	closed   atomic.Bool
}

var _ sink.Sink = (*Sink)(nil)

// New validates cfg and returns a sink exporting over OTLP (gRPC or HTTP,
// OTEL_EXPORTER_OTLP_* honoured; see Config). It does not connect: a trace
// backend that is down only makes exports fail (and be counted).
func New(cfg Config, logger *slog.Logger) (*Sink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	exp, r, err := newOTLPExporter(context.Background(), &cfg)
	if err != nil {
		return nil, fmt.Errorf("span_events: otlp exporter: %w", err)
	}
	return newSink(cfg, exp, r.timeout, logger)
}

// NewWithExporter is New with the given exporter instead of an OTLP one
// (tests, or a custom pipeline). cfg's OTLP settings are ignored; its
// queue, batch, retry-time and level settings apply.
func NewWithExporter(cfg Config, exp sdktrace.SpanExporter, logger *slog.Logger) (*Sink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if exp == nil {
		return nil, errors.New("span_events: nil exporter")
	}
	return newSink(cfg, exp, cfg.resolve().timeout, logger)
}

func newSink(cfg Config, exp sdktrace.SpanExporter, attempt time.Duration, logger *slog.Logger) (*Sink, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	lv, _ := event.ParseLevel(cfg.MinLevel)
	s := &Sink{cfg: cfg, minLevel: lv, logger: logger.With("component", "span_events"), stats: &Stats{}}
	abortCtx, abort := context.WithCancel(context.Background())
	s.abort = abort
	wrapped := &exporter{
		next: exp, stats: s.stats, logger: s.logger, budget: cfg.MaxRetryTime, attempt: attempt,
		abort: abortCtx, res: map[[3]string]*resource.Resource{},
	}
	bsp := sdktrace.NewBatchSpanProcessor(wrapped,
		// One more than the gate admits: the BSP itself never drops.
		sdktrace.WithMaxQueueSize(cfg.QueueSize+1),
		sdktrace.WithMaxExportBatchSize(cfg.BatchSize),
		sdktrace.WithBatchTimeout(cfg.BatchTimeout),
		// The wrapper bounds the call itself; this is only a backstop.
		sdktrace.WithExportTimeout(cfg.MaxRetryTime+attempt+5*time.Second),
	)
	s.tp = sdktrace.NewTracerProvider(
		sdktrace.WithSpanProcessor(&gate{SpanProcessor: bsp, limit: int64(cfg.QueueSize), stats: s.stats}),
		// Every span is exported: the parent's sampling decision was taken
		// by the service, and an error is worth keeping.
		sdktrace.WithSampler(sdktrace.AlwaysSample()),
		sdktrace.WithIDGenerator(idGenerator{}),
		// Replaced per span by the record's service (see exporter).
		sdktrace.WithResource(resource.Empty()),
	)
	s.tracer = s.tp.Tracer(ScopeName)
	return s, nil
}

// Stats returns the counters.
func (s *Sink) Stats() *Stats { return s.stats }

// Send creates one span per record at or above MinLevel and queues it for
// export. It never blocks on the trace backend and always returns nil.
func (s *Sink) Send(_ context.Context, b *event.Batch) error {
	for i := range b.Items {
		it := &b.Items[i]
		s.stats.RecordsSeen.Add(1)
		if it.Level < s.minLevel {
			s.stats.RecordsSkipped.Add(1)
			continue
		}
		if s.closed.Load() {
			s.stats.DroppedClosed.Add(1)
			continue
		}
		s.emit(it, b.JSON(i))
	}
	return nil
}

// Close flushes the queued spans. When ctx ends first, the exports in
// flight and the spans still queued are abandoned (counted as
// export_failed) and Close returns ctx's error once the exporter stopped.
func (s *Sink) Close(ctx context.Context) error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	done := make(chan error, 1)
	go func() { done <- s.tp.Shutdown(context.Background()) }()
	select {
	case err := <-done:
		s.abort()
		return err
	case <-ctx.Done():
		s.abort()
		err := <-done
		return errors.Join(fmt.Errorf("span_events: close: %w", context.Cause(ctx)), err)
	}
}

// emit builds the span of one record.
func (s *Sink) emit(it *event.Item, js []byte) {
	f := readFields(js)
	limit := s.cfg.MaxAttributeLength
	t := it.Time
	if t.IsZero() {
		t = time.Now()
	}

	spanAttrs := make([]attribute.KeyValue, 0, 12)
	spanAttrs = append(spanAttrs, attrResService.String(it.Service))
	if it.Environment != "" {
		spanAttrs = append(spanAttrs, attrResEnvironment.String(it.Environment))
	}
	if it.Project != "" {
		spanAttrs = append(spanAttrs, attrResProject.String(it.Project))
	}
	if it.TrackingID != "" {
		spanAttrs = append(spanAttrs, attribute.String("tracking.id", strings.Clone(it.TrackingID))) // outlives the batch
	}
	if et := f.errorType(); et != "" {
		spanAttrs = append(spanAttrs, attribute.String("error.type", truncate(et, limit)))
	}
	if f.logger != "" {
		spanAttrs = append(spanAttrs, attribute.String("log.logger", truncate(f.logger, limit)))
	}
	if fn := qualified(f.module, f.function); fn != "" {
		spanAttrs = append(spanAttrs, attribute.String("code.function.name", truncate(fn, limit)))
	}
	file := f.file
	if file == "" && f.locFromExc {
		file = f.excFile
	}
	if file != "" {
		spanAttrs = append(spanAttrs, attribute.String("code.file.path", truncate(file, limit)))
	}
	if f.line > 0 {
		spanAttrs = append(spanAttrs, attribute.Int64("code.line.number", f.line))
	}

	_, span := s.tracer.Start(parentContext(it), SpanName,
		trace.WithTimestamp(t), trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(spanAttrs...))

	ev := make([]attribute.KeyValue, 0, 8)
	ev = append(ev, attribute.String("log.level", it.Level.String()),
		attribute.String("log.message", truncate(f.message, limit)))
	if f.logger != "" {
		ev = append(ev, attribute.String("log.logger", truncate(f.logger, limit)))
	}
	if f.module != "" {
		ev = append(ev, attribute.String("log.module", truncate(f.module, limit)))
	}
	if f.function != "" {
		ev = append(ev, attribute.String("log.function", truncate(f.function, limit)))
	}
	if f.line > 0 {
		ev = append(ev, attribute.Int64("log.line", f.line))
	}
	if it.TrackingID != "" {
		ev = append(ev, attribute.String("tracking.id", it.TrackingID))
	}
	if et := f.errorType(); et != "" {
		ev = append(ev, attribute.String("error.type", truncate(et, limit)))
	}
	span.AddEvent(EventErrorLog, trace.WithTimestamp(t), trace.WithAttributes(ev...))

	if f.hasExc {
		ex := make([]attribute.KeyValue, 0, 3)
		if et := f.exceptionType(); et != "" {
			ex = append(ex, attribute.String("exception.type", truncate(et, limit)))
		}
		if m := f.exceptionMessage(); m != "" {
			ex = append(ex, attribute.String("exception.message", truncate(m, limit)))
		}
		if f.excStack != "" {
			ex = append(ex, attribute.String("exception.stacktrace", truncate(f.excStack, limit)))
		}
		span.AddEvent(EventException, trace.WithTimestamp(t), trace.WithAttributes(ex...))
	}

	if it.Level >= event.LevelError {
		desc := f.errMessage
		if desc == "" {
			desc = f.message
		}
		span.SetStatus(codes.Error, truncate(desc, maxStatusDescription))
	}
	span.End(trace.WithTimestamp(t.Add(spanDuration)))
	s.stats.SpansCreated.Add(1)
}

// qualified returns "module.function" (or whichever is known).
func qualified(module, function string) string {
	switch {
	case module == "":
		return function
	case function == "":
		return ""
	}
	return module + "." + function
}

// parentContext places the span: under the record's span (remote parent,
// sampled) when it names trace and span; as a root span in the record's
// trace, or in the trace named by its tracking id, otherwise; in a new
// trace when the record has neither.
func parentContext(it *event.Item) context.Context {
	ctx := context.Background()
	tid := trace.TraceID(it.TraceID)
	sid := trace.SpanID(it.SpanID)
	if it.HasTrace && tid.IsValid() {
		if it.HasSpan && sid.IsValid() {
			return trace.ContextWithRemoteSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{
				TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled, Remote: true,
			}))
		}
		return context.WithValue(ctx, traceIDKey{}, tid)
	}
	if tid, ok := trackingTraceID(it.TrackingID); ok {
		return context.WithValue(ctx, traceIDKey{}, tid)
	}
	return ctx
}

type traceIDKey struct{}

// idGenerator gives a root span the trace id its context names (the
// record's trace, or its tracking id's 128 bits), else a random one.
type idGenerator struct{}

func (idGenerator) NewIDs(ctx context.Context) (trace.TraceID, trace.SpanID) {
	tid, ok := ctx.Value(traceIDKey{}).(trace.TraceID)
	for !ok || !tid.IsValid() {
		binary.BigEndian.PutUint64(tid[:8], rand.Uint64())
		binary.BigEndian.PutUint64(tid[8:], rand.Uint64())
		ok = true
	}
	return tid, newSpanID()
}

func (idGenerator) NewSpanID(context.Context, trace.TraceID) trace.SpanID { return newSpanID() }

func newSpanID() trace.SpanID {
	var sid trace.SpanID
	for !sid.IsValid() {
		binary.BigEndian.PutUint64(sid[:], rand.Uint64())
	}
	return sid
}
