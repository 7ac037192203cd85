package metrics

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"

	"github.com/starmates/logshipd/internal/event"
	"github.com/starmates/logshipd/internal/sink"
)

// scriptedSink refuses its first batch for good, then accepts.
type scriptedSink struct {
	mu    sync.Mutex
	calls int
}

func (s *scriptedSink) Send(context.Context, *event.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.calls == 1 {
		return sink.Permanent(errors.New("too large"))
	}
	return nil
}

func (s *scriptedSink) Close(context.Context) error { return nil }

type workers []*sink.Worker

func (w workers) Workers() []*sink.Worker { return w }

func TestSelfCollectorWorkersAndNormalize(t *testing.T) {
	dl, err := sink.OpenDeadLetter(t.TempDir(), "cw")
	require.NoError(t, err)
	defer dl.Close()
	w := sink.NewWorker("cw", &scriptedSink{}, sink.DefaultQueueConfig(), dl, slog.New(slog.DiscardHandler), nil)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()

	batch := normalizeBatch(t, nginx404, gatewayAI, uvicorn)
	for range 2 {
		b := &event.Batch{Buf: batch.Buf, Items: batch.Items, Ack: event.NewAck(nil)}
		b.Ack.Add(1)
		require.NoError(t, w.Enqueue(ctx, b))
	}
	require.Eventually(t, func() bool { return w.Stats().Sent.Load() == 3 }, 5*time.Second, 5*time.Millisecond)
	w.Close()
	<-done
	cancel()

	c := NewSelfCollector()
	c.AddPipeline(workers{w}, nil)
	c.AddWorkers(w) // listed twice: exposed once
	// Normalizer counters come from a real engine run.
	eng := normalizeStats(t, "a\n  at x\n", nginx404)
	c.AddNormalizeStats(eng)
	c.AddSource("app-logs", "file", SourceFuncs{
		Received:           func() int64 { return 10 },
		Sent:               func() int64 { return 9 },
		Dropped:            func() map[string]int64 { return map[string]int64{"too_long": 1} },
		Errors:             func() map[string]int64 { return map[string]int64{"read": 2, "": 1} },
		BufferBytes:        func() int64 { return 4096 },
		CheckpointLagBytes: func() int64 { return 123 },
	})
	c.AddSource("fwd", "forward", SourceFuncs{Received: func() int64 { return 5 }})
	c.AddSink("cw", SinkFuncs{
		Rejected:    func() map[string]int64 { return map[string]int64{"too_old": 3, "expired": 1} },
		Errors:      func() map[string]int64 { return map[string]int64{"throttling": 2} },
		BufferBytes: func() int64 { return 77 },
	})
	c.AddCounterFunc("logshipd_pipeline_committed_records_total", "Records handed to the sinks.", nil, func() float64 { return 42 })
	c.AddGaugeFunc("logshipd_files_tracked", "Files followed.", prometheus.Labels{"source": "app-logs"}, func() float64 { return 3 })

	f := gather(t, c)
	sinkL := map[string]string{"sink": "cw"}
	require.InDelta(t, 6, sumCounter(f, "logshipd_sink_received_records_total", sinkL), 0)
	require.InDelta(t, 3, sumCounter(f, "logshipd_sink_sent_records_total", sinkL), 0)
	require.InDelta(t, 3, sumCounter(f, "logshipd_sink_dead_lettered_records_total", map[string]string{"sink": "cw", "reason": "refused"}), 0)
	require.InDelta(t, 1, sumCounter(f, "logshipd_sink_errors_total", map[string]string{"sink": "cw", "kind": "permanent"}), 0)
	require.InDelta(t, 2, sumCounter(f, "logshipd_sink_errors_total", map[string]string{"sink": "cw", "kind": "destination_throttling"}), 0)
	require.InDelta(t, 0, sumCounter(f, "logshipd_sink_dropped_records_total", map[string]string{"sink": "cw", "reason": "queue_full"}), 0)
	require.Len(t, f["logshipd_sink_queue_batches"].GetMetric(), 1)
	require.InDelta(t, 0, f["logshipd_sink_queue_bytes"].GetMetric()[0].GetGauge().GetValue(), 0)
	require.InDelta(t, sink.DefaultQueueMaxBytes, gaugeValue(t, f, "logshipd_sink_queue_capacity_bytes", sinkL), 0)
	require.InDelta(t, 256, gaugeValue(t, f, "logshipd_sink_queue_capacity_batches", sinkL), 0)
	require.InDelta(t, 3, sumCounter(f, "logshipd_sink_rejected_events_total", map[string]string{"sink": "cw", "reason": "too_old"}), 0)
	require.InDelta(t, 1, sumCounter(f, "logshipd_sink_rejected_events_total", map[string]string{"sink": "cw", "reason": "expired"}), 0)
	require.InDelta(t, 77, f["logshipd_sink_buffer_bytes"].GetMetric()[0].GetGauge().GetValue(), 0)

	src := map[string]string{"source": "app-logs", "type": "file"}
	require.InDelta(t, 10, sumCounter(f, "logshipd_source_received_records_total", src), 0)
	require.InDelta(t, 5, sumCounter(f, "logshipd_source_received_records_total", map[string]string{"source": "fwd", "type": "forward"}), 0)
	require.InDelta(t, 9, sumCounter(f, "logshipd_source_sent_records_total", src), 0)
	require.InDelta(t, 1, sumCounter(f, "logshipd_source_dropped_records_total", map[string]string{"reason": "too_long"}), 0)
	require.InDelta(t, 2, sumCounter(f, "logshipd_source_errors_total", map[string]string{"kind": "read"}), 0)
	require.InDelta(t, 1, sumCounter(f, "logshipd_source_errors_total", map[string]string{"kind": "unknown"}), 0)
	require.InDelta(t, 4096, f["logshipd_source_buffer_bytes"].GetMetric()[0].GetGauge().GetValue(), 0)
	require.InDelta(t, 123, f["logshipd_source_checkpoint_lag_bytes"].GetMetric()[0].GetGauge().GetValue(), 0)

	require.InDelta(t, 2, f["logshipd_normalize_records_total"].GetMetric()[0].GetCounter().GetValue(), 0)
	require.InDelta(t, 1, sumCounter(f, "logshipd_normalize_format_records_total", map[string]string{"format": "access"}), 0)
	require.Contains(t, f, "logshipd_normalize_multiline_truncations_total")
	require.Contains(t, f, "logshipd_normalize_field_cap_drops_total")
	require.InDelta(t, 42, f["logshipd_pipeline_committed_records_total"].GetMetric()[0].GetCounter().GetValue(), 0)
	require.InDelta(t, 3, f["logshipd_files_tracked"].GetMetric()[0].GetGauge().GetValue(), 0)
}

// The queue capacity gauges carry each worker's configured bounds: the
// memory queue's max_bytes/max_batches, a disk buffer's max_disk_bytes and
// 0 batches (bounded by bytes only). The fill-ratio recording rule in
// monitoring/rules/logshipd.rules.yml divides by them.
func TestSelfCollectorQueueCapacity(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	mem := sink.DefaultQueueConfig()
	mem.MaxBytes, mem.MaxBatches = 8<<20, 32
	wMem := sink.NewWorker("loki", &scriptedSink{}, mem, nil, logger, nil)

	disk := sink.DefaultQueueConfig()
	disk.Buffer, disk.MaxDiskBytes = "disk", 512<<20
	db, err := sink.OpenDiskBuffer(t.TempDir(), disk.MaxDiskBytes, disk.FsyncInterval)
	require.NoError(t, err)
	wDisk := sink.NewWorker("cw", &scriptedSink{}, disk, nil, logger, nil)
	wDisk.UseDiskBuffer(db)
	t.Cleanup(func() { require.NoError(t, wDisk.CloseSink(context.Background())) })

	wDefault := sink.NewWorker("file", &scriptedSink{}, sink.DefaultQueueConfig(), nil, logger, nil)

	c := NewSelfCollector()
	c.AddPipeline(workers{wMem, wDisk}, nil)
	c.AddWorkers(wDefault)
	f := gather(t, c)
	for _, tc := range []struct {
		w              *sink.Worker
		bytes, batches int64
	}{
		{wMem, 8 << 20, 32},
		{wDisk, 512 << 20, 0},
		{wDefault, sink.DefaultQueueMaxBytes, 256},
	} {
		name := tc.w.Name()
		bytes, batches := tc.w.QueueCapacity()
		require.Equal(t, [2]int64{tc.bytes, tc.batches}, [2]int64{bytes, batches}, name)
		l := map[string]string{"sink": name}
		require.InDelta(t, float64(tc.bytes), gaugeValue(t, f, "logshipd_sink_queue_capacity_bytes", l), 0, name)
		require.InDelta(t, float64(tc.batches), gaugeValue(t, f, "logshipd_sink_queue_capacity_batches", l), 0, name)
	}
	require.Len(t, f["logshipd_sink_queue_capacity_bytes"].GetMetric(), 3)
	require.Len(t, f["logshipd_sink_queue_capacity_batches"].GetMetric(), 3)
	require.Equal(t, dto.MetricType_GAUGE, f["logshipd_sink_queue_capacity_bytes"].GetType())
	require.Equal(t, dto.MetricType_GAUGE, f["logshipd_sink_queue_capacity_batches"].GetType())
}

// gaugeValue returns the value of the one gauge of name whose labels
// include want.
func gaugeValue(t testing.TB, fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	t.Helper()
	ms := match(fams, name, want)
	require.Len(t, ms, 1, "%s%v", name, want)
	return ms[0].GetGauge().GetValue()
}

func TestQueueNotFull(t *testing.T) {
	st := &sink.Stats{}
	check := QueueNotFull("cw", st, 2, 1000)
	require.NoError(t, check(t.Context()))
	st.QueueBatches.Store(2)
	require.ErrorContains(t, check(t.Context()), "queue full (2/2 batches)")
	st.QueueBatches.Store(0)
	st.QueueBytes.Store(1000)
	require.ErrorContains(t, check(t.Context()), "bytes")
	require.NoError(t, QueueNotFull("x", st, 0, 0)(t.Context()))
}

func TestServerEndpoints(t *testing.T) {
	s := serverFor(t, NewSelfCollector())
	h := s.Handler()
	get := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec.Code, rec.Body.String()
	}
	code, body := get("/healthz")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "ok\n", body)
	code, _ = get("/readyz")
	require.Equal(t, http.StatusOK, code, "no checks: ready")

	var failing sync.Mutex
	fail := true
	s.AddReadiness("sink cw reachable", func(context.Context) error {
		failing.Lock()
		defer failing.Unlock()
		if fail {
			return errors.New("connection refused")
		}
		return nil
	})
	s.AddReadiness("buffers", QueueNotFull("cw", &sink.Stats{}, 1, 0))
	code, body = get("/readyz")
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Contains(t, body, "sink cw reachable: connection refused")
	require.NotContains(t, body, "buffers")
	failing.Lock()
	fail = false
	failing.Unlock()
	code, body = get("/readyz")
	require.Equal(t, http.StatusOK, code, body)

	s.AddReadiness("panics", func(context.Context) error { panic("boom") })
	code, body = get("/readyz")
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Contains(t, body, "panics: check panicked: boom")

	// Go and process collectors are on the server's own registry.
	_, text := scrape(t, h, false)
	require.Contains(t, text, "go_goroutines")
	require.Contains(t, text, "process_start_time_seconds")
}

func TestServerReadyTimeout(t *testing.T) {
	t.Parallel()
	s := serverFor(t)
	s.AddReadiness("slow", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
	rec := httptest.NewRecorder()
	start := time.Now()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	require.Less(t, time.Since(start), ReadyTimeout+time.Second)
}

func TestServerRunAndGatherers(t *testing.T) {
	s := serverFor(t)
	extra := prometheus.NewRegistry()
	extra.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "promtail_sent_entries_total", Help: "x"}, func() float64 { return 5 }))
	s.AddGatherer(extra)
	require.NoError(t, s.Listen())
	addr := s.Addr()
	require.NotEmpty(t, addr)
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- s.Run(ctx) }()
	resp, err := http.Get("http://" + addr + "/metrics")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Contains(t, string(body), "promtail_sent_entries_total 5")
	cancel()
	require.NoError(t, <-errc)

	// A taken address is an error from Run.
	cfg := DefaultConfig()
	cfg.Listen = addr
	busy := NewServer(cfg, nil)
	ln := mustListen(t, addr)
	defer ln.Close()
	require.ErrorContains(t, busy.Run(t.Context()), "metrics listener")
}
