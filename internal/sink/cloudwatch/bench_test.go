package cloudwatch_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/starmates/logshipd/internal/event"
	"github.com/starmates/logshipd/internal/sink/cloudwatch"
	"github.com/starmates/logshipd/internal/sink/cloudwatch/cwdouble"
)

// BenchmarkSendToDouble measures Send through the real SDK against the
// double on loopback (events kept as counts only), with records shaped
// like canonical ones. It reports events/s and the fill ratio (mean batch
// bytes per PutLogEvents call / 1,048,576).
//
//	go test ./internal/sink/cloudwatch -run '^$' -bench SendToDouble -benchmem -count 6 | tee new.txt
//	benchstat old.txt new.txt
func BenchmarkSendToDouble(b *testing.B) {
	for _, tc := range []struct {
		name    string
		records int
		size    int
		streams int
	}{
		{"10k-records-400B-1stream", 10_000, 400, 1},
		{"10k-records-400B-4streams", 10_000, 400, 4},
		{"2k-records-4KiB-1stream", 2_000, 4096, 1},
	} {
		b.Run(tc.name, func(b *testing.B) {
			d := cwdouble.New(cwdouble.Options{DiscardEvents: true})
			srv := newLoopback(b, d)
			cfg := cloudwatch.DefaultConfig()
			cfg.Region, cfg.Endpoint = "us-east-1", srv
			stats := &cloudwatch.Stats{}
			s, err := cloudwatch.New(context.Background(), cfg, nil, stats, staticCreds)
			require.NoError(b, err)
			defer s.Close(context.Background())
			now := time.Now().Add(-time.Minute)
			batch := &event.Batch{}
			bytes := 0
			for i := range tc.records {
				js := fmt.Sprintf(`{"timestamp":"%s","@timestamp":"%s","level":"INFO","service":"api","environment":"prod","project":"p","tracking_id":"8c4a6c44-8a1a-4b6e-9c63-4f7c1a2b3c4d","message":"request %d done","origin":{"kind":"file","file":"/var/log/app.log","format":"json"},"pad":"`,
					now.Format(time.RFC3339Nano), now.Format(time.RFC3339Nano), i)
				js += strings.Repeat("x", max(0, tc.size-len(js)-2)) + `"}`
				bytes += len(js)
				r := &event.Record{JSON: []byte(js), Time: now.Add(time.Duration(i) * time.Millisecond), Service: "api", Environment: "prod", Project: "p", Level: event.LevelInfo}
				batch.Append(r, fmt.Sprintf("src%d", i%tc.streams), "")
			}
			// Create the groups and streams once, outside the timing.
			require.NoError(b, s.Send(context.Background(), batch))
			base := d.EventCount()
			b.SetBytes(int64(bytes))
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for b.Loop() {
				if err := s.Send(context.Background(), batch); err != nil {
					b.Fatal(err)
				}
			}
			el := time.Since(start)
			sent := d.EventCount() - base
			b.ReportMetric(float64(sent)/el.Seconds(), "events/s")
			b.ReportMetric(stats.FillRatio(), "fill")
			b.ReportMetric(stats.EventsPerPut(), "events/put")
		})
	}
}

func newLoopback(b *testing.B, d *cwdouble.Server) string {
	_, url := newDoubleWith(b, d)
	return url
}
