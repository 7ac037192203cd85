package metrics

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/starmates/logshipd/internal/normalize"
	"github.com/starmates/logshipd/internal/sink"
)

// Pipeline is what SelfCollector reads from a *pipeline.Pipeline. It is an
// interface so that the pipeline package may import metrics without an
// import cycle.
type Pipeline interface {
	Workers() []*sink.Worker
}

// SourceFuncs exposes one source's counters as plain accessors (nil ones
// are skipped), so sources register without this package knowing their
// types. Maps are read once per scrape.
type SourceFuncs struct {
	// Received counts records (or lines) read from the input.
	Received func() int64
	// Sent counts records handed to the pipeline.
	Sent func() int64
	// Dropped counts records dropped on purpose, by reason.
	Dropped func() map[string]int64
	// Errors counts errors, by kind (read, decode, auth, checkpoint, ...).
	Errors func() map[string]int64
	// BufferBytes is the data read but not yet acknowledged (a gauge).
	BufferBytes func() int64
	// CheckpointLagBytes is input size minus committed offset (a gauge).
	CheckpointLagBytes func() int64
}

// SinkFuncs exposes a destination's own counters beyond what its
// sink.Worker counts.
type SinkFuncs struct {
	// Rejected counts events the destination refused, by reason (CloudWatch
	// RejectedLogEventsInfo: too_old, too_new, expired).
	Rejected func() map[string]int64
	// Errors counts destination errors, by kind.
	Errors func() map[string]int64
	// BufferBytes is data held inside the sink (batcher, client) (a gauge).
	BufferBytes func() int64
}

// SelfCollector exposes logshipd's own counters (self-observability):
// per source and sink received/sent/dropped{reason}/errors{kind}, queue
// and buffer depth, checkpoint lag, dead-lettered records by reason,
// destination rejections by reason, and the normalizer's counters
// (detected formats, multiline truncations, field-cap drops). Everything is
// read at scrape time from accessors registered with the Add methods,
// which may be called at any time. It is an unchecked collector (its
// Describe sends nothing) because hooks may emit any metric.
type SelfCollector struct {
	mu        sync.Mutex
	pipelines []Pipeline
	workers   []*sink.Worker
	norms     []*normalize.Stats
	sources   []namedSource
	sinks     []namedSink
	hooks     []hookFunc
	d         selfCollectorDescs
}

// hookFunc emits metrics at scrape time.
type hookFunc = func(ch chan<- prometheus.Metric)

type namedSource struct {
	name, typ string
	f         SourceFuncs
}

type namedSink struct {
	name string
	f    SinkFuncs
}

type selfCollectorDescs struct {
	sinkReceived, sinkSent, sinkDropped, sinkDead, sinkErrors, sinkRetries *prometheus.Desc
	sinkQueueBatches, sinkQueueBytes, sinkRejected, sinkBuffer             *prometheus.Desc
	sinkCapBytes, sinkCapBatches                                           *prometheus.Desc

	srcReceived, srcSent, srcDropped, srcErrors, srcBuffer, srcLag *prometheus.Desc

	normFormats *prometheus.Desc
	norm        []normCounter
}

type normCounter struct {
	desc *prometheus.Desc
	get  func(*normalize.Stats) int64
}

// NewSelfCollector returns an empty collector.
func NewSelfCollector() *SelfCollector {
	sinkL := []string{"sink"}
	srcL := []string{"source", "type"}
	nd := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	c := &SelfCollector{d: selfCollectorDescs{
		sinkReceived:     nd("logshipd_sink_received_records_total", "Records enqueued for the sink.", sinkL...),
		sinkSent:         nd("logshipd_sink_sent_records_total", "Records the destination accepted.", sinkL...),
		sinkDropped:      nd("logshipd_sink_dropped_records_total", "Records dropped on purpose, by reason (queue_full: when_full drop_newest).", "sink", "reason"),
		sinkDead:         nd("logshipd_sink_dead_lettered_records_total", "Records refused for good and written to the dead-letter file, by reason.", "sink", "reason"),
		sinkErrors:       nd("logshipd_sink_errors_total", "Failed send attempts and destination errors, by kind.", "sink", "kind"),
		sinkRetries:      nd("logshipd_sink_retries_total", "Send retries.", sinkL...),
		sinkQueueBatches: nd("logshipd_sink_queue_batches", "Batches waiting in the sink's queue.", sinkL...),
		sinkQueueBytes:   nd("logshipd_sink_queue_bytes", "Bytes waiting in the sink's queue (memory or disk buffer).", sinkL...),
		sinkCapBytes:     nd("logshipd_sink_queue_capacity_bytes", "Bound of the sink's queue in bytes: queue.max_bytes for the memory queue, queue.max_disk_bytes for a disk buffer.", sinkL...),
		sinkCapBatches:   nd("logshipd_sink_queue_capacity_batches", "Bound of the sink's queue in batches (queue.max_batches); 0 for a disk buffer, bounded by bytes only.", sinkL...),
		sinkRejected:     nd("logshipd_sink_rejected_events_total", "Events the destination rejected, by reason (CloudWatch RejectedLogEventsInfo).", "sink", "reason"),
		sinkBuffer:       nd("logshipd_sink_buffer_bytes", "Bytes held inside the sink (batcher, client).", sinkL...),
		srcReceived:      nd("logshipd_source_received_records_total", "Records (or lines) read by the source.", srcL...),
		srcSent:          nd("logshipd_source_sent_records_total", "Records the source handed to the pipeline.", srcL...),
		srcDropped:       nd("logshipd_source_dropped_records_total", "Records the source dropped, by reason.", "source", "type", "reason"),
		srcErrors:        nd("logshipd_source_errors_total", "Source errors, by kind.", "source", "type", "kind"),
		srcBuffer:        nd("logshipd_source_buffer_bytes", "Bytes read by the source and not yet acknowledged.", srcL...),
		srcLag:           nd("logshipd_source_checkpoint_lag_bytes", "Input bytes not yet covered by the committed checkpoint.", srcL...),
		normFormats:      nd("logshipd_normalize_format_records_total", "Records per detected input format.", "format"),
	}}
	for _, n := range []struct {
		name, help string
		get        func(*normalize.Stats) int64
	}{
		{"logshipd_normalize_records_total", "Canonical records emitted by the normalizer.", func(s *normalize.Stats) int64 { return s.Records.Load() }},
		{"logshipd_normalize_lines_total", "Physical lines read by the normalizer.", func(s *normalize.Stats) int64 { return s.Lines.Load() }},
		{"logshipd_normalize_level_filtered_records_total", "Records dropped by the level filter.", func(s *normalize.Stats) int64 { return s.LevelFiltered.Load() }},
		{"logshipd_normalize_empty_lines_total", "Blank lines skipped outside multiline records.", func(s *normalize.Stats) int64 { return s.EmptyLines.Load() }},
		{"logshipd_normalize_multiline_joined_records_total", "Records joined from more than one line.", func(s *normalize.Stats) int64 { return s.MultilineJoined.Load() }},
		{"logshipd_normalize_multiline_truncations_total", "Multiline records cut at max_lines/max_bytes.", func(s *normalize.Stats) int64 { return s.MultilineTruncs.Load() }},
		{"logshipd_normalize_field_cap_drops_total", "Records whose last attrs were moved to attrs_overflow by the field cap.", func(s *normalize.Stats) int64 { return s.FieldCapDrops.Load() }},
		{"logshipd_normalize_fields_dropped_total", "Leaf fields moved to attrs_overflow by the field cap.", func(s *normalize.Stats) int64 { return s.FieldsDropped.Load() }},
		{"logshipd_normalize_size_truncations_total", "Records cut to max_event_bytes.", func(s *normalize.Stats) int64 { return s.SizeTruncations.Load() }},
		{"logshipd_normalize_invalid_utf8_records_total", "Records with invalid UTF-8 replaced by U+FFFD.", func(s *normalize.Stats) int64 { return s.InvalidUTF8.Load() }},
		{"logshipd_normalize_time_missing_records_total", "Records without a timestamp (stamped with the read time).", func(s *normalize.Stats) int64 { return s.TimeMissing.Load() }},
		{"logshipd_normalize_invalid_tracking_ids_total", "Records whose tracking id was invalid (kept in origin.invalid_tracking_id).", func(s *normalize.Stats) int64 { return s.InvalidTracking.Load() }},
		{"logshipd_normalize_partial_joined_total", "Container partial chunks joined.", func(s *normalize.Stats) int64 { return s.PartialJoined.Load() }},
		{"logshipd_normalize_partial_overflow_total", "Partial lines emitted early at the size bound.", func(s *normalize.Stats) int64 { return s.PartialOverflow.Load() }},
		{"logshipd_normalize_partial_unfinished_total", "Partial lines emitted without their final piece (flush timeout or end of input).", func(s *normalize.Stats) int64 { return s.PartialUnfinished.Load() }},
	} {
		c.d.norm = append(c.d.norm, normCounter{desc: nd(n.name, n.help), get: n.get})
	}
	return c
}

// AddPipeline exposes the pipeline's sink workers (read at every scrape,
// so workers added later appear) and its normalizer counters (norm may be
// nil; pass &p.NormStats).
func (c *SelfCollector) AddPipeline(p Pipeline, norm *normalize.Stats) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pipelines = append(c.pipelines, p)
	if norm != nil {
		c.norms = append(c.norms, norm)
	}
}

// AddWorkers exposes sink workers that are not part of an added pipeline.
func (c *SelfCollector) AddWorkers(ws ...*sink.Worker) {
	c.mu.Lock()
	c.workers = append(c.workers, ws...)
	c.mu.Unlock()
}

// AddNormalizeStats exposes normalizer counters; several are summed.
func (c *SelfCollector) AddNormalizeStats(s *normalize.Stats) {
	c.mu.Lock()
	c.norms = append(c.norms, s)
	c.mu.Unlock()
}

// AddSource exposes one source (typ: file, forward, stdin, replay).
func (c *SelfCollector) AddSource(name, typ string, f SourceFuncs) {
	c.mu.Lock()
	c.sources = append(c.sources, namedSource{name: name, typ: typ, f: f})
	c.mu.Unlock()
}

// AddSink exposes a destination's own counters under its sink name.
func (c *SelfCollector) AddSink(name string, f SinkFuncs) {
	c.mu.Lock()
	c.sinks = append(c.sinks, namedSink{name: name, f: f})
	c.mu.Unlock()
}

// AddHook runs h at every scrape; h sends any metrics it likes (names must
// not clash with the others; prefer the logshipd_ prefix).
func (c *SelfCollector) AddHook(h func(ch chan<- prometheus.Metric)) {
	c.mu.Lock()
	c.hooks = append(c.hooks, h)
	c.mu.Unlock()
}

// AddCounterFunc exposes f as a counter (a hook with a fixed name).
func (c *SelfCollector) AddCounterFunc(name, help string, constLabels prometheus.Labels, f func() float64) {
	desc := prometheus.NewDesc(name, help, nil, constLabels)
	c.AddHook(func(ch chan<- prometheus.Metric) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, f())
	})
}

// AddGaugeFunc exposes f as a gauge.
func (c *SelfCollector) AddGaugeFunc(name, help string, constLabels prometheus.Labels, f func() float64) {
	desc := prometheus.NewDesc(name, help, nil, constLabels)
	c.AddHook(func(ch chan<- prometheus.Metric) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, f())
	})
}

// Describe sends nothing: an unchecked collector.
func (c *SelfCollector) Describe(chan<- *prometheus.Desc) {}

// Collect implements prometheus.Collector.
func (c *SelfCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	pipelines := append([]Pipeline(nil), c.pipelines...)
	workers := append([]*sink.Worker(nil), c.workers...)
	norms := append([]*normalize.Stats(nil), c.norms...)
	sources := append([]namedSource(nil), c.sources...)
	sinks := append([]namedSink(nil), c.sinks...)
	hooks := append([]hookFunc(nil), c.hooks...)
	c.mu.Unlock()

	seen := map[*sink.Worker]bool{}
	for _, p := range pipelines {
		for _, w := range p.Workers() {
			c.collectWorker(ch, w, seen)
		}
	}
	for _, w := range workers {
		c.collectWorker(ch, w, seen)
	}
	c.collectNormalize(ch, norms)
	for _, s := range sources {
		c.collectSource(ch, s)
	}
	for _, s := range sinks {
		c.collectSink(ch, s)
	}
	for _, h := range hooks {
		h(ch)
	}
}

func counter(ch chan<- prometheus.Metric, d *prometheus.Desc, v int64, lv ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), lv...)
}

func gauge(ch chan<- prometheus.Metric, d *prometheus.Desc, v int64, lv ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), lv...)
}

// byKey emits m sorted by key, with lv prefixed to the key label.
func byKey(ch chan<- prometheus.Metric, d *prometheus.Desc, m map[string]int64, lv ...string) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		counter(ch, d, m[k], append(append([]string(nil), lv...), orUnknown(k))...)
	}
}

func (c *SelfCollector) collectWorker(ch chan<- prometheus.Metric, w *sink.Worker, seen map[*sink.Worker]bool) {
	if w == nil || seen[w] {
		return
	}
	seen[w] = true
	st, name := w.Stats(), w.Name()
	counter(ch, c.d.sinkReceived, st.Received.Load(), name)
	counter(ch, c.d.sinkSent, st.Sent.Load(), name)
	counter(ch, c.d.sinkDropped, st.Dropped.Load(), name, "queue_full")
	byKey(ch, c.d.sinkDead, st.DeadByReason(), name)
	byKey(ch, c.d.sinkErrors, st.ErrorsByClass(), name)
	counter(ch, c.d.sinkRetries, st.Retries.Load(), name)
	gauge(ch, c.d.sinkQueueBatches, st.QueueBatches.Load(), name)
	gauge(ch, c.d.sinkQueueBytes, st.QueueBytes.Load(), name)
	capBytes, capBatches := w.QueueCapacity()
	gauge(ch, c.d.sinkCapBytes, capBytes, name)
	gauge(ch, c.d.sinkCapBatches, capBatches, name)
}

func (c *SelfCollector) collectNormalize(ch chan<- prometheus.Metric, norms []*normalize.Stats) {
	if len(norms) == 0 {
		return
	}
	for _, n := range c.d.norm {
		var v int64
		for _, s := range norms {
			v += n.get(s)
		}
		counter(ch, n.desc, v)
	}
	formats := map[string]int64{}
	for _, s := range norms {
		for k, v := range s.FormatCounts() {
			formats[k] += v
		}
	}
	byKey(ch, c.d.normFormats, formats)
}

func (c *SelfCollector) collectSource(ch chan<- prometheus.Metric, s namedSource) {
	lv := []string{s.name, orUnknown(s.typ)}
	f := s.f
	if f.Received != nil {
		counter(ch, c.d.srcReceived, f.Received(), lv...)
	}
	if f.Sent != nil {
		counter(ch, c.d.srcSent, f.Sent(), lv...)
	}
	if f.Dropped != nil {
		byKey(ch, c.d.srcDropped, f.Dropped(), lv...)
	}
	if f.Errors != nil {
		byKey(ch, c.d.srcErrors, f.Errors(), lv...)
	}
	if f.BufferBytes != nil {
		gauge(ch, c.d.srcBuffer, f.BufferBytes(), lv...)
	}
	if f.CheckpointLagBytes != nil {
		gauge(ch, c.d.srcLag, f.CheckpointLagBytes(), lv...)
	}
}

func (c *SelfCollector) collectSink(ch chan<- prometheus.Metric, s namedSink) {
	if s.f.Rejected != nil {
		byKey(ch, c.d.sinkRejected, s.f.Rejected(), s.name)
	}
	if s.f.Errors != nil {
		// Destination error kinds are prefixed so they never collide with
		// the worker's retryable/throttled/permanent classes.
		m := s.f.Errors()
		pm := make(map[string]int64, len(m))
		for k, v := range m {
			pm["destination_"+k] = v
		}
		byKey(ch, c.d.sinkErrors, pm, s.name)
	}
	if s.f.BufferBytes != nil {
		gauge(ch, c.d.sinkBuffer, s.f.BufferBytes(), s.name)
	}
}

// QueueNotFull returns a readiness check that fails while a sink queue is
// at its bound (maxBatches batches or maxBytes bytes; 0 disables a bound).
func QueueNotFull(name string, st *sink.Stats, maxBatches, maxBytes int64) func(context.Context) error {
	return func(context.Context) error {
		if b := st.QueueBatches.Load(); maxBatches > 0 && b >= maxBatches {
			return fmt.Errorf("sink %s: queue full (%d/%d batches)", name, b, maxBatches)
		}
		if b := st.QueueBytes.Load(); maxBytes > 0 && b >= maxBytes {
			return fmt.Errorf("sink %s: queue full (%d/%d bytes)", name, b, maxBytes)
		}
		return nil
	}
}
