package spanevents

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	"github.com/starmates/logshipd/internal/event"
	"github.com/starmates/logshipd/internal/sink"
)

// otlpHTTP is an OTLP/HTTP receiver that records requests.
type otlpHTTP struct {
	mu      sync.Mutex
	paths   []string
	types   []string
	headers []http.Header
	bodies  [][]byte
}

func (o *otlpHTTP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	o.mu.Lock()
	o.paths = append(o.paths, r.URL.Path)
	o.types = append(o.types, r.Header.Get("Content-Type"))
	o.headers = append(o.headers, r.Header.Clone())
	o.bodies = append(o.bodies, body)
	o.mu.Unlock()
	w.Header().Set("Content-Type", r.Header.Get("Content-Type"))
	w.WriteHeader(http.StatusOK)
}

func (o *otlpHTTP) requests() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.paths)
}

func clearOTLPEnv(t *testing.T) {
	for _, k := range []string{"ENDPOINT", "PROTOCOL", "HEADERS", "TIMEOUT", "INSECURE", "COMPRESSION"} {
		t.Setenv("OTEL_EXPORTER_OTLP_"+k, "")
		t.Setenv("OTEL_EXPORTER_OTLP_TRACES_"+k, "")
	}
}

func TestHTTPJSONOverTheWire(t *testing.T) {
	clearOTLPEnv(t)
	t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20env,x-tenant=env")
	rec := &otlpHTTP{}
	srv := httptest.NewServer(rec)
	defer srv.Close()

	cfg := testConfig()
	cfg.Endpoint = srv.URL // no path: /v1/traces is appended
	cfg.Protocol = ProtocolHTTPJSON
	cfg.Headers = map[string]string{"x-tenant": "config"}
	s, err := New(cfg, nil)
	require.NoError(t, err)
	require.NoError(t, s.Send(t.Context(), normalizeLines(t, "x", jsonWithTrace)))
	require.NoError(t, s.Send(t.Context(), normalizeLines(t, "x", logfmtTrackingOnly)))
	require.NoError(t, s.Close(t.Context()))
	require.Equal(t, int64(2), s.Stats().SpansExported.Load())

	rec.mu.Lock()
	defer rec.mu.Unlock()
	require.NotEmpty(t, rec.paths)
	assert.Equal(t, "/v1/traces", rec.paths[0])
	assert.Equal(t, "application/json", rec.types[0])
	assert.Equal(t, "Bearer env", rec.headers[0].Get("Authorization"), "environment headers are kept")
	assert.Equal(t, "config", rec.headers[0].Get("X-Tenant"), "config headers win")

	services := map[string]bool{}
	for _, body := range rec.bodies {
		for _, rs := range gjson.GetBytes(body, "resourceSpans").Array() {
			for _, a := range rs.Get("resource.attributes").Array() {
				if a.Get("key").String() == "service.name" {
					services[a.Get("value.stringValue").String()] = true
				}
			}
			for _, ss := range rs.Get("scopeSpans").Array() {
				for _, sp := range ss.Get("spans").Array() {
					assert.Equal(t, SpanName, sp.Get("name").String())
					assert.Equal(t, int64(2), sp.Get("status.code").Int(), "STATUS_CODE_ERROR")
				}
			}
		}
	}
	assert.Equal(t, map[string]bool{"api-gateway": true, "workflow-engine": true}, services,
		"one resource per record service")
}

func TestHTTPProtobufFromEnvironment(t *testing.T) {
	clearOTLPEnv(t)
	rec := &otlpHTTP{}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL+"/base")
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "x-from-env=yes")

	s, err := New(testConfig(), nil)
	require.NoError(t, err)
	require.NoError(t, s.Send(t.Context(), normalizeLines(t, "x", pythonTraceback)))
	require.NoError(t, s.Close(t.Context()))
	require.Equal(t, int64(1), s.Stats().SpansExported.Load())

	rec.mu.Lock()
	defer rec.mu.Unlock()
	require.Len(t, rec.paths, 1)
	assert.Equal(t, "/base/v1/traces", rec.paths[0])
	assert.Equal(t, "application/x-protobuf", rec.types[0])
	assert.Equal(t, "yes", rec.headers[0].Get("X-From-Env"))
	var req coltracepb.ExportTraceServiceRequest
	require.NoError(t, proto.Unmarshal(rec.bodies[0], &req))
	require.Len(t, req.ResourceSpans, 1)
	sp := req.ResourceSpans[0].ScopeSpans[0].Spans[0]
	assert.Len(t, sp.Events, 2)
}

// otlpGRPC is an OTLP/gRPC receiver that records requests.
type otlpGRPC struct {
	coltracepb.UnimplementedTraceServiceServer
	mu    sync.Mutex
	reqs  []*coltracepb.ExportTraceServiceRequest
	auths []string
}

func (o *otlpGRPC) Export(ctx context.Context, r *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	o.mu.Lock()
	o.reqs = append(o.reqs, r)
	o.auths = append(o.auths, md.Get("authorization")...)
	o.mu.Unlock()
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

func TestGRPCOverTheWire(t *testing.T) {
	clearOTLPEnv(t)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	rec := &otlpGRPC{}
	gs := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(gs, rec)
	go func() { _ = gs.Serve(lis) }()
	defer gs.Stop()

	yes := true
	cfg := testConfig()
	cfg.Endpoint = lis.Addr().String()
	cfg.Protocol = ProtocolGRPC
	cfg.Insecure = &yes
	cfg.Headers = map[string]string{"authorization": "Bearer cfg"}
	s, err := New(cfg, nil)
	require.NoError(t, err)
	require.NoError(t, s.Send(t.Context(), normalizeLines(t, "x", jsonWithTrace)))
	require.NoError(t, s.Close(t.Context()))
	require.Equal(t, int64(1), s.Stats().SpansExported.Load())

	rec.mu.Lock()
	defer rec.mu.Unlock()
	require.Len(t, rec.reqs, 1)
	assert.Equal(t, []string{"Bearer cfg"}, rec.auths)
	rs := rec.reqs[0].ResourceSpans[0]
	sp := rs.ScopeSpans[0].Spans[0]
	assert.Equal(t, "3b507d7247f84ab2bf21a142eb4f4517", hexOf(sp.TraceId))
	assert.Equal(t, "c321904023874e02", hexOf(sp.ParentSpanId))
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := lis.Addr().String()
	require.NoError(t, lis.Close())
	return addr
}

func TestBackendDownDropsAfterBoundedRetries(t *testing.T) {
	for _, protocol := range []string{ProtocolGRPC, ProtocolHTTPProtobuf} {
		t.Run(protocol, func(t *testing.T) {
			clearOTLPEnv(t)
			yes := true
			cfg := testConfig()
			cfg.Endpoint = closedPort(t)
			cfg.Protocol = protocol
			cfg.Insecure = &yes
			cfg.MaxRetryTime = 2 * time.Second
			cfg.Timeout = 500 * time.Millisecond
			s, err := New(cfg, nil)
			require.NoError(t, err)

			start := time.Now()
			for range 5 {
				require.NoError(t, s.Send(t.Context(), errorBatch(t, 4)))
			}
			assert.Less(t, time.Since(start), time.Second, "a down backend must not slow Send")

			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			require.NoError(t, s.Close(ctx))
			assert.Less(t, time.Since(start), 15*time.Second, "retries are bounded")
			st := s.Stats()
			assert.Equal(t, int64(20), st.SpansCreated.Load())
			assert.Equal(t, int64(20), st.DroppedExportFailed.Load())
			assert.Zero(t, st.SpansExported.Load())
			assert.Positive(t, st.ExportErrors.Load())
			if protocol != ProtocolGRPC {
				// The HTTP exporter does not retry a refused connection; we do.
				assert.Positive(t, st.ExportRetries.Load())
			}
		})
	}
}

// TestLogsFlowWhileBackendDown runs the sink behind a real sink.Worker (as
// the pipeline does): with the trace backend down, every batch is still
// acknowledged as delivered at once, so sources and the other sinks never
// wait for tracing.
func TestLogsFlowWhileBackendDown(t *testing.T) {
	clearOTLPEnv(t)
	yes := true
	cfg := testConfig()
	cfg.Endpoint = closedPort(t)
	cfg.Protocol = ProtocolGRPC
	cfg.Insecure = &yes
	cfg.MaxRetryTime = time.Second
	s, err := New(cfg, nil)
	require.NoError(t, err)

	logger := slog.New(slog.DiscardHandler)
	w := sink.NewWorker("span_events", s, sink.DefaultQueueConfig(), nil, logger, nil)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ran := make(chan struct{})
	go func() { w.Run(ctx); close(ran) }()

	var mu sync.Mutex
	statuses := map[event.Status]int{}
	start := time.Now()
	for range 20 {
		b := errorBatch(t, 5)
		b.Ack = event.NewAck(func(st event.Status) { mu.Lock(); statuses[st]++; mu.Unlock() })
		b.Ack.Add(1)
		require.NoError(t, w.Enqueue(t.Context(), b))
	}
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return statuses[event.Delivered] == 20
	}, 5*time.Second, 5*time.Millisecond)
	assert.Less(t, time.Since(start), 2*time.Second, "acks do not wait for the trace backend")
	w.Close()
	<-ran

	closeCtx, cancelClose := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancelClose()
	require.NoError(t, w.CloseSink(closeCtx))
	st := s.Stats()
	assert.Equal(t, int64(100), st.SpansCreated.Load())
	assert.Equal(t, int64(100), st.DroppedExportFailed.Load()+st.DroppedQueueFull.Load())
	assert.Equal(t, int64(100), w.Stats().Sent.Load())
}
