// Command gen writes a benchmark workload: go run ./bench/gen -kind json -n 1000000 > w1.log
//
// Kinds: json (W1), nginx (W2), python2 (W3; python has 6-16-line
// tracebacks), firelens (W4; docker is Docker json-file), python, docker,
// logfmt. -kind also accepts w1..w4.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/starmates/logshipd/bench/workload"
)

func main() {
	kind := flag.String("kind", "json", fmt.Sprintf("workload: %v or w1..w4", workload.AllKinds()))
	n := flag.Int("n", 1000000, "records")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	if k, ok := workload.Bench[*kind]; ok {
		*kind = k
	}
	if err := workload.GenerateAny(os.Stdout, *kind, *n, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
