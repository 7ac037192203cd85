package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// Shapes measured per workload, in this order.
const (
	shapeCat       = "cat"
	shapeCopy      = "copy"
	shapeNormalize = "normalize"
	shapeRun       = "run"
	shapeOutage    = "outage"
)

var shapes = []string{shapeCat, shapeCopy, shapeNormalize, shapeRun, shapeOutage}

var shapeTitle = map[string]string{
	shapeCat:       "floor: `cat file > /dev/null`",
	shapeCopy:      "floor: `cat file > tmpfs file`",
	shapeNormalize: "`logshipd normalize < file > /dev/null`",
	shapeRun:       "`logshipd run`: file source → file sink (all written + acked)",
	shapeOutage:    "`logshipd run`: file source → Loki sink that is down, disk buffer (all acked into the buffer)",
}

// workloadFile is a generated input.
type workloadFile struct {
	ID      string `json:"id"`   // w1..w4, or the kind
	Kind    string `json:"kind"` // bench/workload kind
	Path    string `json:"path"`
	N       int    `json:"n"` // records asked of the generator
	Bytes   int64  `json:"bytes"`
	Lines   int64  `json:"lines"`
	Records int64  `json:"records"` // records logshipd produces (normalize | wc -l)
}

func (w *workloadFile) measure(ctx context.Context, b *bench, shape string, run int) (sample, error) {
	var s sample
	var err error
	switch shape {
	case shapeCat:
		s, err = runTimed(ctx, b.opt.timeout, "", os.DevNull, "cat", w.Path)
	case shapeCopy:
		dst := filepath.Join(b.opt.tmp, "copy.out")
		s, err = runTimed(ctx, b.opt.timeout, "", dst, "cat", w.Path)
		os.Remove(dst)
	case shapeNormalize:
		s, err = runTimed(ctx, b.opt.timeout, w.Path, os.DevNull, b.bin, "normalize")
	case shapeRun:
		s, err = w.runDaemon(ctx, b, run, false)
	case shapeOutage:
		s, err = w.runDaemon(ctx, b, run, true)
	default:
		err = fmt.Errorf("unknown shape %q", shape)
	}
	s.Records, s.Bytes = w.Records, w.Bytes
	return s, err
}

// sourceConfig is what the daemon shapes share: a file source read from
// the beginning; the metrics listener (and with it the derived request
// metrics) is off; every other key has its default.
func sourceConfig(title, dataDir, input string) string {
	return fmt.Sprintf(`# bench/run: %s; every other key has its default.
data_dir: %s
metrics:
  listen: ""
sources:
  - name: bench
    type: file
    include: [%q]
    start_at: beginning
`, title, dataDir, input)
}

// runConfig is the config of the run shape: the file source and a file
// sink.
func runConfig(dataDir, input, output string) string {
	return sourceConfig("file source -> file sink", dataDir, input) + fmt.Sprintf(`sinks:
  - name: out
    type: file
    path: %s
`, output)
}

// outageConfig is the config of the outage shape: the file source, and one
// Loki sink whose destination refuses connections (a closed loopback
// port), buffered on disk. Every batch is acknowledged once it is in the
// disk buffer, so the file is read to its end while the sink is down; the
// measurement is what memory and CPU that costs.
func outageConfig(dataDir, input string) string {
	return sourceConfig("file source -> Loki sink that is down, disk buffer", dataDir, input) + `sinks:
  - name: down
    type: loki
    url: http://127.0.0.1:9/loki/api/v1/push
    queue:
      buffer: disk
      max_disk_bytes: 17179869184
`
}

// daemon is a started `logshipd run`.
type daemon struct {
	cmd     *exec.Cmd
	done    chan error
	stderr  string
	t0      time.Time
	meter   meter
	exited  bool
	waitErr error
}

func startDaemon(bin, cfg, stderrPath string) (*daemon, error) {
	ef, err := os.Create(stderrPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "run", "-c", cfg)
	cmd.Stderr = ef
	d := &daemon{cmd: cmd, done: make(chan error, 1), stderr: stderrPath, meter: startMeter()}
	d.t0 = time.Now()
	if err := cmd.Start(); err != nil {
		ef.Close()
		return nil, fmt.Errorf("logshipd run: %w", err)
	}
	track(cmd.Process)
	go func() {
		err := cmd.Wait()
		ef.Close()
		untrack(cmd.Process)
		d.done <- err
	}()
	return d, nil
}

// alive reports an early exit as an error.
func (d *daemon) alive() error {
	if d.exited {
		return d.exitError()
	}
	select {
	case err := <-d.done:
		d.exited, d.waitErr = true, err
		return d.exitError()
	default:
		return nil
	}
}

func (d *daemon) exitError() error {
	b, _ := os.ReadFile(d.stderr)
	return fmt.Errorf("logshipd run exited early (%v); stderr:\n%s", d.waitErr, tail(b, 3000))
}

// stop sends SIGTERM, waits up to grace, then kills. It returns the exit
// error of a process that did not stop cleanly.
func (d *daemon) stop(grace time.Duration) error {
	if d.exited {
		return d.waitErr
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-d.done:
		d.exited, d.waitErr = true, err
	case <-time.After(grace):
		_ = d.cmd.Process.Kill()
		d.waitErr = fmt.Errorf("did not stop within %s after SIGTERM; killed", grace)
		<-d.done
		d.exited = true
	}
	if d.waitErr != nil {
		b, _ := os.ReadFile(d.stderr)
		return fmt.Errorf("logshipd run: %w; stderr:\n%s", d.waitErr, tail(b, 3000))
	}
	return nil
}

// kill ends the daemon if it still runs (error paths).
func (d *daemon) kill() {
	if !d.exited {
		_ = d.cmd.Process.Kill()
		<-d.done
		d.exited = true
	}
}

// runDaemon measures the run shape: start the daemon on a fresh data
// directory, wait until the sink holds every record and the checkpoint
// shows the whole file acknowledged, then SIGTERM it. Wall time is the
// time of the last acknowledgement (the checkpoint entry's "updated").
// With outage the sink is down (outageConfig): only the checkpoint is
// waited for.
func (w *workloadFile) runDaemon(ctx context.Context, b *bench, run int, outage bool) (sample, error) {
	var s sample
	dir := filepath.Join(b.opt.tmp, fmt.Sprintf("run-%s-%d", w.ID, run))
	if err := os.RemoveAll(dir); err != nil {
		return s, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return s, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "out.jsonl")
	cfg := filepath.Join(dir, "logshipd.yaml")
	dataDir := filepath.Join(dir, "data")
	conf := runConfig(dataDir, w.Path, out)
	if outage {
		conf = outageConfig(dataDir, w.Path)
	}
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		return s, err
	}
	d, err := startDaemon(b.bin, cfg, filepath.Join(dir, "stderr.log"))
	if err != nil {
		return s, err
	}
	defer d.kill()
	deadline := d.t0.Add(b.opt.timeout)
	lc := &lineCounter{path: out}
	defer lc.close()
	for !outage {
		if err := ctx.Err(); err != nil {
			return s, err
		}
		if err := d.alive(); err != nil {
			return s, err
		}
		n, err := lc.poll()
		if err != nil {
			return s, err
		}
		el := time.Since(d.t0)
		if n >= w.Records-1 && s.AllButOne == 0 {
			s.AllButOne = el
		}
		if n >= w.Records {
			s.Written = el
			break
		}
		if time.Now().After(deadline) {
			return s, fmt.Errorf("run %s: %d of %d records in the sink after %s (raise -timeout)", w.ID, n, w.Records, b.opt.timeout)
		}
		time.Sleep(2 * time.Millisecond)
	}
	for {
		if err := ctx.Err(); err != nil {
			return s, err
		}
		if err := d.alive(); err != nil {
			return s, err
		}
		off, upd, err := checkpointOf(dataDir, "bench", w.Path)
		if err != nil {
			return s, err
		}
		if off == w.Bytes {
			s.Wall = upd.Sub(d.t0)
			if s.Wall <= 0 || s.Wall > time.Since(d.t0) {
				// Clock oddity: fall back to when the runner saw it.
				s.Wall = time.Since(d.t0)
			}
			break
		}
		if off > w.Bytes {
			return s, fmt.Errorf("run %s: checkpoint offset %d beyond the file size %d", w.ID, off, w.Bytes)
		}
		if time.Now().After(deadline) {
			return s, fmt.Errorf("run %s: all records written but checkpoint at %d of %d bytes after %s", w.ID, off, w.Bytes, b.opt.timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := d.stop(40 * time.Second); err != nil {
		return s, err
	}
	usage(d.cmd.ProcessState, &s)
	d.meter.background(&s)
	if outage {
		return s, nil
	}
	n, err := lc.poll()
	if err != nil {
		return s, err
	}
	if n != w.Records {
		return s, fmt.Errorf("run %s: the sink holds %d lines after shutdown, want %d (duplicates?)", w.ID, n, w.Records)
	}
	return s, nil
}

// checkpointOf reads <dataDir>/checkpoints/<source>.json (the format of
// internal/checkpoint) and returns the entry of path: the acknowledged
// offset and when it was last acknowledged. A missing file is offset 0.
func checkpointOf(dataDir, source, path string) (int64, time.Time, error) {
	raw, err := os.ReadFile(filepath.Join(dataDir, "checkpoints", source+".json"))
	if errors.Is(err, os.ErrNotExist) {
		return 0, time.Time{}, nil
	}
	if err != nil {
		return 0, time.Time{}, err
	}
	var f struct {
		Entries []struct {
			Path    string    `json:"path"`
			Offset  int64     `json:"offset"`
			Updated time.Time `json:"updated"`
		} `json:"entries"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return 0, time.Time{}, fmt.Errorf("checkpoint file: %w", err)
	}
	for _, e := range f.Entries {
		if e.Path == path {
			return e.Offset, e.Updated, nil
		}
	}
	return 0, time.Time{}, nil
}

// lineCounter counts the lines of a growing file, reading only what was
// appended since the last poll.
type lineCounter struct {
	path  string
	f     *os.File
	lines int64
	off   int64
	buf   []byte
}

// size is how many bytes were read so far.
func (c *lineCounter) size() int64 { return c.off }

func (c *lineCounter) poll() (int64, error) {
	if c.f == nil {
		f, err := os.Open(c.path)
		if errors.Is(err, os.ErrNotExist) {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		c.f, c.buf = f, make([]byte, 1<<20)
	}
	for {
		n, err := c.f.Read(c.buf)
		c.lines += int64(bytes.Count(c.buf[:n], []byte{'\n'}))
		c.off += int64(n)
		if err == io.EOF || (err == nil && n == 0) {
			return c.lines, nil
		}
		if err != nil {
			return c.lines, err
		}
		if n < len(c.buf) {
			return c.lines, nil
		}
	}
}

func (c *lineCounter) close() {
	if c.f != nil {
		c.f.Close()
	}
}
