package metrics_test

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/starmates/logshipd/internal/metrics"
	"github.com/starmates/logshipd/internal/normalize"
	"github.com/starmates/logshipd/internal/pipeline"
	"github.com/starmates/logshipd/internal/sink"
)

// *pipeline.Pipeline is what SelfCollector.AddPipeline takes, and the
// Deriver is a sink.Sink.
var (
	_ metrics.Pipeline     = (*pipeline.Pipeline)(nil)
	_ sink.Sink            = (*metrics.Deriver)(nil)
	_ prometheus.Collector = (*metrics.Deriver)(nil)
	_ prometheus.Collector = (*metrics.SelfCollector)(nil)
)

func TestSelfCollectorWithPipeline(t *testing.T) {
	d, err := metrics.NewDeriver(metrics.DefaultConfig(), nil)
	require.NoError(t, err)
	p, err := pipeline.New(slog.New(slog.DiscardHandler), t.TempDir(), time.Second,
		[]pipeline.SourceSpec{{Name: "stdin", Normalize: normalize.DefaultConfig()}},
		[]pipeline.SinkSpec{{Name: "metrics", Sink: d, Queue: sink.DefaultQueueConfig()}})
	require.NoError(t, err)
	c := metrics.NewSelfCollector()
	c.AddPipeline(p, &p.NormStats)
	want := `
# HELP logshipd_sink_received_records_total Records enqueued for the sink.
# TYPE logshipd_sink_received_records_total counter
logshipd_sink_received_records_total{sink="metrics"} 0
# HELP logshipd_normalize_records_total Canonical records emitted by the normalizer.
# TYPE logshipd_normalize_records_total counter
logshipd_normalize_records_total 0
`
	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(want),
		"logshipd_sink_received_records_total", "logshipd_normalize_records_total"))
}
