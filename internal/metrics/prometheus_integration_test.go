package metrics

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/starmates/logshipd/internal/event"
	"github.com/starmates/logshipd/internal/normalize"
)

// The Prometheus integration test runs only with LOGSHIPD_INTEGRATION=1. It
// starts the metrics server and a real Prometheus (LOGSHIPD_PROMETHEUS_BIN,
// default `prometheus` in PATH; Debian's package) scraping it every second
// with exemplar storage on, feeds access logs, JSON and logfmt request logs
// through the real normalizer, and compares PromQL answers with counts
// computed here from the generated requests.

type genReq struct {
	format   string // json, logfmt, nginx, uvicorn
	service  string
	method   string
	path     string
	endpoint string // expected label, written by hand per route
	status   int
	dur      float64 // seconds; <0: the line carries no duration
	trace    string  // 32 hex or ""
	tracking string  // UUID or ""
}

type seriesKey struct{ service, endpoint, method, status string }
type histKey struct{ service, endpoint, method string }

// route is a route template with a generator of concrete paths.
type route struct {
	endpoint string
	path     func(r *rand.Rand) string
}

var integrationRoutes = []route{
	{"/api/v1/sessions", func(*rand.Rand) string { return "/api/v1/sessions" }},
	{"/api/v1/sessions/{id}", func(r *rand.Rand) string { return fmt.Sprintf("/api/v1/sessions/session_%d", r.IntN(1e6)) }},
	{"/api/v1/users/{id}/profile", func(r *rand.Rand) string { return fmt.Sprintf("/api/v1/users/%d/profile", r.IntN(1e6)) }},
	{"/api/v2/items/{id}", func(r *rand.Rand) string { return "/api/v2/items/" + randUUID(r) + "?expand=1" }},
	{"/health", func(*rand.Rand) string { return "/health" }},
}

var fastDurations = []float64{0.003, 0.007, 0.02, 0.04, 0.07, 0.2, 0.3, 0.7}

func randHex(r *rand.Rand, n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[r.IntN(16)]
	}
	return string(b)
}

func randUUID(r *rand.Rand) string {
	h := randHex(r, 32)
	return h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:]
}

// line renders q in its format.
func (q genReq) line() string {
	ts := "2026-11-25T21:47:27.123456Z"
	switch q.format {
	case "json":
		rec := map[string]any{"timestamp": ts, "level": "INFO", "service": q.service, "environment": "staging",
			"message": q.method + " " + q.path, "request": map[string]any{"method": q.method, "path": q.path},
			"response": map[string]any{"status": q.status}}
		if q.dur >= 0 {
			rec["request"].(map[string]any)["duration"] = q.dur
		}
		if q.trace != "" {
			rec["trace_id"] = q.trace
		}
		if q.tracking != "" {
			rec["tracking_id"] = q.tracking
		}
		b, _ := json.Marshal(rec)
		return string(b)
	case "logfmt":
		l := fmt.Sprintf("ts=%s level=info service=%s environment=staging msg=request method=%s path=%s status=%d", ts, q.service, q.method, q.path, q.status)
		if q.dur >= 0 {
			l += fmt.Sprintf(" duration_ms=%g", q.dur*1000)
		}
		if q.trace != "" {
			l += " trace_id=" + q.trace
		}
		return l
	case "nginx":
		l := fmt.Sprintf(`10.0.0.7 - - [25/Nov/2026:21:43:45 +0000] "%s %s HTTP/1.1" %d 512 "-" "curl/8.0"`, q.method, q.path, q.status)
		if q.dur >= 0 {
			l += fmt.Sprintf(" %.3f", q.dur)
		}
		return l
	case "uvicorn":
		return fmt.Sprintf(`INFO:     127.0.0.1:44104 - "%s %s HTTP/1.1" %d OK`, q.method, q.path, q.status)
	}
	panic(q.format)
}

// normalizeAs runs lines through a real normalizer whose source names
// service (records without their own service take it).
func normalizeAs(t testing.TB, service string, lines []string) *event.Batch {
	t.Helper()
	cfg := normalize.DefaultConfig()
	cfg.LevelFilter = map[string]string{}
	cfg.Service = service
	cfg.Environment = "staging"
	eng, err := normalize.New(cfg, nil)
	require.NoError(t, err)
	b := &event.Batch{}
	st := eng.NewStream(event.Origin{Kind: "file", Path: "/var/log/" + service + ".log"}, func(r *event.Record) { b.Append(r, service, "") })
	now := time.Now()
	for _, l := range lines {
		st.Write([]byte(l), now)
	}
	st.Flush(now)
	require.Len(t, b.Items, len(lines), "one record per line")
	return b
}

// generate returns n fast requests spread over formats, services and routes.
func generate(r *rand.Rand, n int) []genReq {
	formats := []struct{ format, service string }{{"json", "api-gateway"}, {"logfmt", "billing"}, {"nginx", "web"}, {"uvicorn", "engine"}}
	methods := []string{"GET", "GET", "GET", "POST", "PUT", "DELETE"}
	statuses := []int{200, 200, 200, 201, 204, 304, 400, 404, 500, 503}
	out := make([]genReq, 0, n)
	for range n {
		f := formats[r.IntN(len(formats))]
		rt := integrationRoutes[r.IntN(len(integrationRoutes))]
		q := genReq{format: f.format, service: f.service, method: methods[r.IntN(len(methods))], path: rt.path(r),
			endpoint: rt.endpoint, status: statuses[r.IntN(len(statuses))], dur: fastDurations[r.IntN(len(fastDurations))]}
		if q.format == "uvicorn" {
			q.dur = -1
		}
		if q.format == "json" || q.format == "logfmt" {
			q.trace = randHex(r, 32)
		}
		if q.format == "json" {
			q.tracking = randUUID(r)
		}
		out = append(out, q)
	}
	return out
}

// feed normalizes reqs per source and sends them to d.
func feed(t testing.TB, d *Deriver, reqs []genReq) {
	t.Helper()
	per := map[string][]string{}
	for _, q := range reqs {
		per[q.service] = append(per[q.service], q.line())
	}
	for svc, ls := range per {
		require.NoError(t, d.Send(t.Context(), normalizeAs(t, svc, ls)))
	}
}

func expected(reqs []genReq, buckets []float64) (map[seriesKey]float64, map[histKey][]float64) {
	counts := map[seriesKey]float64{}
	hist := map[histKey][]float64{} // cumulative per bucket, then +Inf
	for _, q := range reqs {
		counts[seriesKey{q.service, q.endpoint, q.method, strconv.Itoa(q.status)}]++
		if q.dur < 0 {
			continue
		}
		k := histKey{q.service, q.endpoint, q.method}
		h := hist[k]
		if h == nil {
			h = make([]float64, len(buckets)+1)
			hist[k] = h
		}
		for i, ub := range buckets {
			if q.dur <= ub {
				h[i]++
			}
		}
		h[len(buckets)]++
	}
	return counts, hist
}

func freePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// lockedBuffer collects a process's output.
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

type promClient struct {
	base string
	hc   *http.Client
}

type promSample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

func (p *promClient) get(ctx context.Context, path string, q url.Values, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+path+"?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	resp, err := p.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var env struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("%s: %w: %s", path, err, body)
	}
	if env.Status != "success" {
		return fmt.Errorf("%s: %s", path, env.Error)
	}
	return json.Unmarshal(env.Data, out)
}

// query runs an instant PromQL query and returns its vector.
func (p *promClient) query(ctx context.Context, expr string) ([]promSample, error) {
	var data struct {
		ResultType string       `json:"resultType"`
		Result     []promSample `json:"result"`
	}
	if err := p.get(ctx, "/api/v1/query", url.Values{"query": {expr}}, &data); err != nil {
		return nil, err
	}
	return data.Result, nil
}

func sampleValue(s promSample) float64 {
	str, _ := s.Value[1].(string)
	v, _ := strconv.ParseFloat(str, 64)
	return v
}

func TestPrometheusIntegration(t *testing.T) {
	if os.Getenv("LOGSHIPD_INTEGRATION") != "1" {
		t.Skip("set LOGSHIPD_INTEGRATION=1 to run against a real Prometheus")
	}
	bin := os.Getenv("LOGSHIPD_PROMETHEUS_BIN")
	if bin == "" {
		bin = "prometheus"
	}
	bin, err := exec.LookPath(bin)
	require.NoError(t, err, "the Prometheus binary (Debian package prometheus, or LOGSHIPD_PROMETHEUS_BIN)")

	// The metrics server with the deriver and the self collector.
	d := newTestDeriver(t, nil)
	self := NewSelfCollector()
	normStats := normalizeStats(t, `{"level":"info","msg":"x"}`)
	self.AddNormalizeStats(normStats)
	cfg := DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	srv := NewServer(cfg, nil)
	srv.Registry().MustRegister(d, self)
	require.NoError(t, srv.Listen())
	ctx, cancel := context.WithCancel(t.Context())
	srvErr := make(chan error, 1)
	go func() { srvErr <- srv.Run(ctx) }()
	defer func() {
		cancel()
		require.NoError(t, <-srvErr)
	}()

	// Wave 1: fast requests plus four slow ones, each alone in its
	// series and bucket, so each keeps its exemplar.
	r := rand.New(rand.NewPCG(1, 2))
	wave1 := generate(r, 3000)
	slow := []genReq{
		{format: "json", service: "api-gateway", method: "POST", path: "/api/v1/reports/report_881", endpoint: "/api/v1/reports/{id}", status: 200, dur: 1.5, trace: randHex(r, 32), tracking: randUUID(r)},
		{format: "json", service: "api-gateway", method: "GET", path: "/api/v1/exports/77", endpoint: "/api/v1/exports/{id}", status: 200, dur: 3, trace: randHex(r, 32), tracking: randUUID(r)},
		{format: "logfmt", service: "billing", method: "PUT", path: "/v1/invoices/inv_77", endpoint: "/v1/invoices/{id}", status: 201, dur: 7, trace: randHex(r, 32)},
		{format: "json", service: "api-gateway", method: "GET", path: "/api/v1/search", endpoint: "/api/v1/search", status: 504, dur: 12, trace: randHex(r, 32), tracking: randUUID(r)},
	}
	wave1 = append(wave1, slow...)
	feed(t, d, wave1)

	// Prometheus scraping every second, exemplar storage on.
	dir := t.TempDir()
	promAddr := freePort(t)
	conf := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: logshipd
    static_configs:
      - targets: ['%s']
`, srv.Addr())
	require.NoError(t, os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(conf), 0o600))
	var promOut lockedBuffer
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+promAddr,
		"--enable-feature=exemplar-storage", "--log.level=warn")
	cmd.Stdout, cmd.Stderr = &promOut, &promOut
	require.NoError(t, cmd.Start())
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("prometheus output:\n%s", promOut.String())
		}
	}()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	pc := &promClient{base: "http://" + promAddr, hc: &http.Client{Transport: tr, Timeout: 10 * time.Second}}

	check := func(reqs []genReq) {
		t.Helper()
		wantCounts, wantHist := expected(reqs, cfg.DurationBuckets)
		// Counts per service/endpoint/method/status.
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			res, err := pc.query(ctx, `sum by (service, endpoint, method, status_code) (http_requests_total{job="logshipd"})`)
			if !assert.NoError(c, err) {
				return
			}
			got := map[seriesKey]float64{}
			for _, s := range res {
				got[seriesKey{s.Metric["service"], s.Metric["endpoint"], s.Metric["method"], s.Metric["status_code"]}] = sampleValue(s)
			}
			assert.Equal(c, wantCounts, got)
		}, 60*time.Second, 250*time.Millisecond, "http_requests_total per service/endpoint/method/status")

		// Histogram buckets per service/endpoint/method.
		res, err := pc.query(ctx, `sum by (service, endpoint, method, le) (request_duration_seconds_bucket{job="logshipd"})`)
		require.NoError(t, err)
		got := map[histKey][]float64{}
		for _, s := range res {
			k := histKey{s.Metric["service"], s.Metric["endpoint"], s.Metric["method"]}
			if got[k] == nil {
				got[k] = make([]float64, len(cfg.DurationBuckets)+1)
			}
			le, err := strconv.ParseFloat(s.Metric["le"], 64)
			require.NoError(t, err, s.Metric["le"])
			i := sort.SearchFloat64s(cfg.DurationBuckets, le)
			require.True(t, i == len(cfg.DurationBuckets) || cfg.DurationBuckets[i] == le, "unexpected le %v", le)
			got[k][i] = sampleValue(s)
		}
		require.Equal(t, wantHist, got)
		// _count agrees with the +Inf bucket; the uvicorn lines (no duration)
		// are counted as requests but not observed.
		res, err = pc.query(ctx, `sum(request_duration_seconds_count{job="logshipd"})`)
		require.NoError(t, err)
		var observed float64
		for _, h := range wantHist {
			observed += h[len(h)-1]
		}
		require.Len(t, res, 1)
		require.InDelta(t, observed, sampleValue(res[0]), 0)
		res, err = pc.query(ctx, `sum(request_errors_total{job="logshipd"})`)
		require.NoError(t, err)
		var errs float64
		for _, q := range reqs {
			if q.status >= 400 {
				errs++
			}
		}
		require.InDelta(t, errs, sampleValue(res[0]), 0)
		res, err = pc.query(ctx, `logshipd_metrics_records_total{job="logshipd"}`)
		require.NoError(t, err)
		require.InDelta(t, float64(len(reqs)), sampleValue(res[0]), 0)
	}
	check(wave1)

	// Wave 2 after the first scrapes: the increments arrive too.
	wave2 := generate(r, 1000)
	feed(t, d, wave2)
	check(append(append([]genReq(nil), wave1...), wave2...))

	// Every environment/project/service label is present on derived series.
	res, err := pc.query(ctx, `count(http_requests_total{environment="staging",project="starmates-ai-team"})`)
	require.NoError(t, err)
	res2, err := pc.query(ctx, `count(http_requests_total)`)
	require.NoError(t, err)
	require.InDelta(t, sampleValue(res2[0]), sampleValue(res[0]), 0)
	res, err = pc.query(ctx, `sum(logshipd_normalize_format_records_total{format="json"})`)
	require.NoError(t, err)
	require.InDelta(t, 1, sampleValue(res[0]), 0)

	// The documented active_requests estimate (Little's law) evaluates.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		res, err := pc.query(ctx, `sum by (service) (rate(request_duration_seconds_sum{job="logshipd"}[1m]))`)
		if assert.NoError(c, err) {
			assert.NotEmpty(c, res)
		}
	}, 30*time.Second, 250*time.Millisecond, "active requests estimate")

	// Exemplars: the slow requests' trace ids (OpenMetrics negotiation).
	type exemplarSeries struct {
		SeriesLabels map[string]string `json:"seriesLabels"`
		Exemplars    []struct {
			Labels map[string]string `json:"labels"`
			Value  string            `json:"value"`
		} `json:"exemplars"`
	}
	wantSlow := map[string]string{}
	for _, q := range slow {
		wantSlow[q.trace] = q.tracking
	}
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var data []exemplarSeries
		q := url.Values{"query": {`request_duration_seconds_bucket{job="logshipd"}`},
			"start": {strconv.FormatInt(time.Now().Add(-10*time.Minute).Unix(), 10)},
			"end":   {strconv.FormatInt(time.Now().Add(time.Minute).Unix(), 10)}}
		if !assert.NoError(c, pc.get(ctx, "/api/v1/query_exemplars", q, &data)) {
			return
		}
		gotSlow := map[string]string{}
		for _, s := range data {
			for _, e := range s.Exemplars {
				v, _ := strconv.ParseFloat(e.Value, 64)
				if v > 1 {
					gotSlow[e.Labels["trace_id"]] = e.Labels["tracking_id"]
				}
			}
		}
		assert.Equal(c, wantSlow, gotSlow)
	}, 30*time.Second, 250*time.Millisecond, "exemplars of the slow requests")
	t.Logf("PromQL matched %d requests; slow trace ids found as exemplars: %d", len(wave1)+len(wave2), len(wantSlow))
}
