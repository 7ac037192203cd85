// Package profiling starts and stops the pprof profiles that the
// normalize command (--cpuprofile) and bench/profile write, so both
// produce the same files the same way. No state of its own: each call
// returns the function that ends what it started.
package profiling
