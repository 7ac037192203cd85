package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// microPkgs are the packages whose Go benchmarks go into the report.
var microPkgs = []string{"./internal/normalize/", "./internal/normalize/parse/", "./bench/micro/"}

// benchLine is one result line of `go test -bench`.
type benchLine struct {
	Pkg     string   `json:"pkg"`
	Name    string   `json:"name"`
	N       int64    `json:"n"`
	Metrics []metric `json:"metrics"`
}

type metric struct {
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
}

func (l benchLine) get(unit string) (float64, bool) {
	for _, m := range l.Metrics {
		if m.Unit == unit {
			return m.Value, true
		}
	}
	return 0, false
}

// parseBench reads `go test -bench` output.
func parseBench(out string) []benchLine {
	var res []benchLine
	pkg := ""
	for _, l := range strings.Split(out, "\n") {
		if p, ok := strings.CutPrefix(l, "pkg: "); ok {
			pkg = strings.TrimSpace(p)
			continue
		}
		if !strings.HasPrefix(l, "Benchmark") {
			continue
		}
		f := strings.Fields(l)
		if len(f) < 4 || len(f)%2 != 0 {
			continue
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			continue
		}
		bl := benchLine{Pkg: pkg, Name: f[0], N: n}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			bl.Metrics = append(bl.Metrics, metric{v, f[i+1]})
		}
		res = append(res, bl)
	}
	return res
}

// microCommand is the exact go test command run.
func (b *bench) microCommand() []string {
	args := []string{"go", "test", "-run", "^$", "-bench", ".", "-benchmem", "-count", "1"}
	if b.opt.benchtime != "" {
		args = append(args, "-benchtime", b.opt.benchtime)
	}
	return append(args, microPkgs...)
}

func (b *bench) micro(ctx context.Context) ([]benchLine, string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	argv := b.microCommand()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = b.root
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	if err != nil {
		return nil, out.String(), fmt.Errorf("%s: %w\n%s", strings.Join(argv, " "), err, tail(out.Bytes(), 3000))
	}
	return parseBench(out.String()), out.String(), nil
}

// profile runs bench/profile (the normalize path with a CPU profile) on
// the workload and returns `go tool pprof -top`.
func (b *bench) profile(ctx context.Context, w *workloadFile) (string, error) {
	bin := filepath.Join(b.opt.tmp, "lsprof")
	if err := b.goCmd(ctx, "build", "-o", bin, "./bench/profile"); err != nil {
		return "", err
	}
	prof := filepath.Join(b.opt.tmp, w.ID+".cpu.pprof")
	// At least ~500 MB of input, for enough samples (100 per CPU-second).
	repeat := strconv.FormatInt(max(1, (500e6+w.Bytes-1)/w.Bytes), 10)
	if _, err := runTimed(ctx, 4*b.opt.timeout, "", os.DevNull, bin, "-cpuprofile", prof, "-in", w.Path, "-repeat", repeat); err != nil {
		return "", err
	}
	b.res.ProfileCmd = fmt.Sprintf("%s -cpuprofile %s -in %s -repeat %s > /dev/null", bin, prof, w.Path, repeat)
	var res []string
	for _, args := range [][]string{{"-top", "-nodecount", "40"}, {"-top", "-cum", "-nodecount", "30"}} {
		argv := append(append([]string{"tool", "pprof"}, args...), bin, prof)
		cmd := exec.CommandContext(ctx, "go", argv...)
		cmd.Dir = b.root
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("go %s: %w", strings.Join(argv, " "), err)
		}
		res = append(res, "$ go "+strings.Join(argv, " ")+"\n"+strings.TrimSpace(string(out)))
	}
	return strings.Join(res, "\n\n"), nil
}

func (b *bench) goCmd(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = b.root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}
