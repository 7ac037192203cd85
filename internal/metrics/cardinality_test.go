package metrics

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/starmates/logshipd/internal/event"
)

// letters encodes n as a letters-only word, so that the automatic id
// detection keeps it: every path below is a distinct endpoint.
func letters(n int) string {
	var b []byte
	for {
		b = append(b, byte('a'+n%26))
		n /= 26
		if n == 0 {
			return string(b)
		}
	}
}

// TestCardinality100k feeds 100,000 distinct paths and user ids: every
// derived metric stays within its bound and the overflow is counted.
func TestCardinality100k(t *testing.T) {
	t.Parallel()
	const n = 100_000
	d := newTestDeriver(t, nil)
	meta := event.Item{Service: "api-gateway", Environment: "prod", Project: "starmates-ai-team",
		TrackingID: "4afd0fa1-83c5-463f-b652-33eb297dbe8c", HasTrace: true, TraceID: [16]byte{0x46, 0x0c}}
	var b *event.Batch
	for i := range n {
		if i%1000 == 0 {
			if b != nil {
				require.NoError(t, d.Send(t.Context(), b))
			}
			b = &event.Batch{}
		}
		path := "/api/v1/" + letters(i) + "/items/" + fmt.Sprint(i) // distinct route + an id segment
		appendJSON(b, meta, fmt.Sprintf(`{"request":{"method":"GET","path":%q,"duration":0.%03d},"response":{"status":%d},"user":{"id":"user_%d","segment":"free"},"session":{"id":"session_%d"},"attrs":{"model":"m-%d","provider":"p","tokens":3,"api_key_id":"key-%d","client_name":"client-%d"}}`,
			path, i%1000, []int{200, 201, 404, 500, 503}[i%5], i, i, i%5000, i, i%3000))
	}
	require.NoError(t, d.Send(t.Context(), b))

	f := gather(t, d)
	totalSeries := 0
	for _, fam := range d.fams {
		mf := f[fam.name]
		if fam.name == MetricAICost || fam.name == MetricWorkflowRuns {
			require.Nil(t, mf, fam.name)
			continue
		}
		require.NotNil(t, mf, fam.name)
		series := len(mf.GetMetric()) * fam.seriesPerSet()
		require.LessOrEqual(t, series, DefaultMaxSeriesPerMetric+(fam.maxOverflow+1)*fam.seriesPerSet(), fam.name)
		require.LessOrEqual(t, len(mf.GetMetric()), fam.maxSeries+fam.maxOverflow+1, fam.name)
		got := match(f, "logshipd_metrics_series", map[string]string{"metric": fam.name})
		require.InDelta(t, float64(series), got[0].GetGauge().GetValue(), 0, fam.name)
		totalSeries += series
		t.Logf("%s: %d label sets, %d series", fam.name, len(mf.GetMetric()), series)
	}
	t.Logf("derived series in all: %d", totalSeries)
	require.Len(t, f[MetricRequestDuration].GetMetric(), DefaultMaxSeriesPerMetric/14+1)
	// Distinct paths are folded once the cap is reached; no sample is lost.
	require.Len(t, f[MetricHTTPRequests].GetMetric(), DefaultMaxSeriesPerMetric+1)
	require.InDelta(t, n, sumCounter(f, MetricHTTPRequests, nil), 0)
	other := match(f, MetricHTTPRequests, map[string]string{"endpoint": "other", "service": "api-gateway"})
	require.Len(t, other, 1)
	require.Greater(t, other[0].GetCounter().GetValue(), float64(n/2))
	for _, name := range []string{MetricHTTPRequests, MetricRequestDuration, MetricEndpointUsage, MetricAIRequests} {
		require.Greater(t, sumCounter(f, "logshipd_metrics_series_overflow_total", map[string]string{"metric": name}), 0.0, name)
	}
	// User and session ids never reach a label: user_activity has one series.
	require.Len(t, f[MetricUserActivity].GetMetric(), 1)
	require.InDelta(t, n, sumCounter(f, MetricUserActivity, nil), 0)
	// The raw api key ids are not on the allow-list: one label value.
	for _, m := range f[MetricAPIKeyUsage].GetMetric() {
		require.Contains(t, []string{"unlisted", "other"}, labelValues(m)["api_key_id"])
	}
	// The id segment was normalized in every kept endpoint.
	for _, m := range f[MetricHTTPRequests].GetMetric() {
		ep := labelValues(m)["endpoint"]
		require.True(t, ep == "other" || strings.HasSuffix(ep, "/items/{id}"), ep)
	}

	// The exposition stays bounded too.
	s := serverFor(t, d)
	_, body := scrape(t, s.Handler(), true)
	series := 0
	for _, l := range strings.Split(body, "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			series++
		}
	}
	t.Logf("exposition: %d sample lines, %d bytes", series, len(body))
	require.Less(t, series, totalSeries+1000)
}

func BenchmarkDeriverSend(b *testing.B) {
	d := newTestDeriver(b, nil)
	batch := normalizeBatch(b, gatewayAI, nginx404, json500, wfStart, genAI, uvicorn)
	b.SetBytes(int64(len(batch.Buf)))
	b.ReportAllocs()
	for b.Loop() {
		_ = d.Send(b.Context(), batch)
	}
}
