package workload

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"time"
)

// Kinds added for the whole-process benchmarks (bench/run). They live in
// their own files so that the bytes of the kinds in Kinds never change;
// Generate does not know them, GenerateAny does.
//
//	python2   W3: like python, but the traceback after an ERROR record is
//	          5-15 lines long (python's is 6, 8, ..., 16 lines)
//	firelens  W4: FireLens (Fluent Bit/fluentd log driver) records as JSON:
//	          {"log":...,"container_id":...,"container_name":...,
//	          "source":"stdout",...,"ecs_cluster":...}
var ExtraKinds = []string{"python2", "firelens"}

// AllKinds lists every kind GenerateAny accepts.
func AllKinds() []string { return append(slices.Clone(Kinds), ExtraKinds...) }

// Bench maps the workload ids to kinds.
var Bench = map[string]string{"w1": "json", "w2": "nginx", "w3": "python2", "w4": "firelens"}

// GenerateAny is Generate for every kind in AllKinds. For the kinds of
// Kinds it is Generate itself (same bytes).
func GenerateAny(w io.Writer, kind string, n int, seed uint64) error {
	var write func(*gen, io.Writer) error
	switch kind {
	case "python2":
		write = (*gen).python2
	case "firelens":
		write = (*gen).firelens
	default:
		if slices.Contains(Kinds, kind) {
			return Generate(w, kind, n, seed)
		}
		return fmt.Errorf("unknown workload %q (one of %v)", kind, AllKinds())
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	// Same seeding as Generate.
	g := &gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), ts: time.Date(2026, 11, 25, 21, 45, 15, 0, time.UTC)}
	for range n {
		if err := write(g, bw); err != nil {
			return err
		}
	}
	return bw.Flush()
}
