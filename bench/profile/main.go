// Command profile is `logshipd normalize` with a CPU (and heap) profile:
// the same engine, defaults and parallel path (normalize.RunParallel with
// the embedded defaults, stdin origin, default workers and line limit),
// without the CLI around it.
//
//	go build -o /dev/shm/lsprof ./bench/profile
//	/dev/shm/lsprof -cpuprofile cpu.pprof < w1.log > /dev/null
//	/dev/shm/lsprof -cpuprofile cpu.pprof -in w1.log -repeat 5 > /dev/null
//	go tool pprof -top -nodecount 40 /dev/shm/lsprof cpu.pprof
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"

	"github.com/starmates/logshipd/internal/config"
	"github.com/starmates/logshipd/internal/ingest"
	"github.com/starmates/logshipd/internal/normalize"
	"github.com/starmates/logshipd/internal/profiling"
)

func main() {
	cpu := flag.String("cpuprofile", "", "write a CPU profile here")
	mem := flag.String("memprofile", "", "write a heap (alloc) profile here at the end")
	workers := flag.Int("workers", 0, "parallel normalizers (default: number of CPUs)")
	in := flag.String("in", "", "read this file instead of stdin")
	repeat := flag.Int("repeat", 1, "with -in: normalize the file this many times (more profile samples)")
	flag.Parse()
	if err := run(*cpu, *mem, *workers, *in, *repeat); err != nil {
		fmt.Fprintln(os.Stderr, "profile:", err)
		os.Exit(1)
	}
}

func run(cpu, mem string, workers int, in string, repeat int) error {
	if in == "" && repeat != 1 {
		return fmt.Errorf("-repeat needs -in")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	eng, err := normalize.New(config.Default().Normalize, nil)
	if err != nil {
		return err
	}
	stopCPU, err := profiling.StartCPU(cpu)
	if err != nil {
		return err
	}
	defer stopCPU()
	if mem != "" {
		runtime.MemProfileRate = 64 << 10
	}
	for range max(repeat, 1) {
		r := os.Stdin
		if in != "" {
			if r, err = os.Open(in); err != nil {
				return err
			}
		}
		err = eng.RunParallel(ctx, r, os.Stdout, normalize.Origin{Kind: "stdin"},
			normalize.ParallelConfig{Workers: workers, MaxLine: ingest.DefaultMaxLineBytes})
		if in != "" {
			r.Close()
		}
		if err != nil {
			return err
		}
	}
	if mem != "" {
		f, err := os.Create(mem)
		if err != nil {
			return err
		}
		defer f.Close()
		return pprof.Lookup("allocs").WriteTo(f, 0)
	}
	return nil
}
