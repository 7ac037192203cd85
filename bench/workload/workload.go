// Package workload generates the deterministic (seeded) benchmark inputs:
//
//	W1 json    FastAPI-style JSON app logs (~300 B, tracking ids, nested
//	           request/response on half of the records)
//	W2 nginx   nginx combined access logs
//	W3 python  Python logging text, ~2 % ERROR records followed by a 5-15
//	           line traceback
//	W4 docker  FireLens/Docker json-file wrapped JSON app logs
//	   logfmt  Go slog text
package workload

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"time"
)

// Kinds lists the workloads.
var Kinds = []string{"json", "nginx", "python", "docker", "logfmt"}

// Generate writes n records of kind to w. The same seed gives the same bytes.
func Generate(w io.Writer, kind string, n int, seed uint64) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	g := &gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), ts: time.Date(2026, 11, 25, 21, 45, 15, 0, time.UTC)}
	for i := range n {
		var err error
		switch kind {
		case "json":
			err = g.json(bw, i)
		case "nginx":
			err = g.nginx(bw)
		case "python":
			err = g.python(bw)
		case "docker":
			err = g.docker(bw)
		case "logfmt":
			err = g.logfmt(bw)
		default:
			return fmt.Errorf("unknown workload %q (one of %v)", kind, Kinds)
		}
		if err != nil {
			return err
		}
	}
	return bw.Flush()
}

type gen struct {
	r  *rand.Rand
	ts time.Time
}

var (
	paths   = []string{"/api/v1/sessions", "/api/v1/sessions/session_67890", "/api/v1/workflows", "/health", "/api/v1/workflows/workflow_7ba4ba/execute"}
	methods = []string{"GET", "POST", "GET", "GET", "PUT"}
	status  = []int{200, 200, 201, 404, 500}
)

func (g *gen) tick() time.Time {
	g.ts = g.ts.Add(time.Duration(g.r.IntN(5000)) * time.Microsecond)
	return g.ts
}

func (g *gen) uuid() string {
	r := g.r
	return fmt.Sprintf("%08x-%04x-4%03x-%x%03x-%012x", r.Uint32(), r.Uint32()&0xffff, r.Uint32()&0xfff, 8+r.IntN(4), r.Uint32()&0xfff, r.Uint64()&0xffffffffffff)
}

func (g *gen) json(w io.Writer, i int) error {
	ts := g.tick().Format("2006-01-02T15:04:05.000000Z")
	p := g.r.IntN(len(paths))
	if i%2 == 0 {
		st := status[g.r.IntN(len(status))]
		_, err := fmt.Fprintf(w, `{"timestamp":"%s","level":"INFO","service":"api-gateway","tracking_id":"%s","message":"%s %s - %d","request":{"method":"%s","path":"%s","duration":0.%03d},"response":{"status":%d,"size":%d}}`+"\n",
			ts, g.uuid(), methods[p], paths[p], st, methods[p], paths[p], g.r.IntN(1000), st, g.r.IntN(5000))
		return err
	}
	_, err := fmt.Fprintf(w, `{"timestamp":"%s","level":"DEBUG","service":"api-gateway","tracking_id":"%s","message":"auth ok for user_%d","source":{"module":"gateway","function":"create_session","line":%d},"user":{"id":"user_%d","segment":"premium"}}`+"\n",
		ts, g.uuid(), g.r.IntN(99999), g.r.IntN(300), g.r.IntN(99999))
	return err
}

func (g *gen) nginx(w io.Writer) error {
	p := g.r.IntN(len(paths))
	_, err := fmt.Fprintf(w, `10.0.%d.%d - - [%s] "%s %s HTTP/1.1" %d %d "-" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"`+"\n",
		g.r.IntN(255), g.r.IntN(255), g.tick().Format("02/Jan/2006:15:04:05 -0700"), methods[p], paths[p], status[g.r.IntN(len(status))], g.r.IntN(5000))
	return err
}

func (g *gen) python(w io.Writer) error {
	ts := g.tick().Format("2006-01-02 15:04:05,000")
	if g.r.IntN(50) == 0 {
		if _, err := fmt.Fprintf(w, "%s - workflow_engine - ERROR - step failed tracking_id=%s\nTraceback (most recent call last):\n", ts, g.uuid()); err != nil {
			return err
		}
		frames := 2 + g.r.IntN(6)
		for f := range frames {
			if _, err := fmt.Fprintf(w, "  File \"/app/engine.py\", line %d, in step_%d\n    result = run_step(ctx, step_%d)\n", 30+f, f, f); err != nil {
				return err
			}
		}
		_, err := fmt.Fprintf(w, "KeyError: 'model_output'\n")
		return err
	}
	_, err := fmt.Fprintf(w, "%s - workflow_engine - INFO - step %d done for workflow workflow_%06d tracking_id=%s\n", ts, g.r.IntN(9), g.r.IntN(999999), g.uuid())
	return err
}

func (g *gen) docker(w io.Writer) error {
	ts := g.tick()
	_, err := fmt.Fprintf(w, `{"log":"{\"asctime\": \"%s\", \"levelname\": \"INFO\", \"name\": \"workflow_engine\", \"message\": \"step %d done\", \"tracking_id\": \"%s\", \"workflow\": {\"id\": \"workflow_%06d\", \"status\": \"running\"}}\n","stream":"stdout","time":"%s"}`+"\n",
		ts.Format("2006-01-02 15:04:05,000"), g.r.IntN(9), g.uuid(), g.r.IntN(999999), ts.Format(time.RFC3339Nano))
	return err
}

func (g *gen) logfmt(w io.Writer) error {
	_, err := fmt.Fprintf(w, `time=%s level=INFO source=/app/main.go:%d msg="step finished" service=workflow-runner tracking_id=%s workflow_id=workflow_%03d step=%d duration=%dms`+"\n",
		g.tick().Format("2006-01-02T15:04:05.000Z"), g.r.IntN(300), g.uuid(), g.r.IntN(999), g.r.IntN(9), g.r.IntN(50))
	return err
}
