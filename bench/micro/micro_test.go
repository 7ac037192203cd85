package micro

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/starmates/logshipd/bench/workload"
	"github.com/starmates/logshipd/internal/event"
	"github.com/starmates/logshipd/internal/normalize"
)

// workloads: id, kind, the fixed format ("" = auto only).
var workloads = []struct{ id, kind, format string }{
	{"W1", "json", "json"},
	{"W2", "nginx", "access"},
	{"W3", "python2", "python"},
	{"W4", "firelens", ""},
}

func input(b *testing.B, kind string, n int) []byte {
	var buf bytes.Buffer
	if err := workload.GenerateAny(&buf, kind, n, 1); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

func BenchmarkStream(b *testing.B) {
	for _, w := range workloads {
		data := input(b, w.kind, 20000)
		lines := bytes.SplitAfter(data, []byte("\n"))
		if len(lines[len(lines)-1]) == 0 {
			lines = lines[:len(lines)-1]
		}
		for i, l := range lines {
			lines[i] = bytes.TrimSuffix(l, []byte("\n"))
		}
		formats := []string{"auto"}
		if w.format != "" {
			formats = append(formats, w.format)
		}
		for _, f := range formats {
			name := "auto"
			if f != "auto" {
				name = "fixed-" + f
			}
			b.Run(w.id+"-"+w.kind+"/"+name, func(b *testing.B) {
				cfg := normalize.DefaultConfig()
				cfg.Format = f
				eng, err := normalize.New(cfg, nil)
				if err != nil {
					b.Fatal(err)
				}
				var recs int64
				st := eng.NewStream(normalize.Origin{Kind: "file", Path: "/var/log/app.log"}, func(*event.Record) { recs++ })
				now := time.Now()
				b.SetBytes(int64(len(data) / len(lines)))
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					st.Write(lines[i], now)
					if i++; i == len(lines) {
						i = 0
					}
				}
				st.Flush(now)
				b.ReportMetric(float64(recs)/b.Elapsed().Seconds(), "records/s")
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(max(recs, 1)), "ns/record")
			})
		}
	}
}

func BenchmarkParallel(b *testing.B) {
	for _, w := range workloads {
		const n = 20000
		data := input(b, w.kind, n)
		b.Run(w.id+"-"+w.kind, func(b *testing.B) {
			eng, err := normalize.New(normalize.DefaultConfig(), nil)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if err := eng.RunParallel(context.Background(), bytes.NewReader(data), io.Discard, normalize.Origin{Kind: "stdin"}, normalize.ParallelConfig{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)*n/b.Elapsed().Seconds(), "records/s")
		})
	}
}
