package spanevents

// Integration test against a real Jaeger. Skipped unless
// LOGSHIPD_INTEGRATION=1; the binary is LOGSHIPD_JAEGER_BIN, else
// <repo>/.cache/tools/bin/jaeger (built from the tools module).
//
// github.com/jaegertracing/jaeger/cmd/jaeger v1.76.0 is the Jaeger v2 binary
// (an OpenTelemetry Collector distribution): it takes a collector config
// file, not the v1 all-in-one flags. The test writes a minimal config (OTLP
// gRPC and HTTP receivers, memory storage, query API) on free loopback
// ports, waits until /api/services answers, exports spans from records
// normalized from real log lines, and reads them back from
// /api/traces/{traceID}.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/starmates/logshipd/internal/event"
)

type jaeger struct {
	otlpGRPC, otlpHTTP, query string // host:port
}

func jaegerBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("LOGSHIPD_JAEGER_BIN"); p != "" {
		return p
	}
	p, err := filepath.Abs(filepath.Join("..", "..", ".cache", "tools", "bin", "jaeger"))
	require.NoError(t, err)
	return p
}

func freePorts(t *testing.T, n int) []string {
	t.Helper()
	var ls []net.Listener
	var addrs []string
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		ls = append(ls, l)
		addrs = append(addrs, l.Addr().String())
	}
	for _, l := range ls {
		require.NoError(t, l.Close())
	}
	return addrs
}

const jaegerConfig = `service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  healthcheckv2:
    use_v2: true
    http:
      endpoint: %[4]s
  jaeger_query:
    enable_tracing: false
    storage:
      traces: mem
    http:
      endpoint: %[3]s
    grpc:
      endpoint: %[5]s
  jaeger_storage:
    backends:
      mem:
        memory:
          max_traces: 10000
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: %[1]s
      http:
        endpoint: %[2]s
processors:
  batch:
    timeout: 100ms
exporters:
  jaeger_storage_exporter:
    trace_storage: mem
`

// lockedBuffer collects the process output.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func startJaeger(t *testing.T) *jaeger {
	t.Helper()
	bin := jaegerBinary(t)
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("jaeger binary %s: %v (build it from the tools module, or set LOGSHIPD_JAEGER_BIN)", bin, err)
	}
	p := freePorts(t, 5)
	j := &jaeger{otlpGRPC: p[0], otlpHTTP: p[1], query: p[2]}
	cfgPath := filepath.Join(t.TempDir(), "jaeger.yaml")
	require.NoError(t, os.WriteFile(cfgPath, fmt.Appendf(nil, jaegerConfig, p[0], p[1], p[2], p[3], p[4]), 0o600))

	out := &lockedBuffer{}
	cmd := exec.Command(bin, "--config", cfgPath)
	cmd.Stdout, cmd.Stderr = out, out
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("jaeger output:\n%s", out.String())
		}
	})

	ready := func() bool {
		select {
		case err := <-done:
			done <- err
			t.Fatalf("jaeger exited early: %v\n%s", err, out.String())
		default:
		}
		resp, err := http.Get("http://" + j.query + "/api/services")
		if err != nil {
			return false
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return false
		}
		for _, a := range []string{j.otlpGRPC, j.otlpHTTP} {
			c, err := net.DialTimeout("tcp", a, time.Second)
			if err != nil {
				return false
			}
			c.Close()
		}
		return true
	}
	require.Eventually(t, ready, 90*time.Second, 100*time.Millisecond, "jaeger did not become ready:\n%s", out.String())
	return j
}

func getJSON(t *testing.T, url string) (gjson.Result, int) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return gjson.Result{}, 0
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	return gjson.ParseBytes(buf.Bytes()), resp.StatusCode
}

// waitTrace polls /api/traces/{id} until the trace holds want spans.
func (j *jaeger) waitTrace(t *testing.T, traceID string, want int) gjson.Result {
	t.Helper()
	var tr gjson.Result
	require.Eventually(t, func() bool {
		res, code := getJSON(t, "http://"+j.query+"/api/traces/"+traceID)
		if code != http.StatusOK {
			return false
		}
		tr = res.Get("data.0")
		return len(tr.Get("spans").Array()) >= want
	}, 30*time.Second, 100*time.Millisecond, "trace %s not found in jaeger", traceID)
	return tr
}

// serviceSpan exports the span a service would have made for a request (as
// the application's own OpenTelemetry SDK would) and returns its ids, which
// the service's log line then carries.
func serviceSpan(t *testing.T, j *jaeger, service, name string) (traceID, spanID string) {
	t.Helper()
	exp, err := otlptracegrpc.New(t.Context(), otlptracegrpc.WithEndpoint(j.otlpGRPC), otlptracegrpc.WithInsecure())
	require.NoError(t, err)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", service))))
	start := time.Date(2026, 11, 25, 21, 47, 27, 443000000, time.UTC)
	_, sp := tp.Tracer("app").Start(t.Context(), name, trace.WithTimestamp(start), trace.WithSpanKind(trace.SpanKindServer))
	sp.End(trace.WithTimestamp(start.Add(100 * time.Millisecond))) // the log line (.524096) falls inside
	require.NoError(t, tp.Shutdown(t.Context()))
	sc := sp.SpanContext()
	return sc.TraceID().String(), sc.SpanID().String()
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func uuidV4() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// jaegerTags flattens [{key, value}] to a map.
func jaegerTags(arr gjson.Result) map[string]any {
	m := map[string]any{}
	for _, kv := range arr.Array() {
		m[kv.Get("key").String()] = kv.Get("value").Value()
	}
	return m
}

// jaegerLog returns the fields of the span log whose "event" is name.
func jaegerLog(sp gjson.Result, name string) map[string]any {
	for _, l := range sp.Get("logs").Array() {
		f := jaegerTags(l.Get("fields"))
		if f["event"] == name {
			return f
		}
	}
	return nil
}

func TestJaegerIntegration(t *testing.T) {
	if os.Getenv("LOGSHIPD_INTEGRATION") != "1" {
		t.Skip("set LOGSHIPD_INTEGRATION=1 to run against a real Jaeger")
	}
	clearOTLPEnv(t)
	j := startJaeger(t)

	for _, proto := range []string{ProtocolGRPC, ProtocolHTTPProtobuf} {
		t.Run(proto, func(t *testing.T) {
			// Fresh ids per protocol so both runs can share one Jaeger.
			pyTracking := uuidV4()
			jsTrace, jsSpan := serviceSpan(t, j, "api-gateway", "POST /api/v1/sessions")
			jsTracking := uuidV4()
			lfTracking := uuidV4()
			noCtxService := "nocontext-" + strings.ReplaceAll(proto, "/", "-") + "-" + randHex(4)

			py := strings.ReplaceAll(pythonTraceback, "03c4c8af-2c84-41c3-af19-2afacf9e0c84", pyTracking)
			js := strings.NewReplacer("3b507d7247f84ab2bf21a142eb4f4517", jsTrace, "c321904023874e02", jsSpan,
				"81f3e1b6-9349-47a1-b935-47037c7f4c27", jsTracking).Replace(jsonWithTrace)
			lf := strings.ReplaceAll(logfmtTrackingOnly, "5d1c0b7e-0a8e-4b43-9d7e-2f1f7a3c9e11", lfTracking)
			nc := strings.ReplaceAll(noContext, "service=workflow-engine", "service="+noCtxService)

			yes := true
			cfg := DefaultConfig()
			cfg.Protocol = proto
			cfg.Insecure = &yes
			cfg.Endpoint = j.otlpGRPC
			if proto != ProtocolGRPC {
				cfg.Endpoint = "http://" + j.otlpHTTP
			}
			cfg.BatchTimeout = 100 * time.Millisecond
			s, err := New(cfg, nil)
			require.NoError(t, err)
			for _, text := range []string{py, js, lf, nc} {
				b := normalizeLines(t, "workflow-agent", text)
				b.Ack = event.NewAck(nil)
				require.NoError(t, s.Send(t.Context(), b))
			}
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			require.NoError(t, s.Close(ctx))
			st := s.Stats()
			require.Equal(t, int64(4), st.SpansExported.Load(), "dropped: %v", st.Dropped())

			t.Run("json with trace context", func(t *testing.T) {
				// The service's own span and ours.
				tr := j.waitTrace(t, jsTrace, 2)
				var sp gjson.Result
				for _, x := range tr.Get("spans").Array() {
					if x.Get("operationName").String() == SpanName {
						sp = x
					}
				}
				require.True(t, sp.Exists(), "no %s span in %s", SpanName, tr.Raw)
				assert.Empty(t, tr.Get("warnings").Array(), "the parent is in the trace")
				assert.Empty(t, sp.Get("warnings").Array())
				assert.Equal(t, jsTrace, sp.Get("traceID").String())
				assert.Equal(t, SpanName, sp.Get("operationName").String())
				ref := sp.Get("references.0")
				assert.Equal(t, "CHILD_OF", ref.Get("refType").String())
				assert.Equal(t, jsSpan, ref.Get("spanID").String(), "child of the record's span")
				assert.Equal(t, jsTrace, ref.Get("traceID").String())
				proc := tr.Get("processes." + sp.Get("processID").String())
				assert.Equal(t, "api-gateway", proc.Get("serviceName").String())
				assert.Equal(t, "prod", jaegerTags(proc.Get("tags"))["deployment.environment"])
				// 2026-11-25T21:47:27.524096Z in microseconds.
				assert.Equal(t, time.Date(2026, 11, 25, 21, 47, 27, 524096000, time.UTC).UnixMicro(), sp.Get("startTime").Int())
				assert.Equal(t, int64(1000), sp.Get("duration").Int())

				tags := jaegerTags(sp.Get("tags"))
				assert.Equal(t, true, tags["error"])
				assert.Equal(t, "ERROR", tags["otel.status_code"])
				assert.Equal(t, "upstream workflow-agent timed out after 0.081s", tags["otel.status_description"])
				assert.Equal(t, jsTracking, tags["tracking.id"])

				ev := jaegerLog(sp, EventErrorLog)
				require.NotNil(t, ev, "error_log event: %s", sp.Get("logs").Raw)
				assert.Equal(t, map[string]any{
					"event":        "error_log",
					"log.level":    "ERROR",
					"log.message":  "POST /api/v1/sessions - 503",
					"log.logger":   "api.handlers",
					"log.module":   "cloudwatch_sim",
					"log.function": "handle",
					"log.line":     float64(34),
					"tracking.id":  jsTracking,
					"error.type":   "TimeoutError",
				}, ev)
				ex := jaegerLog(sp, EventException)
				require.NotNil(t, ex)
				assert.Equal(t, "TimeoutError", ex["exception.type"])
				assert.Equal(t, "upstream workflow-agent timed out after 0.081s", ex["exception.message"])
				assert.Contains(t, ex["exception.stacktrace"], "in handle")
			})

			t.Run("python traceback text", func(t *testing.T) {
				traceID := strings.ReplaceAll(pyTracking, "-", "")
				tr := j.waitTrace(t, traceID, 1)
				sp := tr.Get("spans.0")
				assert.Empty(t, sp.Get("references").Array(), "root span in the tracking id's trace")
				assert.Equal(t, "workflow-agent", tr.Get("processes."+sp.Get("processID").String()+".serviceName").String())
				assert.Equal(t, map[string]any{
					"event":        "error_log",
					"log.level":    "ERROR",
					"log.message":  "workflow generation failed tracking_id=" + pyTracking,
					"log.logger":   "workflow_agent",
					"log.module":   "agent",
					"log.function": "generate",
					"log.line":     float64(24),
					"tracking.id":  pyTracking,
					"error.type":   "agent.PlannerError",
				}, jaegerLog(sp, EventErrorLog))
				ex := jaegerLog(sp, EventException)
				require.NotNil(t, ex)
				assert.Equal(t, "agent.PlannerError", ex["exception.type"])
				assert.Equal(t, "cannot plan workflow for prompt 'please fail'", ex["exception.message"])
				assert.Contains(t, ex["exception.stacktrace"], "Traceback (most recent call last):")
				assert.Equal(t, true, jaegerTags(sp.Get("tags"))["error"])
			})

			t.Run("line without trace context, with tracking id", func(t *testing.T) {
				traceID := strings.ReplaceAll(lfTracking, "-", "")
				tr := j.waitTrace(t, traceID, 1)
				sp := tr.Get("spans.0")
				assert.Empty(t, sp.Get("references").Array())
				assert.Equal(t, "workflow-engine", tr.Get("processes."+sp.Get("processID").String()+".serviceName").String())
				assert.Equal(t, map[string]any{
					"event":        "error_log",
					"log.level":    "ERROR",
					"log.message":  "step 3 failed: model quota exhausted",
					"log.logger":   "engine.runner",
					"log.module":   "runner",
					"log.function": "execute",
					"log.line":     float64(88),
					"tracking.id":  lfTracking,
					"error.type":   "QuotaExceeded",
				}, jaegerLog(sp, EventErrorLog))
				assert.Nil(t, jaegerLog(sp, EventException), "no exception in the record")
				assert.Equal(t, "ERROR", jaegerTags(sp.Get("tags"))["otel.status_code"])
			})

			t.Run("no trace context and no tracking id", func(t *testing.T) {
				at := time.Date(2026, 11, 25, 22, 11, 0, 0, time.UTC)
				url := fmt.Sprintf("http://%s/api/traces?service=%s&start=%d&end=%d&limit=10",
					j.query, noCtxService, at.Add(-time.Hour).UnixMicro(), at.Add(time.Hour).UnixMicro())
				var tr gjson.Result
				require.Eventually(t, func() bool {
					res, code := getJSON(t, url)
					tr = res.Get("data.0")
					return code == http.StatusOK && tr.Exists()
				}, 30*time.Second, 100*time.Millisecond)
				sp := tr.Get("spans.0")
				assert.Len(t, sp.Get("traceID").String(), 32, "a new trace")
				assert.Empty(t, sp.Get("references").Array())
				ev := jaegerLog(sp, EventErrorLog)
				require.NotNil(t, ev)
				assert.Equal(t, "disk almost full", ev["log.message"])
			})
		})
	}
}
