package profiling

import (
	"os"
	"runtime/pprof"
)

// StartCPU starts a CPU profile written to path ("" does nothing). The
// returned stop ends the profile and closes the file; call it once.
func StartCPU(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
