package metrics

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"

	"github.com/starmates/logshipd/internal/event"
	"github.com/starmates/logshipd/internal/normalize"
)

// gather collects c through a fresh registry.
func gather(t testing.TB, c prometheus.Collector) map[string]*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(c))
	mfs, err := reg.Gather()
	require.NoError(t, err)
	out := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

// match returns the metrics of name whose labels include want.
func match(fams map[string]*dto.MetricFamily, name string, want map[string]string) []*dto.Metric {
	mf := fams[name]
	if mf == nil {
		return nil
	}
	var out []*dto.Metric
	for _, m := range mf.GetMetric() {
		ok := true
		for k, v := range want {
			found := false
			for _, lp := range m.GetLabel() {
				if lp.GetName() == k && lp.GetValue() == v {
					found = true
				}
			}
			ok = ok && found
		}
		if ok {
			out = append(out, m)
		}
	}
	return out
}

func sumCounter(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	var s float64
	for _, m := range match(fams, name, want) {
		s += m.GetCounter().GetValue()
	}
	return s
}

func labelValues(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, lp := range m.GetLabel() {
		out[lp.GetName()] = lp.GetValue()
	}
	return out
}

const (
	gatewayAI = `{"timestamp":"2026-11-25T21:47:27.513677Z","level":"INFO","service":"api-gateway","environment":"staging","tracking_id":"4afd0fa1-83c5-463f-b652-33eb297dbe8c","message":"chat","request":{"method":"POST","path":"/api/v1/chat","duration":2.5},"response":{"status":200},"user":{"id":"user_1","segment":"premium"},"session":{"id":"session_9"},"trace_id":"460cbcf3b7c64fecbf295f732b2e4b4c","model":"gpt-4o","provider":"openai","prompt_tokens":100,"completion_tokens":50,"cost_usd":0.0123,"api_key_id":"key_a","client_name":"mobile"}`
	nginx404  = `127.0.0.1 - - [25/Nov/2026:21:43:45 +0000] "GET /api/v2/users/12345?x=1 HTTP/1.1" 404 32 "-" "curl/8"`
	json500   = `{"level":"error","ts":"2026-11-25T21:47:27Z","service":"api-gateway","environment":"staging","msg":"req","method":"get","path":"/x","status":500,"duration":"0.2","error_type":"Boom","api_key":"sk-live-secret-123","client_id":"web"}`
	wfStart   = `{"timestamp":"2026-11-25T21:47:28Z","level":"INFO","service":"workflow-engine","message":"workflow started","workflow":{"id":"workflow_002","type":"ai-assisted","status":"running"},"complexity_level":"high"}`
	wfFail    = `{"timestamp":"2026-11-25T21:47:29Z","level":"ERROR","service":"workflow-engine","message":"step failed","workflow":{"id":"workflow_002","status":"failed"},"complexity_level":"high"}`
	wfDone    = `{"timestamp":"2026-11-25T21:47:29Z","level":"INFO","service":"workflow-engine","message":"workflow completed","workflow_id":"workflow_001","workflow_type":"complex","status":"completed"}`
	genAI     = `{"timestamp":"2026-11-25T21:47:29Z","level":"INFO","service":"llm","message":"done","gen_ai.request.model":"claude","gen_ai.system":"anthropic","gen_ai.usage.input_tokens":10,"gen_ai.usage.output_tokens":"20","usage":{"total_tokens":30}}`
	totalOnly = `{"timestamp":"2026-11-25T21:47:29Z","level":"ERROR","service":"llm","message":"failed","llm":{"model":"mistral","provider":"local","tokens":7}}`
	uvicorn   = `INFO:     127.0.0.1:44104 - "GET /health HTTP/1.1" 200 OK`
	noHTTP    = `{"timestamp":"2026-11-25T21:47:29Z","level":"INFO","service":"api-gateway","message":"Created workflow session for user user_12345","user":{"id":"user_12345","segment":"free"}}`
)

func TestDeriveFromNormalizedRecords(t *testing.T) {
	d := newTestDeriver(t, func(c *Config) { c.APIKeyIDs = []string{"key_a"} })
	b := normalizeBatch(t, gatewayAI, nginx404, json500, wfStart, wfFail, wfDone, genAI, totalOnly, uvicorn, noHTTP)
	require.Len(t, b.Items, 10)
	require.NoError(t, d.Send(t.Context(), b))
	f := gather(t, d)

	gw := map[string]string{"environment": "staging", "project": "starmates-ai-team", "service": "api-gateway"}
	with := func(base map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range base {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	require.InDelta(t, 1, sumCounter(f, MetricHTTPRequests, with(gw, "endpoint", "/api/v1/chat", "method", "POST", "status_code", "200", "api_version", "v1")), 0)
	require.InDelta(t, 1, sumCounter(f, MetricHTTPRequests, map[string]string{"service": "unknown", "endpoint": "/api/v2/users/{id}", "method": "GET", "status_code": "404", "api_version": "v2", "environment": "dev"}), 0)
	require.InDelta(t, 1, sumCounter(f, MetricHTTPRequests, with(gw, "endpoint", "/x", "method", "GET", "status_code", "500", "api_version", "none")), 0)
	require.InDelta(t, 1, sumCounter(f, MetricHTTPRequests, map[string]string{"endpoint": "/health"}), 0, "uvicorn access line counted")
	require.Len(t, f[MetricHTTPRequests].GetMetric(), 4)

	// Histogram: only records with a duration.
	hs := match(f, MetricRequestDuration, with(gw, "endpoint", "/api/v1/chat", "method", "POST"))
	require.Len(t, hs, 1)
	h := hs[0].GetHistogram()
	require.Equal(t, uint64(1), h.GetSampleCount())
	require.InDelta(t, 2.5, h.GetSampleSum(), 1e-9)
	for _, bk := range h.GetBucket() {
		want := uint64(0)
		if bk.GetUpperBound() >= 2.5 {
			want = 1
		}
		require.Equal(t, want, bk.GetCumulativeCount(), "le=%g", bk.GetUpperBound())
	}
	require.Len(t, f[MetricRequestDuration].GetMetric(), 2, "the 0.2 s record and the 2.5 s one")

	require.InDelta(t, 1, sumCounter(f, MetricRequestErrors, with(gw, "endpoint", "/x", "error_type", "Boom", "status_code", "500")), 0)
	require.InDelta(t, 1, sumCounter(f, MetricRequestErrors, map[string]string{"endpoint": "/api/v2/users/{id}", "error_type": "client", "status_code": "404"}), 0)
	require.InDelta(t, 2, sumCounter(f, MetricRequestErrors, nil), 0)

	require.InDelta(t, 1, sumCounter(f, MetricEndpointUsage, with(gw, "endpoint", "/api/v1/chat", "api_version", "v1", "user_segment", "premium")), 0)
	require.InDelta(t, 1, sumCounter(f, MetricAPIKeyUsage, with(gw, "api_key_id", "key_a", "client_name", "mobile", "endpoint", "/api/v1/chat", "success", "true")), 0)
	require.InDelta(t, 1, sumCounter(f, MetricAPIKeyUsage, with(gw, "api_key_id", "unlisted", "client_name", "web", "endpoint", "/x", "success", "false")), 0)
	require.InDelta(t, 1, sumCounter(f, MetricUserActivity, with(gw, "activity_type", "api_request", "user_segment", "premium")), 0)
	require.InDelta(t, 1, sumCounter(f, MetricUserActivity, nil), 0, "a user record without HTTP or activity type is not activity")

	require.InDelta(t, 1, sumCounter(f, MetricAIRequests, with(gw, "model", "gpt-4o", "provider", "openai", "success", "true")), 0)
	require.InDelta(t, 100, sumCounter(f, MetricAITokens, with(gw, "model", "gpt-4o", "token_type", "prompt")), 0)
	require.InDelta(t, 50, sumCounter(f, MetricAITokens, with(gw, "model", "gpt-4o", "token_type", "completion")), 0)
	require.InDelta(t, 0.0123, sumCounter(f, MetricAICost, with(gw, "model", "gpt-4o", "provider", "openai")), 1e-12)
	llm := map[string]string{"service": "llm"}
	require.InDelta(t, 1, sumCounter(f, MetricAIRequests, with(llm, "model", "claude", "provider", "anthropic", "success", "true")), 0)
	require.InDelta(t, 10, sumCounter(f, MetricAITokens, with(llm, "model", "claude", "token_type", "prompt")), 0)
	require.InDelta(t, 20, sumCounter(f, MetricAITokens, with(llm, "model", "claude", "token_type", "completion")), 0)
	require.Empty(t, match(f, MetricAITokens, with(llm, "model", "claude", "token_type", "total")), "total is not double counted")
	require.InDelta(t, 1, sumCounter(f, MetricAIRequests, with(llm, "model", "mistral", "provider", "local", "success", "false")), 0)
	require.InDelta(t, 7, sumCounter(f, MetricAITokens, with(llm, "model", "mistral", "token_type", "total")), 0)

	wf := map[string]string{"service": "workflow-engine"}
	require.InDelta(t, 1, sumCounter(f, MetricWorkflowRuns, with(wf, "workflow_type", "ai-assisted", "complexity_level", "high", "status", "started")), 0)
	require.InDelta(t, 1, sumCounter(f, MetricWorkflowRuns, with(wf, "workflow_type", "ai-assisted", "complexity_level", "high", "status", "failed")), 0, "type remembered from the start record")
	require.InDelta(t, 1, sumCounter(f, MetricWorkflowRuns, with(wf, "workflow_type", "complex", "complexity_level", "unknown", "status", "completed")), 0, "flat status next to a workflow")

	// No label holds ids, user ids, session ids or raw keys.
	for name, mf := range f {
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				for _, bad := range []string{"user_1", "session_9", "sk-live-secret-123", "4afd0fa1", "460cbcf3", "12345"} {
					require.NotContains(t, lp.GetValue(), bad, "%s %s", name, lp.GetName())
				}
			}
		}
	}
	require.InDelta(t, 10, f["logshipd_metrics_records_total"].GetMetric()[0].GetCounter().GetValue(), 0)
	require.InDelta(t, 4, sumCounter(f, "logshipd_metrics_derived_records_total", map[string]string{"kind": "http"}), 0)
	require.InDelta(t, 3, sumCounter(f, "logshipd_metrics_derived_records_total", map[string]string{"kind": "ai"}), 0)
	require.InDelta(t, 3, sumCounter(f, "logshipd_metrics_derived_records_total", map[string]string{"kind": "workflow"}), 0)
}

func TestDeriveExcludeFormats(t *testing.T) {
	d := newTestDeriver(t, func(c *Config) { c.ExcludeFormats = []string{"uvicorn-access"} })
	require.NoError(t, d.Send(t.Context(), normalizeBatch(t, uvicorn, nginx404)))
	f := gather(t, d)
	require.InDelta(t, 1, sumCounter(f, MetricHTTPRequests, nil), 0)
	require.Empty(t, match(f, MetricHTTPRequests, map[string]string{"endpoint": "/health"}))
	require.InDelta(t, 1, sumCounter(f, "logshipd_metrics_derived_records_total", map[string]string{"kind": "http_excluded"}), 0)
}

// TestDeriveExposition pins the exact text exposition of a small case.
func TestDeriveExposition(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	d := newTestDeriver(t, func(c *Config) { c.DurationBuckets = []float64{0.1, 1} }, WithClock(clk.now))
	b := &event.Batch{}
	appendJSON(b, event.Item{Service: "svc", Environment: "prod", Project: "p"},
		`{"request":{"method":"GET","path":"/a/1","duration":0.05},"response":{"status":200}}`,
		`{"request":{"method":"GET","path":"/a/2","duration":0.5},"response":{"status":200}}`,
		`{"request":{"method":"GET","path":"/a/3","duration":5},"response":{"status":503}}`)
	require.NoError(t, d.Send(t.Context(), b))
	want := `
# HELP http_requests_total HTTP requests seen in logs (guide: request_count).
# TYPE http_requests_total counter
http_requests_total{api_version="none",endpoint="/a/{id}",environment="prod",method="GET",project="p",service="svc",status_code="200"} 2
http_requests_total{api_version="none",endpoint="/a/{id}",environment="prod",method="GET",project="p",service="svc",status_code="503"} 1
# HELP request_duration_seconds HTTP request duration from logs (request.duration), seconds.
# TYPE request_duration_seconds histogram
request_duration_seconds_bucket{endpoint="/a/{id}",environment="prod",method="GET",project="p",service="svc",le="0.1"} 1
request_duration_seconds_bucket{endpoint="/a/{id}",environment="prod",method="GET",project="p",service="svc",le="1"} 2
request_duration_seconds_bucket{endpoint="/a/{id}",environment="prod",method="GET",project="p",service="svc",le="+Inf"} 3
request_duration_seconds_sum{endpoint="/a/{id}",environment="prod",method="GET",project="p",service="svc"} 5.55
request_duration_seconds_count{endpoint="/a/{id}",environment="prod",method="GET",project="p",service="svc"} 3
# HELP request_errors_total HTTP requests with status >= 400 or an error type, from logs.
# TYPE request_errors_total counter
request_errors_total{endpoint="/a/{id}",environment="prod",error_type="server",method="GET",project="p",service="svc",status_code="503"} 1
`
	require.NoError(t, testutil.CollectAndCompare(d, strings.NewReader(want), MetricHTTPRequests, MetricRequestDuration, MetricRequestErrors))
}

// appendJSON appends raw canonical JSON records with item metadata.
func appendJSON(b *event.Batch, meta event.Item, recs ...string) {
	for _, r := range recs {
		it := meta
		it.Off = len(b.Buf)
		it.Len = len(r)
		b.Buf = append(append(b.Buf, r...), '\n')
		b.Items = append(b.Items, it)
	}
}

func TestExemplarsOpenMetrics(t *testing.T) {
	d := newTestDeriver(t, nil)
	require.NoError(t, d.Send(t.Context(), normalizeBatch(t, gatewayAI)))
	s := serverFor(t, d)
	ct, body := scrape(t, s.Handler(), true)
	require.Contains(t, ct, "application/openmetrics-text")
	// The 2.5 s request lands in the le="2.5" bucket with its ids.
	bl := lines(body, `request_duration_seconds_bucket{`)
	var found bool
	for _, l := range bl {
		if strings.Contains(l, `le="2.5"`) {
			require.Contains(t, l, `# {`)
			require.Contains(t, l, `trace_id="460cbcf3b7c64fecbf295f732b2e4b4c"`)
			require.Contains(t, l, `tracking_id="4afd0fa1-83c5-463f-b652-33eb297dbe8c"`)
			require.Contains(t, l, ` 2.5 `)
			found = true
		} else {
			require.NotContains(t, l, "# {", l)
		}
	}
	require.True(t, found, body)
	cl := lines(body, `http_requests_total{`)
	require.Len(t, cl, 1)
	require.Contains(t, cl[0], `trace_id="460cbcf3b7c64fecbf295f732b2e4b4c"`)
	require.Contains(t, body, "# TYPE http_requests counter", "OpenMetrics family names drop _total")
	require.True(t, strings.HasSuffix(strings.TrimSpace(body), "# EOF"))

	// Classic text format: no exemplars, same samples.
	ct, text := scrape(t, s.Handler(), false)
	require.Contains(t, ct, "text/plain")
	require.NotContains(t, text, "trace_id")
	require.Len(t, lines(text, `http_requests_total{`), 1)
}

func TestExemplarLabelsBounded(t *testing.T) {
	e := exemplar{has: true, hasTrace: true, tracking: strings.Repeat("é", 100)}
	l := e.labels()
	require.Len(t, l, 1, "a tracking id over the 128-rune budget is left out")
	require.Len(t, l["trace_id"], 32)
	e = exemplar{has: true, tracking: "4afd0fa1-83c5-463f-b652-33eb297dbe8c"}
	require.Equal(t, prometheus.Labels{"tracking_id": "4afd0fa1-83c5-463f-b652-33eb297dbe8c"}, e.labels())
	e = exemplar{has: true, hasTrace: true, trace: [16]byte{1}, tracking: "01000000000000000000000000000000"}
	require.Len(t, e.labels(), 1, "tracking id equal to the trace id is not repeated")
	// Records without a real tracking id or trace carry no exemplar.
	require.False(t, realTrackingID("unknown"))
	require.True(t, realTrackingID("460cbcf3b7c64fecbf295f732b2e4b4c"))
}

func TestSeriesCapOverflowAndExpiry(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	d := newTestDeriver(t, func(c *Config) {
		c.MaxSeriesPerMetric = 10
		c.SeriesIdleExpiry = time.Minute
	}, WithClock(clk.now))
	b := &event.Batch{}
	for i := range 50 {
		appendJSON(b, event.Item{Service: "svc", Environment: "prod", Project: "p"},
			fmt.Sprintf(`{"request":{"method":"GET","path":"/r%d/x"},"response":{"status":200}}`, i))
	}
	require.NoError(t, d.Send(t.Context(), b))
	f := gather(t, d)
	require.Len(t, f[MetricHTTPRequests].GetMetric(), 11, "10 series + one overflow series")
	other := match(f, MetricHTTPRequests, map[string]string{"endpoint": "other", "method": "other", "status_code": "other", "service": "svc"})
	require.Len(t, other, 1)
	require.InDelta(t, 40, other[0].GetCounter().GetValue(), 0)
	require.InDelta(t, 50, sumCounter(f, MetricHTTPRequests, nil), 0, "no sample lost")
	require.InDelta(t, 40, sumCounter(f, "logshipd_metrics_series_overflow_total", map[string]string{"metric": MetricHTTPRequests}), 0)

	// Overflow series beyond their own budget fold every label into "other".
	b = &event.Batch{}
	for i := range 30 {
		appendJSON(b, event.Item{Service: fmt.Sprintf("svc%d", i), Environment: "prod", Project: "p"},
			`{"request":{"method":"GET","path":"/z"},"response":{"status":200}}`)
	}
	require.NoError(t, d.Send(t.Context(), b))
	f = gather(t, d)
	require.Len(t, f[MetricHTTPRequests].GetMetric(), 10+10+1, "cap + overflow budget + the all-other series")
	all := match(f, MetricHTTPRequests, map[string]string{"environment": "other", "project": "other", "service": "other", "endpoint": "other"})
	require.Len(t, all, 1)
	require.InDelta(t, 80, sumCounter(f, MetricHTTPRequests, nil), 0)

	// Everything idle for longer than the expiry disappears; new series fit again.
	clk.t = clk.t.Add(2 * time.Minute)
	b = &event.Batch{}
	appendJSON(b, event.Item{Service: "svc", Environment: "prod", Project: "p"},
		`{"request":{"method":"GET","path":"/fresh"},"response":{"status":200}}`)
	require.NoError(t, d.Send(t.Context(), b))
	f = gather(t, d)
	require.Len(t, f[MetricHTTPRequests].GetMetric(), 1)
	require.Equal(t, "/fresh", labelValues(f[MetricHTTPRequests].GetMetric()[0])["endpoint"])
	require.InDelta(t, 21, sumCounter(f, "logshipd_metrics_series_expired_total", map[string]string{"metric": MetricHTTPRequests}), 0)
	series := match(f, "logshipd_metrics_series", map[string]string{"metric": MetricHTTPRequests})
	require.InDelta(t, 1, series[0].GetGauge().GetValue(), 0)
}

func TestDeriveOddValues(t *testing.T) {
	d := newTestDeriver(t, nil)
	b := &event.Batch{}
	appendJSON(b, event.Item{},
		`{"request":{"method":"BREW","path":"/pot","duration":-1},"response":{"status":418}}`,
		`{"request":{"method":"GET","path":"/x"},"response":{"status":999}}`,
		`{"request":{"method":"GET","path":"/`+strings.Repeat("a", 300)+`x"},"response":{"status":200}}`,
		`{"attrs":{"model":"m","tokens":-5,"cost":"NaN"}}`,
		`{"request":{"method":"GET"}}`,
		`not json`,
		``)
	require.NoError(t, d.Send(t.Context(), b))
	f := gather(t, d)
	require.InDelta(t, 1, sumCounter(f, MetricHTTPRequests, map[string]string{"method": "OTHER", "status_code": "418", "service": "unknown"}), 0)
	require.InDelta(t, 1, sumCounter(f, MetricHTTPRequests, map[string]string{"status_code": "other"}), 0)
	require.InDelta(t, 1, sumCounter(f, MetricHTTPRequests, map[string]string{"endpoint": "/{id}"}), 0)
	require.Nil(t, f[MetricRequestDuration], "negative durations are ignored")
	require.InDelta(t, 1, sumCounter(f, MetricAIRequests, nil), 0)
	require.Nil(t, f[MetricAITokens])
	require.Nil(t, f[MetricAICost])
	require.NoError(t, d.Close(t.Context()))
}

func TestLabelValueSanitized(t *testing.T) {
	require.Equal(t, "ab\xff", string(appendLabel(nil, "ab")))
	k := string(appendLabel(nil, "a\xffb"))
	require.Equal(t, "a\uFFFDb\xff", k)
	long := strings.Repeat("é", 100)
	v := splitKey(string(appendLabel(nil, long)))[0]
	require.LessOrEqual(t, len(v), maxLabelValueBytes)
	require.True(t, strings.HasPrefix(long, v))
}

func TestConcurrentSendAndScrape(t *testing.T) {
	d := newTestDeriver(t, func(c *Config) { c.MaxSeriesPerMetric = 50 })
	s := serverFor(t, d)
	batch := normalizeBatch(t, gatewayAI, nginx404, json500, wfStart, wfFail, genAI)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 200 {
			_ = d.Send(t.Context(), batch)
		}
	}()
	for range 20 {
		_, body := scrape(t, s.Handler(), true)
		require.Contains(t, body, "logshipd_metrics_records_total")
	}
	<-done
	f := gather(t, d)
	require.InDelta(t, 200*6, f["logshipd_metrics_records_total"].GetMetric()[0].GetCounter().GetValue(), 0)
}

func TestRecordsUnderTheLevelFilterStillCount(t *testing.T) {
	d := newTestDeriver(t, nil)
	require.True(t, d.AllLevels(), "the deriver asks the sink worker for records under the level filter")
	cfg := normalize.DefaultConfig()
	cfg.Environment = "prod" // keeps WARN and above for log destinations
	eng, err := normalize.New(cfg, nil)
	require.NoError(t, err)
	b := &event.Batch{}
	st := eng.NewStream(event.Origin{Kind: "stdin"}, func(r *event.Record) { b.Append(r, "in", "") })
	line := `127.0.0.1 - - [25/Nov/2026:21:43:45 +0000] "GET /ok HTTP/1.1" 200 3 "-" "curl/8"`
	st.Write([]byte(line), time.Now())
	st.Flush(time.Now())
	require.Len(t, b.Items, 1)
	require.True(t, b.Items[0].BelowLevel, "the 2xx access line is under prod's level filter")
	require.NoError(t, d.Send(t.Context(), b))
	f := gather(t, d)
	require.InDelta(t, 1, sumCounter(f, MetricHTTPRequests, map[string]string{"endpoint": "/ok", "environment": "prod"}), 0)
}
