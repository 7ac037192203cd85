package normalize

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

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
	r := rand.New(rand.NewPCG(1, 2))
	paths := []string{"/api/v1/sessions", "/api/v1/sessions/session_67890", "/api/v1/workflows", "/health", "/api/v1/workflows/workflow_7ba4ba/execute"}
	methods := []string{"GET", "POST", "GET", "GET", "PUT"}
	uuid := func() string {
		return fmt.Sprintf("%08x-%04x-4%03x-%x%03x-%012x", r.Uint32(), r.Uint32()&0xffff, r.Uint32()&0xfff, 8+r.IntN(4), r.Uint32()&0xfff, r.Uint64()&0xffffffffffff)
	}
	out := make([][]byte, 0, n)
	ts := time.Date(2026, 11, 25, 21, 45, 15, 0, time.UTC)
	for i := range n {
		ts = ts.Add(time.Duration(r.IntN(5000)) * time.Microsecond)
		p := r.IntN(len(paths))
		var line string
		switch kind {
		case "json":
			if i%2 == 0 {
				line = fmt.Sprintf(`{"timestamp":"%s","level":"INFO","service":"api-gateway","tracking_id":"%s","message":"%s %s - 200","request":{"method":"%s","path":"%s","duration":0.%03d},"response":{"status":200,"size":%d}}`,
					ts.Format("2006-01-02T15:04:05.000000Z"), uuid(), methods[p], paths[p], methods[p], paths[p], r.IntN(1000), r.IntN(5000))
			} else {
				line = fmt.Sprintf(`{"timestamp":"%s","level":"DEBUG","service":"api-gateway","tracking_id":"%s","message":"auth ok for user_%d","source":{"module":"gateway","function":"create_session","line":%d},"user":{"id":"user_%d","segment":"premium"}}`,
					ts.Format("2006-01-02T15:04:05.000000Z"), uuid(), r.IntN(99999), r.IntN(300), r.IntN(99999))
			}
		case "nginx":
			line = fmt.Sprintf(`10.0.%d.%d - - [%s] "%s %s HTTP/1.1" %d %d "-" "python-httpx/0.23.3"`,
				r.IntN(255), r.IntN(255), ts.Format("02/Jan/2006:15:04:05 -0700"), methods[p], paths[p], []int{200, 200, 201, 404, 500}[r.IntN(5)], r.IntN(5000))
		case "logfmt":
			line = fmt.Sprintf(`time=%s level=INFO source=/app/main.go:%d msg="step finished" service=workflow-runner tracking_id=%s workflow_id=workflow_%03d step=%d duration=%dms`,
				ts.Format("2006-01-02T15:04:05.000Z"), r.IntN(300), uuid(), r.IntN(999), r.IntN(9), r.IntN(50))
		case "python":
			line = fmt.Sprintf("%s - workflow_engine - INFO - step %d done tracking_id=%s", ts.Format("2006-01-02 15:04:05,000"), r.IntN(9), uuid())
			if i%50 == 0 {
				line = fmt.Sprintf("%s - workflow_engine - ERROR - step failed\nTraceback (most recent call last):\n  File \"/app/engine.py\", line 33, in execute\n    raise KeyError(\"model_output\")\nKeyError: 'model_output'", ts.Format("2006-01-02 15:04:05,000"))
			}
		case "docker":
			inner := fmt.Sprintf(`{\"asctime\": \"%s\", \"levelname\": \"INFO\", \"name\": \"workflow_engine\", \"message\": \"step %d done\", \"tracking_id\": \"%s\"}\n`, ts.Format("2006-01-02 15:04:05,000"), r.IntN(9), uuid())
			line = fmt.Sprintf(`{"log":"%s","stream":"stdout","time":"%s"}`, inner, ts.Format(time.RFC3339Nano))
		}
		for _, l := range bytes.Split([]byte(line), []byte("\n")) {
			out = append(out, l)
		}
	}
	return out
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
