package profiling

import (
	"os"
	"path/filepath"
	"testing"
)

func TestStartCPUWritesAProfile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cpu.pprof")
	stop, err := StartCPU(path)
	if err != nil {
		t.Fatal(err)
	}
	stop()
	if st, err := os.Stat(path); err != nil || st.Size() == 0 {
		t.Fatalf("no profile written: %v", err)
	}
	stop, err = StartCPU("")
	if err != nil {
		t.Fatal(err)
	}
	stop()
	if _, err := StartCPU(filepath.Join(t.TempDir(), "missing", "cpu.pprof")); err == nil {
		t.Fatal("want an error for an unwritable path")
	}
}
