package normalize

import (
	"bytes"
	"testing"
	"time"

	"github.com/starmates/logshipd/bench/workload"
	"github.com/starmates/logshipd/internal/event"
)

// Benchmarks of parse + normalize + encode per format, one core:
//
//	go test ./internal/normalize/ -run '^$' -bench . -benchmem -count 6 | tee new.txt
//	benchstat old.txt new.txt
//
// Inputs are generated deterministically (seeded) to look like the
// FastAPI services' logs; each benchmark reports records/s.

func genLines(kind string, n int) [][]byte {
	var buf bytes.Buffer
	if err := workload.Generate(&buf, kind, n, 1); err != nil {
		panic(err)
	}
	return bytes.Split(bytes.TrimSuffix(buf.Bytes(), []byte("\n")), []byte("\n"))
}

func benchFormat(b *testing.B, kind string) {
	lines := genLines(kind, 10000)
	var size int64
	for _, l := range lines {
		size += int64(len(l)) + 1
	}
	eng, err := New(DefaultConfig(), nil)
	if err != nil {
		b.Fatal(err)
	}
	var recs int64
	var sink int
	st := eng.NewStream(Origin{Kind: "file", Path: "/var/log/app.log"}, func(r *event.Record) {
		recs++
		sink += len(r.JSON)
	})
	now := time.Now()
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		for _, l := range lines {
			st.Write(l, now)
		}
	}
	st.Flush(now)
	b.ReportMetric(float64(recs)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(max(recs, 1)), "ns/record")
}

func BenchmarkNormalizeJSON(b *testing.B)   { benchFormat(b, "json") }
func BenchmarkNormalizeNginx(b *testing.B)  { benchFormat(b, "nginx") }
func BenchmarkNormalizeLogfmt(b *testing.B) { benchFormat(b, "logfmt") }
func BenchmarkNormalizePython(b *testing.B) { benchFormat(b, "python") }
func BenchmarkNormalizeDocker(b *testing.B) { benchFormat(b, "docker") }

// TestAllocBudget guards the hot path: a JSON and an nginx record must
// normalize without per-record heap allocations.
func TestAllocBudget(t *testing.T) {
	for _, kind := range []string{"json", "nginx"} {
		lines := genLines(kind, 200)
		eng, _ := New(DefaultConfig(), nil)
		st := eng.NewStream(Origin{Kind: "file"}, func(*event.Record) {})
		now := time.Now()
		for _, l := range lines {
			st.Write(l, now) // warm up buffers
		}
		i := 0
		allocs := testing.AllocsPerRun(1000, func() {
			st.Write(lines[i%len(lines)], now)
			i++
		})
		if allocs > 0.5 {
			t.Errorf("%s: %.2f allocs per record, want 0", kind, allocs)
		}
	}
}
