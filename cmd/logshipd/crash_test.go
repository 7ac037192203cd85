package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// buildBinary compiles logshipd once per test binary.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "logshipd")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	return bin
}

// TestKill9WhileTailingRotatingFile kills the daemon with SIGKILL at random
// moments while a writer appends to a file that is rotated by rename and by
// copytruncate, restarts it, and checks that every line arrives (no loss)
// and duplicates stay bounded by what was in flight.
func TestKill9WhileTailingRotatingFile(t *testing.T) {
	if testing.Short() {
		t.Skip("process-level crash test")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	require.NoError(t, os.MkdirAll(logs, 0o750))
	out := filepath.Join(dir, "out.jsonl")
	cfg := filepath.Join(dir, "c.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(fmt.Sprintf(`data_dir: %s
shutdown_grace: 5s
sources:
  - {name: app, type: file, include: ["%s/app.log*"], service: api, checkpoint_interval: 100ms, batch_max_wait: 50ms}
sinks:
  - {name: out, type: file, path: %s}
`, filepath.Join(dir, "data"), logs, out)), 0o600))

	// Writer: ~40k lines, rotating every 5000 lines, alternating rename and
	// copytruncate; rotated files keep matching the glob (app.log.N).
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	const total = 40000
	writerDone := make(chan error, 1)
	go func() { writerDone <- writeRotating(ctx, filepath.Join(logs, "app.log"), total, 5000) }()

	r := rand.New(rand.NewPCG(7, 11))
	kills := 0
	for {
		daemon := exec.Command(bin, "run", "-c", cfg)
		daemon.Stderr, _ = os.Create(filepath.Join(dir, fmt.Sprintf("stderr-%d.log", kills)))
		require.NoError(t, daemon.Start())
		select {
		case err := <-writerDone:
			require.NoError(t, err)
			// Final run: let it catch up, then stop cleanly.
			t0 := time.Now()
			require.Eventually(t, func() bool { return countLines(t, out) >= total }, 60*time.Second, 100*time.Millisecond)
			t.Logf("caught up %s after the writer finished", time.Since(t0).Round(time.Millisecond))
			require.NoError(t, daemon.Process.Signal(syscall.SIGTERM))
			require.NoError(t, daemon.Wait())
			seen, dups := tally(t, out)
			t.Logf("kill -9 cycles: %d, lines written: %d, distinct received: %d, duplicates: %d", kills, total, len(seen), dups)
			for i := range total {
				if !seen[i] {
					t.Fatalf("line %d lost", i)
				}
			}
			assert.GreaterOrEqual(t, kills, 5)
			// Each kill can repeat at most what was read but not yet checkpointed.
			assert.LessOrEqual(t, dups, kills*5000, "duplicates bounded by in-flight data per crash")
			return
		case <-time.After(time.Duration(300+r.IntN(900)) * time.Millisecond):
			require.NoError(t, daemon.Process.Signal(syscall.SIGKILL))
			_ = daemon.Wait()
			kills++
		}
	}
}

// writeRotating appends numbered JSON lines, rotating every `every` lines.
func writeRotating(ctx context.Context, path string, total, every int) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
	if err != nil {
		return err
	}
	gen := 0
	for i := 0; i < total; i++ {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if _, err := fmt.Fprintf(f, `{"msg":"line %d","n":%d,"level":"info"}`+"\n", i, i); err != nil {
			return err
		}
		if i%20 == 19 {
			time.Sleep(5 * time.Millisecond) // ~4k lines/s: the run spans several kills
		}
		if i > 0 && i%every == 0 {
			gen++
			if gen%2 == 1 { // rename + create
				f.Close()
				if err := os.Rename(path, fmt.Sprintf("%s.%d", path, gen)); err != nil {
					return err
				}
				if f, err = os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640); err != nil {
					return err
				}
			} else { // copytruncate: copy, then truncate in place
				data, err := os.ReadFile(path)
				if err != nil {
					return err
				}
				if err := os.WriteFile(fmt.Sprintf("%s.%d", path, gen), data, 0o640); err != nil {
					return err
				}
				if err := f.Truncate(0); err != nil {
					return err
				}
			}
		}
	}
	return f.Close()
}

func countLines(t *testing.T, path string) int {
	seen, _ := tally(t, path)
	return len(seen)
}

func tally(t *testing.T, path string) (map[int]bool, int) {
	f, err := os.Open(path)
	if err != nil {
		return map[int]bool{}, 0
	}
	defer f.Close()
	seen := map[int]bool{}
	dups := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var rec struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(sc.Bytes(), &rec) != nil {
			continue // a torn last line of a killed writer: re-sent after restart
		}
		n, err := strconv.Atoi(strings.TrimPrefix(rec.Message, "line "))
		if err != nil {
			continue
		}
		if seen[n] {
			dups++
		}
		seen[n] = true
	}
	return seen, dups
}
