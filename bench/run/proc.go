package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// procs tracks the children this runner started so that an interrupted
// run kills them (by pid, nothing else).
var procs struct {
	mu  sync.Mutex
	set map[*os.Process]bool
}

func track(p *os.Process) {
	procs.mu.Lock()
	defer procs.mu.Unlock()
	if procs.set == nil {
		procs.set = map[*os.Process]bool{}
	}
	procs.set[p] = true
}

func untrack(p *os.Process) {
	procs.mu.Lock()
	defer procs.mu.Unlock()
	delete(procs.set, p)
}

// killAll kills every child still running.
func killAll() {
	procs.mu.Lock()
	defer procs.mu.Unlock()
	for p := range procs.set {
		_ = p.Kill()
	}
}

// usage extracts CPU times and peak RSS (ru_maxrss is in KiB on Linux).
func usage(ps *os.ProcessState, s *sample) {
	s.User = ps.UserTime()
	s.Sys = ps.SystemTime()
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		s.MaxRSS = ru.Maxrss * 1024
	}
}

// cpuTicks reads the machine's busy time (all CPUs) from /proc/stat.
func cpuBusy() (time.Duration, bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, false
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 9 || f[0] != "cpu" {
		return 0, false
	}
	var busy int64
	// user nice system idle iowait irq softirq steal (guest is in user)
	for i, v := range f[1:9] {
		if i == 3 || i == 4 {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, false
		}
		busy += n
	}
	const userHZ = 100 // USER_HZ is 100 on every Linux ABI Go supports
	return time.Duration(busy) * time.Second / userHZ, true
}

// meter measures the CPU used by others while a child runs.
type meter struct {
	busy0 time.Duration
	ok    bool
	t0    time.Time
}

func startMeter() meter {
	b, ok := cpuBusy()
	return meter{busy0: b, ok: ok, t0: time.Now()}
}

// background returns the cores used by everything but the child.
func (m meter) background(s *sample) {
	b, ok := cpuBusy()
	if !ok || !m.ok {
		return
	}
	wall := time.Since(m.t0).Seconds()
	if wall <= 0 {
		return
	}
	s.Background = max(0, ((b-m.busy0).Seconds()-s.cpu().Seconds())/wall)
}

// runTimed runs argv with stdin from in (a file path, "" for none) and
// stdout to out (a file path, "/dev/null" allowed), and measures it.
func runTimed(ctx context.Context, timeout time.Duration, in, out string, argv ...string) (sample, error) {
	var s sample
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.WaitDelay = 5 * time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &limited{w: &stderr, n: 64 << 10}
	if in != "" {
		f, err := os.Open(in)
		if err != nil {
			return s, err
		}
		defer f.Close()
		cmd.Stdin = f
	}
	of, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return s, err
	}
	defer of.Close()
	cmd.Stdout = of
	m := startMeter()
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return s, fmt.Errorf("%s: %w", argv[0], err)
	}
	track(cmd.Process)
	err = cmd.Wait()
	s.Wall = time.Since(t0)
	untrack(cmd.Process)
	if ctx.Err() == context.DeadlineExceeded {
		return s, fmt.Errorf("%s: timed out after %s (raise -timeout)", strings.Join(argv, " "), timeout)
	}
	if err != nil {
		return s, fmt.Errorf("%s: %w\n%s", strings.Join(argv, " "), err, tail(stderr.Bytes(), 2000))
	}
	usage(cmd.ProcessState, &s)
	m.background(&s)
	return s, nil
}

// countOutput runs argv with stdin from in and counts the lines it writes.
func countOutput(ctx context.Context, timeout time.Duration, in string, argv ...string) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	f, err := os.Open(in)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.WaitDelay = 5 * time.Second
	cmd.Stdin = f
	var stderr bytes.Buffer
	cmd.Stderr = &limited{w: &stderr, n: 64 << 10}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	track(cmd.Process)
	defer untrack(cmd.Process)
	n, cerr := countLines(out)
	if err := cmd.Wait(); err != nil {
		return 0, fmt.Errorf("%s: %w\n%s", strings.Join(argv, " "), err, tail(stderr.Bytes(), 2000))
	}
	return n, cerr
}

func countLines(r io.Reader) (int64, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	buf := make([]byte, 1<<20)
	var n int64
	for {
		k, err := br.Read(buf)
		n += int64(bytes.Count(buf[:k], []byte{'\n'}))
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// limited keeps the first n bytes written to it.
type limited struct {
	w io.Writer
	n int
}

func (l *limited) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return strings.TrimSpace(string(b))
}

// isTmpfs reports whether dir is on tmpfs.
func isTmpfs(dir string) bool {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return false
	}
	return st.Type == 0x01021994 // TMPFS_MAGIC
}

// output runs a command and returns its trimmed stdout ("" on error).
func output(dir string, argv ...string) string {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	b, err := cmd.Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
