// Command run is logshipd's whole-process benchmark. It builds logshipd,
// generates the seeded workloads into tmpfs and measures, per workload and
// run, the `cat` floors, `logshipd normalize < file > /dev/null` and
// `logshipd run` (file source from the beginning → file sink, until every
// record is written and acknowledged): wall time, records/s, MB/s, CPU
// seconds per million records and peak RSS, median and min–max. Then the
// end-to-end latency at a fixed append rate, the Go micro-benchmarks and a
// CPU profile of normalize, and it writes the generated section of
// docs/performance.md.
//
//	go run ./bench/run [-n 1000000] [-runs 3] [-workloads w1,w2,w3,w4]
//	                   [-out docs/performance.md] [-tmp /dev/shm/logshipd-bench]
//
// See docs/performance.md for the method and the other flags (-h).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/starmates/logshipd/bench/workload"
)

type options struct {
	n         int
	runs      int
	workloads []string
	shapes    []string
	out       string
	jsonOut   string
	tmp       string
	seed      uint64
	timeout   time.Duration
	latency   bool
	latRate   int
	latDur    time.Duration
	micro     bool
	benchtime string
	profile   string
	keep      bool
	note      string
}

// bench is one invocation.
type bench struct {
	opt     options
	root    string // module root
	bin     string // logshipd built for the run
	started time.Time
	res     results
}

// results is everything measured; also written as JSON (-json).
type results struct {
	Started    time.Time                      `json:"started"`
	Finished   time.Time                      `json:"finished"`
	Args       []string                       `json:"args"`
	Machine    machine                        `json:"machine"`
	Workloads  []*workloadFile                `json:"workloads"`
	Samples    map[string]map[string][]sample `json:"samples"` // workload id → shape → runs
	Latency    *latencyResult                 `json:"latency,omitempty"`
	Micro      []benchLine                    `json:"micro,omitempty"`
	MicroRaw   string                         `json:"-"`
	MicroLoad  [2]string                      `json:"micro_load"`
	Profile    string                         `json:"profile,omitempty"`
	ProfileOf  string                         `json:"profile_of,omitempty"`
	ProfileCmd string                         `json:"profile_cmd,omitempty"`
	Errors     []string                       `json:"errors,omitempty"`
}

type machine struct {
	Uname     string `json:"uname"`
	CPU       string `json:"cpu"`
	CPUs      int    `json:"cpus"`
	MemTotal  string `json:"mem_total"`
	Go        string `json:"go"`
	Commit    string `json:"commit"`
	Tmpfs     bool   `json:"tmp_on_tmpfs"`
	LoadStart string `json:"load_start"`
	LoadEnd   string `json:"load_end"`
}

func main() {
	var o options
	var wl, sh string
	flag.IntVar(&o.n, "n", 1000000, "records per workload")
	flag.IntVar(&o.runs, "runs", 3, "runs per workload and shape (median and min–max are reported)")
	flag.StringVar(&wl, "workloads", "w1,w2,w3,w4", "workloads: w1..w4 or kinds "+fmt.Sprint(workload.AllKinds()))
	flag.StringVar(&sh, "shapes", strings.Join(shapes, ","), "shapes to measure")
	flag.StringVar(&o.out, "out", "docs/performance.md", "markdown report to update (the generated section); empty: none")
	flag.StringVar(&o.jsonOut, "json", "bench/results/latest.json", "raw results as JSON; empty: none")
	flag.StringVar(&o.tmp, "tmp", "/dev/shm/logshipd-bench", "work directory (should be tmpfs); removed at the end unless -keep")
	flag.Uint64Var(&o.seed, "seed", 1, "workload seed")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Minute, "limit per measured process")
	flag.BoolVar(&o.latency, "latency", true, "run the end-to-end latency test")
	flag.IntVar(&o.latRate, "latency-rate", 5000, "latency test: lines appended per second")
	flag.DurationVar(&o.latDur, "latency-duration", 20*time.Second, "latency test: measured duration (after 1 s of warm-up)")
	flag.BoolVar(&o.micro, "micro", true, "run the Go micro-benchmarks ("+strings.Join(microPkgs, " ")+")")
	flag.StringVar(&o.benchtime, "benchtime", "", "go test -benchtime for the micro-benchmarks (default go's 1s)")
	flag.StringVar(&o.profile, "profile", "w1", "workload whose normalize run is CPU-profiled (pprof -top); empty: none")
	flag.BoolVar(&o.keep, "keep", false, "keep the work directory")
	flag.StringVar(&o.note, "note", "", "note printed at the top of the generated section (e.g. why this run)")
	flag.Parse()
	o.workloads = splitList(wl)
	o.shapes = splitList(sh)
	if err := o.check(); err != nil {
		fmt.Fprintln(os.Stderr, "bench/run:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	b := &bench{opt: o, started: time.Now()}
	err := b.main(ctx)
	killAll()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/run:", err)
		os.Exit(1)
	}
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(strings.ToLower(f)); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func (o *options) check() error {
	var errs []error
	if o.n < 1 {
		errs = append(errs, errors.New("-n must be >= 1"))
	}
	if o.runs < 1 {
		errs = append(errs, errors.New("-runs must be >= 1"))
	}
	if len(o.workloads) == 0 {
		errs = append(errs, errors.New("-workloads is empty"))
	}
	for _, w := range o.workloads {
		if _, err := kindOf(w); err != nil {
			errs = append(errs, err)
		}
	}
	for _, s := range o.shapes {
		if !contains(shapes, s) {
			errs = append(errs, fmt.Errorf("-shapes: unknown shape %q (one of %v)", s, shapes))
		}
	}
	if o.latRate < 1 || o.latDur < time.Second {
		errs = append(errs, errors.New("-latency-rate must be >= 1 and -latency-duration >= 1s"))
	}
	if o.tmp == "" || o.tmp == "/" {
		errs = append(errs, errors.New("-tmp must name a work directory"))
	}
	return errors.Join(errs...)
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func kindOf(id string) (string, error) {
	if k, ok := workload.Bench[id]; ok {
		return k, nil
	}
	if contains(workload.AllKinds(), id) {
		return id, nil
	}
	return "", fmt.Errorf("unknown workload %q (w1..w4 or one of %v)", id, workload.AllKinds())
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func (b *bench) main(ctx context.Context) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	b.root = root
	if !filepath.IsAbs(b.opt.tmp) {
		b.opt.tmp = filepath.Join(root, b.opt.tmp)
	}
	if err := claimWorkDir(b.opt.tmp); err != nil {
		return err
	}
	if !b.opt.keep {
		defer os.RemoveAll(b.opt.tmp)
	}
	b.res = results{Started: b.started, Args: os.Args[1:], Samples: map[string]map[string][]sample{}}
	b.res.Machine = b.machine()
	if !b.res.Machine.Tmpfs {
		logf("WARNING: %s is not on tmpfs: disk I/O is part of the figures", b.opt.tmp)
	}

	b.bin = filepath.Join(b.opt.tmp, "logshipd")
	logf("building %s", b.bin)
	if err := b.goCmd(ctx, "build", "-o", b.bin, "./cmd/logshipd"); err != nil {
		return err
	}
	for _, id := range b.opt.workloads {
		w, err := b.generate(ctx, id)
		if err != nil {
			return err
		}
		b.res.Workloads = append(b.res.Workloads, w)
	}
	for _, w := range b.res.Workloads {
		b.res.Samples[w.ID] = map[string][]sample{}
		for run := range b.opt.runs {
			for _, shape := range b.opt.shapes {
				s, err := w.measure(ctx, b, shape, run)
				if err != nil {
					if ctx.Err() != nil {
						return ctx.Err()
					}
					msg := fmt.Sprintf("%s %s run %d: %v", w.ID, shape, run+1, err)
					logf("ERROR %s", msg)
					b.res.Errors = append(b.res.Errors, msg)
					continue
				}
				b.res.Samples[w.ID][shape] = append(b.res.Samples[w.ID][shape], s)
				logf("%s %-9s run %d: %7.3f s  %8.1f MB/s  %6.2f CPU-s/M  %6.1f MiB  (background %.2f cores)",
					w.ID, shape, run+1, s.Wall.Seconds(), s.mbps(), s.cpuPerM(), s.rssMiB(), s.Background)
			}
		}
	}
	if b.opt.latency {
		logf("latency test: %d lines/s for %s", b.opt.latRate, b.opt.latDur)
		lr, err := b.latency(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			b.res.Errors = append(b.res.Errors, "latency: "+err.Error())
			logf("ERROR latency: %v", err)
		} else {
			b.res.Latency = &lr
			logf("latency: p50 %s p99 %s max %s, %d/%d received", lr.P50, lr.P99, lr.Max, lr.Received, lr.Sent)
		}
	}
	if b.opt.profile != "" {
		for _, w := range b.res.Workloads {
			if w.ID != b.opt.profile && w.Kind != b.opt.profile {
				continue
			}
			logf("CPU profile of normalize on %s", w.ID)
			top, err := b.profile(ctx, w)
			if err != nil {
				b.res.Errors = append(b.res.Errors, "profile: "+err.Error())
				logf("ERROR profile: %v", err)
			} else {
				b.res.Profile, b.res.ProfileOf = top, w.ID
			}
		}
	}
	if b.opt.micro {
		logf("micro-benchmarks: %s", strings.Join(b.microCommand(), " "))
		b.res.MicroLoad[0] = loadavg()
		lines, raw, err := b.micro(ctx)
		b.res.MicroLoad[1] = loadavg()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			b.res.Errors = append(b.res.Errors, "micro-benchmarks: "+err.Error())
			logf("ERROR micro-benchmarks: %v", err)
		}
		b.res.Micro, b.res.MicroRaw = lines, raw
	}
	b.res.Machine.LoadEnd = loadavg()
	b.res.Finished = time.Now()
	if err := b.writeOutputs(); err != nil {
		return err
	}
	if len(b.res.Errors) > 0 {
		return fmt.Errorf("%d measurement(s) failed (see above; the report lists them)", len(b.res.Errors))
	}
	return nil
}

// generate writes the workload file and counts what logshipd makes of it.
func (b *bench) generate(ctx context.Context, id string) (*workloadFile, error) {
	kind, _ := kindOf(id)
	w := &workloadFile{ID: id, Kind: kind, N: b.opt.n, Path: filepath.Join(b.opt.tmp, fmt.Sprintf("%s-%s-n%d-s%d.log", id, kind, b.opt.n, b.opt.seed))}
	logf("generating %s (%s, %d records)", w.Path, kind, w.N)
	f, err := os.Create(w.Path)
	if err != nil {
		return nil, err
	}
	if err := workload.GenerateAny(f, kind, w.N, b.opt.seed); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	st, err := os.Stat(w.Path)
	if err != nil {
		return nil, err
	}
	w.Bytes = st.Size()
	rf, err := os.Open(w.Path)
	if err != nil {
		return nil, err
	}
	w.Lines, err = countLines(rf)
	rf.Close()
	if err != nil {
		return nil, err
	}
	// Records: what `logshipd normalize < file | wc -l` says.
	w.Records, err = countOutput(ctx, b.opt.timeout, w.Path, b.bin, "normalize")
	if err != nil {
		return nil, err
	}
	logf("%s: %.1f MB, %d lines, %d records (%d B/line)", id, float64(w.Bytes)/1e6, w.Lines, w.Records, w.Bytes/max(w.Lines, 1))
	if w.Records != int64(w.N) {
		logf("WARNING %s: logshipd makes %d records of %d generated", id, w.Records, w.N)
	}
	return w, nil
}

// workDirMark marks a directory as bench/run's own: only such a directory
// (or a new or empty one) is used, and removed at the end.
const workDirMark = ".logshipd-bench-run"

func claimWorkDir(dir string) error {
	ents, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	case err != nil:
		return err
	case len(ents) > 0:
		if _, err := os.Stat(filepath.Join(dir, workDirMark)); err != nil {
			return fmt.Errorf("-tmp %s is not empty and not a bench/run work directory (no %s): choose another", dir, workDirMark)
		}
	}
	return os.WriteFile(filepath.Join(dir, workDirMark), nil, 0o644)
}

func moduleRoot() (string, error) {
	gomod := output("", "go", "env", "GOMOD")
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("run from inside the logshipd module (go env GOMOD is empty)")
	}
	return filepath.Dir(gomod), nil
}

func (b *bench) machine() machine {
	m := machine{
		Uname:     output("", "uname", "-a"),
		Go:        output(b.root, "go", "version"),
		Commit:    output(b.root, "git", "describe", "--tags", "--always", "--dirty"),
		Tmpfs:     isTmpfs(b.opt.tmp),
		LoadStart: loadavg(),
	}
	if raw, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(raw), "\n") {
			k, v, ok := strings.Cut(l, ":")
			if !ok {
				continue
			}
			switch strings.TrimSpace(k) {
			case "model name":
				m.CPU = strings.TrimSpace(v)
			case "processor":
				m.CPUs++
			}
		}
	}
	if raw, err := os.ReadFile("/proc/meminfo"); err == nil {
		l, _, _ := strings.Cut(string(raw), "\n")
		if _, v, ok := strings.Cut(l, ":"); ok {
			m.MemTotal = strings.TrimSpace(v)
		}
	}
	return m
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

func (b *bench) writeOutputs() error {
	if b.opt.jsonOut != "" {
		p := b.opt.jsonOut
		if !filepath.IsAbs(p) {
			p = filepath.Join(b.root, p)
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		raw, err := json.MarshalIndent(b.res, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(p, append(raw, '\n'), 0o644); err != nil {
			return err
		}
		logf("raw results: %s", p)
	}
	md := b.report()
	if b.opt.out == "" {
		_, err := io.WriteString(os.Stdout, md)
		return err
	}
	p := b.opt.out
	if !filepath.IsAbs(p) {
		p = filepath.Join(b.root, p)
	}
	if err := updateDoc(p, md); err != nil {
		return err
	}
	logf("report: %s", p)
	return nil
}
