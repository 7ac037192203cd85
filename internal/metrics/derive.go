package metrics

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/starmates/logshipd/internal/event"
)

// Derived metric names (see docs/metrics.md for the guide's names).
const (
	MetricHTTPRequests    = "http_requests_total"
	MetricRequestDuration = "request_duration_seconds"
	MetricRequestErrors   = "request_errors_total"
	MetricEndpointUsage   = "endpoint_usage_total"
	MetricAPIKeyUsage     = "api_key_usage_total"
	MetricUserActivity    = "user_activity_total"
	MetricAIRequests      = "ai_requests_total"
	MetricAITokens        = "ai_tokens_total"
	MetricAICost          = "ai_cost_total"
	MetricWorkflowRuns    = "workflow_runs_total"
)

// Label values used when a record does not say.
const (
	valUnknown = "unknown"
	valNone    = "none"
	valTrue    = "true"
	valFalse   = "false"
	valUnlist  = "unlisted"
)

// Deriver is a sink that derives Prometheus metrics from canonical records
// (HTTP request, AI and workflow metrics) and a prometheus.Collector that
// exposes them. As a sink it inherits fan-out, backpressure and acks from
// sink.Worker; Send never fails.
//
// Every derived series carries environment, project and service. Labels
// never hold tracking ids, user ids, session ids or raw API keys: trace and
// tracking ids ride as exemplars. Each metric holds at most
// MaxSeriesPerMetric series (plus a bounded set of "other" overflow
// series) and forgets series idle for SeriesIdleExpiry.
type Deriver struct {
	cfg     Config
	logger  *slog.Logger
	now     func() time.Time
	ep      *endpoints
	apiKeys map[string]struct{}
	exclude map[string]struct{}

	sweepEvery time.Duration

	mu        sync.Mutex
	p         parser
	fams      []*family
	http      *family
	duration  *family
	errors    *family
	usage     *family
	apiKey    *family
	activity  *family
	aiReqs    *family
	aiTokens  *family
	aiCost    *family
	wfRuns    *family
	wfTypes   boundedMap
	lastSweep time.Time
	vals      []string
	key       []byte
	epBuf     []byte
	segs      []string

	records  uint64
	derived  map[string]uint64
	descSelf selfDescs
}

type selfDescs struct {
	records, derived, series, overflow, expired *prometheus.Desc
}

// Option configures a Deriver.
type Option func(*Deriver)

// WithClock replaces time.Now (tests).
func WithClock(now func() time.Time) Option { return func(d *Deriver) { d.now = now } }

// NewDeriver validates cfg (the listener address is not used here) and
// returns a Deriver. logger may be nil.
func NewDeriver(cfg Config, logger *slog.Logger, opts ...Option) (*Deriver, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	d := &Deriver{
		cfg:     cfg,
		logger:  logger.With("component", "metrics"),
		now:     time.Now,
		ep:      newEndpoints(cfg.EndpointTemplates),
		apiKeys: map[string]struct{}{},
		exclude: map[string]struct{}{},
		derived: map[string]uint64{},
		wfTypes: boundedMap{max: 4096},
	}
	for _, o := range opts {
		o(d)
	}
	for _, k := range cfg.APIKeyIDs {
		d.apiKeys[k] = struct{}{}
	}
	for _, f := range cfg.ExcludeFormats {
		d.exclude[f] = struct{}{}
	}
	d.sweepEvery = min(max(cfg.SeriesIdleExpiry/10, time.Second), time.Minute)
	n := cfg.MaxSeriesPerMetric
	fam := func(name, help string, kind familyKind, labels []string, exemplars bool) *family {
		f := newFamily(name, help, kind, labels, cfg.DurationBuckets, exemplars, n)
		d.fams = append(d.fams, f)
		return f
	}
	d.http = fam(MetricHTTPRequests, "HTTP requests seen in logs (guide: request_count).", kindCounter,
		[]string{"endpoint", "method", "status_code", "api_version"}, true)
	d.duration = fam(MetricRequestDuration, "HTTP request duration from logs (request.duration), seconds.", kindHistogram,
		[]string{"endpoint", "method"}, true)
	d.errors = fam(MetricRequestErrors, "HTTP requests with status >= 400 or an error type, from logs.", kindCounter,
		[]string{"endpoint", "method", "error_type", "status_code"}, true)
	d.usage = fam(MetricEndpointUsage, "HTTP requests per endpoint, API version and user segment, from logs.", kindCounter,
		[]string{"endpoint", "api_version", "user_segment"}, false)
	d.apiKey = fam(MetricAPIKeyUsage, "HTTP requests per configured API key id or client name, from logs.", kindCounter,
		[]string{"api_key_id", "client_name", "endpoint", "success"}, false)
	d.activity = fam(MetricUserActivity, "Records of user activity (no user or session labels), from logs.", kindCounter,
		[]string{"activity_type", "user_segment"}, false)
	d.aiReqs = fam(MetricAIRequests, "AI model requests seen in logs.", kindCounter,
		[]string{"model", "provider", "success"}, true)
	d.aiTokens = fam(MetricAITokens, "AI tokens reported in logs, by token type (prompt, completion, or total when not split).", kindCounter,
		[]string{"model", "provider", "token_type"}, false)
	d.aiCost = fam(MetricAICost, "AI cost reported in logs, in the unit the records use (USD expected).", kindCounter,
		[]string{"model", "provider"}, false)
	d.wfRuns = fam(MetricWorkflowRuns, "Workflow status records (started, completed, failed, cancelled, other), from logs.", kindCounter,
		[]string{"workflow_type", "complexity_level", "status"}, true)
	d.descSelf = selfDescs{
		records:  prometheus.NewDesc("logshipd_metrics_records_total", "Records read by the metrics deriver.", nil, nil),
		derived:  prometheus.NewDesc("logshipd_metrics_derived_records_total", "Records that fed derived metrics, by kind.", []string{"kind"}, nil),
		series:   prometheus.NewDesc("logshipd_metrics_series", "Live Prometheus series of a derived metric (overflow included; a histogram label set counts buckets+3).", []string{"metric"}, nil),
		overflow: prometheus.NewDesc("logshipd_metrics_series_overflow_total", "Samples folded into an \"other\" overflow series because the metric reached max_series_per_metric.", []string{"metric"}, nil),
		expired:  prometheus.NewDesc("logshipd_metrics_series_expired_total", "Derived series removed after series_idle_expiry without updates.", []string{"metric"}, nil),
	}
	d.lastSweep = d.now()
	return d, nil
}

// Send derives metrics from every record of b. It never returns an error.
func (d *Deriver) Send(_ context.Context, b *event.Batch) error {
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	if now.Sub(d.lastSweep) >= d.sweepEvery {
		d.sweep(now) // first, so that expired series free their slots
	}
	for i := range b.Items {
		var v view
		d.p.parse(b.JSON(i), &v)
		d.derive(&b.Items[i], &v, now)
	}
	return nil
}

// Observe derives metrics from one record outside the sink path: a tap
// the normalizer's caller may place before the level filter, so that
// filtered INFO records (2xx access lines in prod) still count. Feed a
// record either through Observe or through the sink, never both. r is
// not kept.
func (d *Deriver) Observe(r *event.Record) {
	it := event.Item{Time: r.Time, Level: r.Level, Service: r.Service, Environment: r.Environment,
		Project: r.Project, TraceID: r.TraceID, HasTrace: r.HasTrace}
	if tid := r.TrackingID[:r.TrackingIDLen]; realTrackingID(sstr(tid)) {
		it.TrackingID = string(tid)
	}
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	if now.Sub(d.lastSweep) >= d.sweepEvery {
		d.sweep(now)
	}
	var v view
	d.p.parse(r.JSON, &v)
	d.derive(&it, &v, now)
}

// Close implements sink.Sink; the metrics stay exposed.
func (d *Deriver) Close(context.Context) error { return nil }

func (d *Deriver) sweep(now time.Time) {
	cutoff := now.Add(-d.cfg.SeriesIdleExpiry)
	for _, f := range d.fams {
		f.sweep(cutoff)
	}
	d.lastSweep = now
}

func orUnknown(s string) string {
	if s == "" {
		return valUnknown
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return valNone
	}
	return s
}

// derive updates the families from one record (d.mu held).
func (d *Deriver) derive(it *event.Item, v *view, now time.Time) {
	d.records++
	ex := exemplarSrc{hasTrace: it.HasTrace, trace: it.TraceID}
	if realTrackingID(it.TrackingID) {
		ex.tracking = strings.Clone(it.TrackingID) // kept beyond the batch
	}
	common := [3]string{orUnknown(it.Environment), orUnknown(it.Project), orUnknown(it.Service)}
	vals := func(extra ...string) []string {
		d.vals = append(append(d.vals[:0], common[:]...), extra...)
		return d.vals
	}
	failed := it.Level == event.LevelError || v.errType != "" || (v.hasStatus && v.status >= 400)

	isHTTP := (v.method != "" || v.path != "") && v.hasStatus
	if isHTTP {
		if _, skip := d.exclude[v.format]; skip {
			isHTTP = false
			d.derived["http_excluded"]++
		}
	}
	var endpoint, segment string
	if isHTTP {
		d.derived["http"]++
		var version string
		d.epBuf, version, d.segs = d.ep.normalize(d.epBuf[:0], v.path, d.segs)
		endpoint = sstr(d.epBuf)
		version = orNone(version)
		method := normMethod(v.method)
		status := statusLabel(v.status)
		segment = orNone(v.userSegment)

		d.key = d.http.add(vals(endpoint, method, status, version), 1, now, &ex, d.key)
		if v.hasDuration {
			d.key = d.duration.observe(vals(endpoint, method), v.duration, now, &ex, d.key)
		}
		if v.status >= 400 || v.errType != "" {
			et := v.errType
			if et == "" {
				et = v.errCategory
			}
			if et == "" {
				et = "client"
				if v.status >= 500 {
					et = "server"
				}
			}
			d.key = d.errors.add(vals(endpoint, method, et, status), 1, now, &ex, d.key)
		}
		d.key = d.usage.add(vals(endpoint, version, segment), 1, now, nil, d.key)
		if v.apiKeyID != "" || v.clientName != "" {
			keyID := valNone
			if v.apiKeyID != "" {
				keyID = valUnlist
				if _, ok := d.apiKeys[v.apiKeyID]; ok {
					keyID = v.apiKeyID
				}
			}
			success := valTrue
			if v.status >= 400 {
				success = valFalse
			}
			d.key = d.apiKey.add(vals(keyID, orUnknown(v.clientName), endpoint, success), 1, now, nil, d.key)
		}
	}
	if (v.userID != "" || v.sessionID != "") && (isHTTP || v.activityType != "") {
		act := v.activityType
		if act == "" {
			act = "api_request"
		}
		d.derived["user_activity"]++
		d.key = d.activity.add(vals(act, orNone(v.userSegment)), 1, now, nil, d.key)
	}
	if v.model != "" || v.provider != "" {
		d.derived["ai"]++
		model, provider := orUnknown(v.model), orUnknown(v.provider)
		success := valTrue
		if failed {
			success = valFalse
		}
		d.key = d.aiReqs.add(vals(model, provider, success), 1, now, &ex, d.key)
		switch {
		case v.hasPrompt || v.hasCompletion:
			if v.hasPrompt {
				d.key = d.aiTokens.add(vals(model, provider, "prompt"), v.prompt, now, nil, d.key)
			}
			if v.hasCompletion {
				d.key = d.aiTokens.add(vals(model, provider, "completion"), v.completion, now, nil, d.key)
			}
		case v.hasTotal:
			d.key = d.aiTokens.add(vals(model, provider, "total"), v.total, now, nil, d.key)
		}
		if v.hasCost {
			d.key = d.aiCost.add(vals(model, provider), v.cost, now, nil, d.key)
		}
	}
	d.deriveWorkflow(v, vals, now, &ex)
}

func (d *Deriver) deriveWorkflow(v *view, vals func(...string) []string, now time.Time, ex *exemplarSrc) {
	id := v.wfID
	if id == "" {
		id = v.attrWfID
	}
	typ := v.wfType
	if typ == "" {
		typ = v.attrWfType
	}
	if id != "" && typ != "" {
		d.wfTypes.put(id, typ)
	}
	status := v.wfStatus
	if status == "" && (v.hasWorkflow || id != "") {
		// A flat "status" next to a workflow object is the workflow's.
		status = v.attrStatus
	}
	if status == "" {
		return
	}
	if typ == "" && id != "" {
		typ = d.wfTypes.get(id)
	}
	d.derived["workflow"]++
	d.key = d.wfRuns.add(vals(orUnknown(typ), orUnknown(v.wfComplexity), workflowStatus(status)), 1, now, ex, d.key)
}

// workflowStatus maps a workflow status to started, completed, failed,
// cancelled or other.
func workflowStatus(s string) string {
	switch strings.ToLower(s) {
	case "running", "started", "start", "in_progress", "in-progress", "inprogress", "executing", "processing":
		return "started"
	case "completed", "complete", "success", "succeeded", "successful", "done", "finished", "ok":
		return "completed"
	case "failed", "failure", "fail", "error", "errored", "timeout", "timed_out", "timedout":
		return "failed"
	case "cancelled", "canceled", "aborted", "stopped":
		return "cancelled"
	}
	return "other"
}

// realTrackingID reports a UUID or a 32-hex id (not the configured
// fallback such as "unknown").
func realTrackingID(s string) bool {
	if isUUID(s) {
		return true
	}
	if len(s) != 32 {
		return false
	}
	for i := 0; i < 32; i++ {
		if !isHexDigit(s[i]) {
			return false
		}
	}
	return true
}

var statusLabels = func() []string {
	out := make([]string, 600)
	for i := 100; i < 600; i++ {
		out[i] = strconv.Itoa(i)
	}
	return out
}()

func statusLabel(code int) string {
	if code >= 100 && code < 600 {
		return statusLabels[code]
	}
	return "other"
}

// Describe implements prometheus.Collector.
func (d *Deriver) Describe(ch chan<- *prometheus.Desc) {
	for _, f := range d.fams {
		ch <- f.desc
	}
	ch <- d.descSelf.records
	ch <- d.descSelf.derived
	ch <- d.descSelf.series
	ch <- d.descSelf.overflow
	ch <- d.descSelf.expired
}

// Collect implements prometheus.Collector. Idle series are removed first.
func (d *Deriver) Collect(ch chan<- prometheus.Metric) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.sweep(d.now())
	for _, f := range d.fams {
		f.collect(ch)
		ch <- prometheus.MustNewConstMetric(d.descSelf.series, prometheus.GaugeValue, float64(len(f.series)*f.seriesPerSet()), f.name)
		ch <- prometheus.MustNewConstMetric(d.descSelf.overflow, prometheus.CounterValue, float64(f.overflows), f.name)
		ch <- prometheus.MustNewConstMetric(d.descSelf.expired, prometheus.CounterValue, float64(f.expired), f.name)
	}
	ch <- prometheus.MustNewConstMetric(d.descSelf.records, prometheus.CounterValue, float64(d.records))
	for _, k := range []string{"http", "http_excluded", "user_activity", "ai", "workflow"} {
		ch <- prometheus.MustNewConstMetric(d.descSelf.derived, prometheus.CounterValue, float64(d.derived[k]), k)
	}
}

// boundedMap remembers workflow id -> type for records that name only the
// id; the oldest entries are forgotten first.
type boundedMap struct {
	max  int
	m    map[string]string
	ring []string
	next int
}

func (b *boundedMap) put(k, v string) {
	if b.m == nil {
		b.m = make(map[string]string, b.max)
	}
	if old, ok := b.m[k]; ok {
		if old != v {
			b.m[k] = strings.Clone(v)
		}
		return
	}
	k = strings.Clone(k)
	if len(b.ring) < b.max {
		b.ring = append(b.ring, k)
	} else {
		delete(b.m, b.ring[b.next])
		b.ring[b.next] = k
		b.next = (b.next + 1) % b.max
	}
	b.m[k] = strings.Clone(v)
}

func (b *boundedMap) get(k string) string { return b.m[k] }
