// Package micro holds Go micro-benchmarks of the normalizer on the
// whole-process workloads W1-W4 (bench/workload), next to those of
// internal/normalize and internal/normalize/parse:
//
//	go test -run '^$' -bench . -benchmem ./bench/micro/
//
// BenchmarkStream: one core, one physical line per op, format detection
// on ("auto") or off (the one parser the workload needs, "fixed"): the
// difference is what detection costs. BenchmarkParallel: the path of
// `logshipd normalize` (normalize.RunParallel on all cores) from memory to
// io.Discard, so without process start-up and pipe I/O.
package micro
