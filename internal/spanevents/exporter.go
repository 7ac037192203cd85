package spanevents

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"google.golang.org/grpc"
)

// newOTLPExporter builds the OTLP trace exporter from cfg and the standard
// environment. It does not connect: a backend that is down only fails the
// exports.
func newOTLPExporter(ctx context.Context, cfg *Config) (sdktrace.SpanExporter, resolved, error) {
	r := cfg.resolve()
	retryOn := cfg.MaxRetryTime > 0
	insecure := cfg.Insecure != nil && *cfg.Insecure

	if r.protocol == ProtocolGRPC {
		attempt := r.timeout
		opts := []otlptracegrpc.Option{
			// The gRPC exporter's timeout bounds the whole call, retries
			// included; each attempt is bounded by the interceptor below.
			otlptracegrpc.WithTimeout(cfg.MaxRetryTime + r.timeout),
			otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: retryOn,
				InitialInterval: retryInitialBackoff, MaxInterval: retryMaxBackoff, MaxElapsedTime: cfg.MaxRetryTime}),
			otlptracegrpc.WithDialOption(grpc.WithChainUnaryInterceptor(
				func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
					ctx, cancel := context.WithTimeout(ctx, attempt)
					defer cancel()
					return invoker(ctx, method, req, reply, cc, opts...)
				})),
		}
		if cfg.Endpoint != "" {
			if strings.Contains(cfg.Endpoint, "://") {
				opts = append(opts, otlptracegrpc.WithEndpointURL(cfg.Endpoint))
			} else {
				opts = append(opts, otlptracegrpc.WithEndpoint(cfg.Endpoint))
			}
		}
		if insecure {
			opts = append(opts, otlptracegrpc.WithInsecure())
		}
		if r.headers != nil {
			opts = append(opts, otlptracegrpc.WithHeaders(r.headers))
		}
		exp, err := otlptracegrpc.New(ctx, opts...)
		return exp, r, err
	}

	enc := otlptracehttp.EncodingProtobuf
	if r.protocol == ProtocolHTTPJSON {
		enc = otlptracehttp.EncodingJSON
	}
	opts := []otlptracehttp.Option{
		otlptracehttp.WithEncoding(enc),
		// The HTTP exporter's timeout is its http.Client's: one attempt.
		otlptracehttp.WithTimeout(r.timeout),
		otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: retryOn,
			InitialInterval: retryInitialBackoff, MaxInterval: retryMaxBackoff, MaxElapsedTime: cfg.MaxRetryTime}),
	}
	if cfg.Endpoint != "" {
		if strings.Contains(cfg.Endpoint, "://") {
			u, err := url.Parse(cfg.Endpoint)
			if err != nil {
				return nil, r, fmt.Errorf("endpoint %q: %w", cfg.Endpoint, err)
			}
			if !strings.HasSuffix(u.Path, "/v1/traces") {
				u.Path = strings.TrimRight(u.Path, "/") + "/v1/traces"
			}
			opts = append(opts, otlptracehttp.WithEndpointURL(u.String()))
		} else {
			opts = append(opts, otlptracehttp.WithEndpoint(cfg.Endpoint))
		}
	}
	if insecure {
		opts = append(opts, otlptracehttp.WithInsecure())
	}
	if r.headers != nil {
		opts = append(opts, otlptracehttp.WithHeaders(r.headers))
	}
	exp, err := otlptracehttp.New(ctx, opts...)
	return exp, r, err
}

// Reserved span attributes that carry the record's resource from the
// span's creation to the exporter, which moves them into the resource.
const (
	attrResService     = attribute.Key("logshipd.resource.service")
	attrResEnvironment = attribute.Key("logshipd.resource.environment")
	attrResProject     = attribute.Key("logshipd.resource.project")
)

// exporter wraps the OTLP exporter: it gives each span the resource of its
// record's service, retries transport failures the OTLP exporter does not
// retry, bounds each call, and counts what was exported and what was
// dropped. It returns nil for a failed batch after counting it, so the
// SDK's global error handler is never involved.
type exporter struct {
	next     sdktrace.SpanExporter
	stats    *Stats
	logger   *slog.Logger
	budget   time.Duration // retries (MaxRetryTime)
	attempt  time.Duration // one attempt
	abort    context.Context
	lastWarn atomic.Int64

	mu  sync.Mutex
	res map[[3]string]*resource.Resource
}

const maxResources = 256

func (e *exporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	n := int64(len(spans))
	e.stats.Queued.Add(-n)
	out := make([]sdktrace.ReadOnlySpan, len(spans))
	for i, s := range spans {
		out[i] = e.withResource(s)
	}
	ctx, cancel := context.WithTimeout(ctx, e.budget+e.attempt+time.Second)
	defer cancel()
	stop := context.AfterFunc(e.abort, cancel)
	defer stop()

	var err error
	if e.abort.Err() != nil {
		err = errors.New("abandoned at close")
	} else {
		err = e.export(ctx, out)
	}
	if err == nil {
		e.stats.SpansExported.Add(n)
		return nil
	}
	e.stats.ExportErrors.Add(1)
	e.stats.DroppedExportFailed.Add(n)
	now := time.Now().UnixNano()
	if last := e.lastWarn.Load(); now-last > int64(10*time.Second) && e.lastWarn.CompareAndSwap(last, now) {
		e.logger.Warn("span export failed after retries; spans dropped (logs are not affected)",
			"spans", n, "dropped_total", e.stats.DroppedExportFailed.Load(), "err", err)
	}
	return nil
}

// export calls the OTLP exporter, retrying with jittered exponential
// backoff while the failure is a transport error the exporter itself does
// not retry (an HTTP connection refused), until the retry budget is spent.
func (e *exporter) export(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	start := time.Now()
	backoff := retryInitialBackoff
	for {
		err := e.next.ExportSpans(ctx, spans)
		if err == nil || ctx.Err() != nil || !transportError(err) {
			return err
		}
		delay := time.Duration(rand.Int64N(int64(backoff))) + backoff/2
		if time.Since(start)+delay > e.budget {
			return err
		}
		e.stats.ExportRetries.Add(1)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(err, ctx.Err())
		case <-t.C:
		}
		backoff = min(2*backoff, retryMaxBackoff)
	}
}

// transportError reports a failure to reach an HTTP endpoint (connection
// refused, reset, DNS): the OTLP HTTP exporter returns those without
// retrying. gRPC reports them as UNAVAILABLE, which its exporter retries.
func transportError(err error) bool {
	var ue *url.Error
	return errors.As(err, &ue)
}

func (e *exporter) Shutdown(ctx context.Context) error { return e.next.Shutdown(ctx) }

// withResource returns s with the resource named by its reserved attributes
// (which are removed from the span's attributes).
func (e *exporter) withResource(s sdktrace.ReadOnlySpan) sdktrace.ReadOnlySpan {
	attrs := s.Attributes()
	var key [3]string
	kept := make([]attribute.KeyValue, 0, len(attrs))
	found := false
	for _, kv := range attrs {
		switch kv.Key {
		case attrResService:
			key[0], found = kv.Value.AsString(), true
		case attrResEnvironment:
			key[1] = kv.Value.AsString()
		case attrResProject:
			key[2] = kv.Value.AsString()
		default:
			kept = append(kept, kv)
		}
	}
	if !found {
		return s
	}
	return resSpan{ReadOnlySpan: s, res: e.resource(key), attrs: kept}
}

func (e *exporter) resource(key [3]string) *resource.Resource {
	e.mu.Lock()
	defer e.mu.Unlock()
	if r, ok := e.res[key]; ok {
		return r
	}
	if len(e.res) >= maxResources {
		clear(e.res) // rebuilt on demand: resources are cheap, the map stays bounded
	}
	attrs := []attribute.KeyValue{attribute.String("service.name", key[0])}
	if key[1] != "" {
		attrs = append(attrs,
			attribute.String("deployment.environment", key[1]),
			attribute.String("deployment.environment.name", key[1]))
	}
	if key[2] != "" {
		attrs = append(attrs, attribute.String("service.namespace", key[2]))
	}
	r := resource.NewSchemaless(attrs...)
	e.res[key] = r
	return r
}

// resSpan is a span with its record's resource.
type resSpan struct {
	sdktrace.ReadOnlySpan
	res   *resource.Resource
	attrs []attribute.KeyValue
}

func (s resSpan) Resource() *resource.Resource     { return s.res }
func (s resSpan) Attributes() []attribute.KeyValue { return s.attrs }

// gate bounds the spans between Span.End and the exporter to the queue
// size, counting the ones it turns away, so the BatchSpanProcessor behind
// it (whose queue is larger) never drops silently.
type gate struct {
	sdktrace.SpanProcessor
	limit int64
	stats *Stats
}

func (g *gate) OnEnd(s sdktrace.ReadOnlySpan) {
	if g.stats.Queued.Add(1) > g.limit {
		g.stats.Queued.Add(-1)
		g.stats.DroppedQueueFull.Add(1)
		return
	}
	g.SpanProcessor.OnEnd(s)
}
