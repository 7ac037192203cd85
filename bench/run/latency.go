package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"time"
)

// latencyResult is the end-to-end latency test: a writer appends lines to
// a file at a fixed rate, the daemon tails it into a file sink, and a
// reader polling the sink every millisecond notes when each line arrives.
type latencyResult struct {
	Rate     int           `json:"rate_lines_per_s"`
	Duration time.Duration `json:"duration_ns"`
	Warmup   int           `json:"warmup_lines"`
	Sent     int           `json:"sent"` // measured lines (after warm-up)
	Received int           `json:"received"`
	Missing  int           `json:"missing"`
	P50      time.Duration `json:"p50_ns"`
	P90      time.Duration `json:"p90_ns"`
	P99      time.Duration `json:"p99_ns"`
	P999     time.Duration `json:"p999_ns"`
	Max      time.Duration `json:"max_ns"`
	// Daemon usage over its whole life (start, warm-up, test, shutdown).
	DaemonWall time.Duration `json:"daemon_wall_ns"`
	DaemonCPU  time.Duration `json:"daemon_cpu_ns"`
	MaxRSS     int64         `json:"max_rss_bytes"`
	Background float64       `json:"background_cores"`
	Config     string        `json:"config"`
}

func (b *bench) latency(ctx context.Context) (latencyResult, error) {
	r := latencyResult{Rate: b.opt.latRate, Duration: b.opt.latDur}
	dir := filepath.Join(b.opt.tmp, "latency")
	if err := os.RemoveAll(dir); err != nil {
		return r, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return r, err
	}
	defer os.RemoveAll(dir)
	in := filepath.Join(dir, "app.log")
	out := filepath.Join(dir, "out.jsonl")
	cfg := filepath.Join(dir, "logshipd.yaml")
	wf, err := os.OpenFile(in, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return r, err
	}
	defer wf.Close()
	r.Config = runConfig(filepath.Join(dir, "data"), in, out)
	if err := os.WriteFile(cfg, []byte(r.Config), 0o644); err != nil {
		return r, err
	}
	d, err := startDaemon(b.bin, cfg, filepath.Join(dir, "stderr.log"))
	if err != nil {
		return r, err
	}
	defer d.kill()

	interval := time.Second / time.Duration(r.Rate)
	r.Warmup = r.Rate // one second
	total := r.Warmup + int(int64(r.Duration)/int64(interval))
	sent := make([]int64, total)
	recv := make([]atomic.Int64, total)
	gen := rand.New(rand.NewPCG(42, 42))
	line := func(seq int, now time.Time) []byte {
		return fmt.Appendf(nil, `{"timestamp":"%s","level":"INFO","service":"api-gateway","tracking_id":"%08x-%04x-4%03x-a%03x-%012x","message":"latency probe seq=%d","request":{"method":"GET","path":"/api/v1/sessions","duration":0.012},"response":{"status":200,"size":512}}`+"\n",
			now.UTC().Format("2006-01-02T15:04:05.000000Z"), gen.Uint32(), gen.Uint32()&0xffff, gen.Uint32()&0xfff, gen.Uint32()&0xfff, gen.Uint64()&0xffffffffffff, seq)
	}

	// Readiness: one line must make it through before the clock starts.
	if _, err := wf.Write([]byte(`{"level":"INFO","message":"latency test ready probe"}` + "\n")); err != nil {
		return r, err
	}
	lc := &lineCounter{path: out}
	defer lc.close()
	ready := time.Now().Add(30 * time.Second)
	for {
		if err := d.alive(); err != nil {
			return r, err
		}
		n, err := lc.poll()
		if err != nil {
			return r, err
		}
		if n >= 1 {
			break
		}
		if time.Now().After(ready) {
			return r, errors.New("latency: the daemon did not deliver the ready probe within 30 s")
		}
		time.Sleep(5 * time.Millisecond)
	}

	// Reader: poll the sink every millisecond from where the probe ended.
	rctx, stopReader := context.WithCancel(ctx)
	defer stopReader()
	var got atomic.Int64
	rerr := make(chan error, 1)
	go func() { rerr <- readSeqs(rctx, out, lc.size(), recv, &got) }()

	// Writer: each line is its own write(2), as an application logs.
	start := time.Now()
	checked := start
	for i := 0; i < total; {
		if err := ctx.Err(); err != nil {
			return r, err
		}
		due := int(time.Since(start)/interval) + 1
		for ; i < min(due, total); i++ {
			now := time.Now()
			sent[i] = now.UnixNano()
			if _, err := wf.Write(line(i, now)); err != nil {
				return r, err
			}
		}
		if time.Since(checked) > time.Second {
			checked = time.Now()
			if err := d.alive(); err != nil {
				return r, err
			}
		}
		time.Sleep(time.Until(start.Add(time.Duration(i) * interval)))
	}
	wait := time.Now().Add(30 * time.Second)
	for got.Load() < int64(total) && time.Now().Before(wait) {
		if err := d.alive(); err != nil {
			return r, err
		}
		time.Sleep(10 * time.Millisecond)
	}
	stopReader()
	if err := <-rerr; err != nil && !errors.Is(err, context.Canceled) {
		return r, err
	}
	if err := d.stop(40 * time.Second); err != nil {
		return r, err
	}
	var s sample
	usage(d.cmd.ProcessState, &s)
	d.meter.background(&s)
	r.DaemonWall = time.Since(d.t0)
	r.DaemonCPU, r.MaxRSS, r.Background = s.cpu(), s.MaxRSS, s.Background

	var lat []time.Duration
	for i := r.Warmup; i < total; i++ {
		r.Sent++
		if t := recv[i].Load(); t != 0 {
			lat = append(lat, time.Duration(t-sent[i]))
		} else {
			r.Missing++
		}
	}
	r.Received = len(lat)
	slices.Sort(lat)
	r.P50, r.P90, r.P99, r.P999 = percentile(lat, 50), percentile(lat, 90), percentile(lat, 99), percentile(lat, 99.9)
	if len(lat) > 0 {
		r.Max = lat[len(lat)-1]
	}
	return r, nil
}

// readSeqs tails path from offset, noting when each "seq=N" first appears.
func readSeqs(ctx context.Context, path string, offset int64, recv []atomic.Int64, got *atomic.Int64) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return err
	}
	buf := make([]byte, 1<<20)
	var carry []byte
	key := []byte("seq=")
	for {
		n, err := f.Read(buf)
		if n > 0 {
			now := time.Now().UnixNano()
			data := append(carry, buf[:n]...)
			for {
				nl := bytes.IndexByte(data, '\n')
				if nl < 0 {
					break
				}
				l := data[:nl]
				data = data[nl+1:]
				k := bytes.Index(l, key)
				if k < 0 {
					continue
				}
				seq, j := 0, k+len(key)
				for ; j < len(l) && l[j] >= '0' && l[j] <= '9'; j++ {
					seq = seq*10 + int(l[j]-'0')
				}
				if j > k+len(key) && seq < len(recv) && recv[seq].CompareAndSwap(0, now) {
					got.Add(1)
				}
			}
			carry = append(carry[:0], data...)
		}
		if err != nil && err != io.EOF {
			return err
		}
		if n < len(buf) {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Millisecond):
			}
		}
	}
}
