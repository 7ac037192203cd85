// Command gen writes a benchmark workload: go run ./bench/gen -kind json -n 1000000 > w1.log
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/starmates/logshipd/bench/workload"
)

func main() {
	kind := flag.String("kind", "json", fmt.Sprintf("workload: %v", workload.Kinds))
	n := flag.Int("n", 1000000, "records")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	if err := workload.Generate(os.Stdout, *kind, *n, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
