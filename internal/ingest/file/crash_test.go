package file

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// crashSnapshot is the persisted checkpoint directory at one moment of a
// run, with the lines acknowledged by then: a kill -9 at that moment
// leaves exactly this checkpoint, and the sinks hold exactly those lines.
type crashSnapshot struct {
	dataDir string
	acked   map[string]bool
	at      int // ack number
}

func copyDir(t *testing.T, from, to string) {
	ents, err := os.ReadDir(from)
	if os.IsNotExist(err) {
		return
	}
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(to, 0o700))
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if os.IsNotExist(err) {
			continue // a temporary file renamed meanwhile
		}
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(to, e.Name()), b, 0o600))
	}
}

// allLinesOnDisk returns every line of every file in dir.
func allLinesOnDisk(t *testing.T, dir string) map[string]bool {
	out := map[string]bool{}
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range ents {
		f, err := os.Open(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			out[sc.Text()] = true
		}
		require.NoError(t, sc.Err())
		f.Close()
	}
	return out
}

// The source is "killed" at random moments: the checkpoint directory is
// copied while acknowledgements are paused (so the copy and the set of
// acknowledged lines are consistent), and a new source is started from
// each copy after the files moved on (appends, a rename rotation and a
// copytruncate rotation). Every line must be either acknowledged before
// the crash or delivered by the restarted source; duplicates are what was
// in flight (read, not yet acknowledged or saved).
func TestCrashAtAnyMomentLosesNothing(t *testing.T) {
	dir := t.TempDir()
	dataDir := t.TempDir()
	cfg := testConfig(filepath.Join(dir, "*.log*"))
	sink := newFakeSink(t)
	sink.delay.Store(int64(500 * time.Microsecond))

	var snaps []*crashSnapshot
	var want atomic.Int32
	acks := 0
	sink.onAck = func([]string) { // runs under sink.mu
		acks++
		if want.Load() > 0 {
			want.Add(-1)
			s := &crashSnapshot{dataDir: t.TempDir(), acked: map[string]bool{}, at: acks}
			copyDir(t, filepath.Join(dataDir, "checkpoints"), filepath.Join(s.dataDir, "checkpoints"))
			for l, c := range sink.acked {
				if c > 0 {
					s.acked[l] = true
				}
			}
			snaps = append(snaps, s)
		}
	}
	r := start(t, cfg, dataDir, sink)

	const perFile = 15_000
	names := []string{"plain.log", "renamed.log", "copied.log"}
	var wg sync.WaitGroup
	for fi, name := range names {
		wg.Go(func() {
			path := filepath.Join(dir, name)
			f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
			if err != nil {
				panic(err)
			}
			for i := range perFile {
				fmt.Fprintf(f, "%s-%06d payload\n", name, i)
				if i%25 == 24 {
					time.Sleep(time.Millisecond) // ~1 s of writing
				}
				if i == perFile/2 {
					switch fi {
					case 1: // rename rotation (the renamed file stays matched)
						if err := os.Rename(path, path+".1"); err != nil {
							panic(err)
						}
						f.Close()
						f, err = os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
						if err != nil {
							panic(err)
						}
					case 2: // copytruncate (done by the writer: no line is lost in the window)
						src, _ := os.Open(path)
						dst, _ := os.Create(path + ".1")
						if _, err := io.Copy(dst, src); err != nil {
							panic(err)
						}
						dst.Close()
						src.Close()
						if err := f.Truncate(0); err != nil {
							panic(err)
						}
					}
				}
			}
			f.Close()
		})
	}
	// Ask for snapshots at random moments while the files are written.
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	rng := rand.New(rand.NewPCG(1, 2))
	for waiting := true; waiting; {
		select {
		case <-done:
			waiting = false
		case <-time.After(time.Duration(20+rng.IntN(100)) * time.Millisecond):
			want.Add(1)
		}
	}
	expected := allLinesOnDisk(t, dir)
	require.Len(t, expected, 3*perFile)
	requireAll := func(s *fakeSink, acked map[string]bool) {
		t.Helper()
		require.Eventually(t, func() bool {
			for l := range expected {
				if !acked[l] && s.count(l) == 0 {
					return false
				}
			}
			return true
		}, 30*time.Second, 10*time.Millisecond)
	}
	requireAll(sink, nil)
	r.stop(t)

	sink.mu.Lock()
	taken := snaps
	sink.mu.Unlock()
	require.NotEmpty(t, taken)
	for _, s := range taken {
		// A crash during a save leaves a torn temporary file: ignored.
		require.NoError(t, os.WriteFile(filepath.Join(s.dataDir, "checkpoints", ".test.json.tmp-999"), []byte(`{"version":1,"entr`), 0o600))
		sink2 := newFakeSink(t)
		r2 := start(t, cfg, s.dataDir, sink2)
		requireAll(sink2, s.acked)
		r2.stop(t)
		dups := 0
		for l := range s.acked {
			if sink2.count(l) > 0 {
				dups++
			}
		}
		missing := 0
		for l := range expected {
			if !s.acked[l] && sink2.count(l) == 0 {
				missing++
			}
		}
		st := r2.src.Stats()
		t.Logf("crash after ack %d: %d lines acknowledged before, %d delivered after restart, %d of them again (in flight or not yet saved), missing %d; restart saw copies=%d truncations=%d",
			s.at, len(s.acked), sink2.total(), dups, missing, st.CopiesResumed.Load(), st.TruncationsDetected.Load())
		require.Zero(t, missing)
		sink2.requireNoProblems(t)
		for l := range expected {
			require.LessOrEqual(t, sink2.count(l), 1, "line %q delivered twice after one restart", l)
		}
	}
}
