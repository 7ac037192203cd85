package file

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const (
	rotationLines = 120_000
	rotations     = 6
)

func rotLine(i int) string {
	return fmt.Sprintf("r-%07d some payload to make the line longer than a few bytes", i)
}

func rotID(line string) (int, bool) {
	if !strings.HasPrefix(line, "r-") || len(line) < 9 {
		return 0, false
	}
	n, err := strconv.Atoi(line[2:9])
	return n, err == nil
}

// gzipAndRemove compresses path to path.gz and deletes path, like
// logrotate's compress.
func gzipAndRemove(t *testing.T, path string) {
	in, err := os.Open(path)
	require.NoError(t, err)
	out, err := os.Create(path + ".gz")
	require.NoError(t, err)
	zw := gzip.NewWriter(out)
	_, err = io.Copy(zw, in)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	require.NoError(t, out.Close())
	require.NoError(t, in.Close())
	require.NoError(t, os.Remove(path))
}

// shiftRotated renames app.log.1 to app.log.2 and compresses it, after
// moving older compressed files up (logrotate with compress +
// delaycompress).
func shiftRotated(t *testing.T, base string, upTo int) {
	for k := upTo; k >= 2; k-- {
		if _, err := os.Stat(fmt.Sprintf("%s.%d.gz", base, k)); err == nil {
			require.NoError(t, os.Rename(fmt.Sprintf("%s.%d.gz", base, k), fmt.Sprintf("%s.%d.gz", base, k+1)))
		}
	}
	if _, err := os.Stat(base + ".1"); err == nil {
		require.NoError(t, os.Rename(base+".1", base+".2"))
		gzipAndRemove(t, base+".2")
	}
}

// idsOnDisk returns the line ids present in the live, rotated and
// compressed files.
func idsOnDisk(t *testing.T, dir string) map[int]bool {
	out := map[int]bool{}
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range ents {
		f, err := os.Open(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		var r io.Reader = f
		if strings.HasSuffix(e.Name(), ".gz") {
			zr, err := gzip.NewReader(f)
			require.NoError(t, err)
			r = zr
		}
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if id, ok := rotID(sc.Text()); ok {
				out[id] = true
			}
		}
		require.NoError(t, sc.Err())
		f.Close()
	}
	return out
}

type deliveryReport struct {
	missing, dups, extra []int
}

func report(sink *fakeSink, want map[int]bool) deliveryReport {
	var r deliveryReport
	got := sink.snapshot()
	byID := map[int]int{}
	for line, c := range got {
		if id, ok := rotID(line); ok {
			byID[id] += c
		}
	}
	for id := range want {
		switch byID[id] {
		case 0:
			r.missing = append(r.missing, id)
		case 1:
		default:
			r.dups = append(r.dups, id)
		}
	}
	for id, c := range byID {
		if !want[id] {
			r.extra = append(r.extra, id)
			if c > 1 {
				r.dups = append(r.dups, id)
			}
		}
	}
	return r
}

// Rename/create rotation under continuous writes: the writer keeps
// writing to the renamed file for a while (it has not reopened yet), the
// renamed file is compressed at the next rotation, and every line must
// arrive exactly once.
func TestRotationRenameCreate(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "app.log")
	sink := newFakeSink(t)
	cfg := testConfig(base + "*")
	r := start(t, cfg, t.TempDir(), sink)
	started := time.Now()

	f, err := os.OpenFile(base, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	require.NoError(t, err)
	per := rotationLines / rotations
	w := bufio.NewWriterSize(f, 8<<10)
	for i := range rotationLines {
		fmt.Fprintln(w, rotLine(i))
		if i%100 == 99 {
			require.NoError(t, w.Flush())
			time.Sleep(time.Millisecond) // pace: ~100k lines/s, rotations every ~0.2 s
		}
		if i > 0 && i%per == 0 {
			// Rotate: the writer keeps its handle (logrotate's rename, the
			// application has not reopened yet).
			require.NoError(t, w.Flush())
			shiftRotated(t, base, rotations)
			require.NoError(t, os.Rename(base, base+".1"))
		}
		if i > 0 && i%per == 1000 {
			// The application reopens its log (SIGHUP).
			require.NoError(t, w.Flush())
			require.NoError(t, f.Close())
			f, err = os.OpenFile(base, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
			require.NoError(t, err)
			w.Reset(f)
		}
	}
	require.NoError(t, w.Flush())
	require.NoError(t, f.Close())

	want := map[int]bool{}
	for i := range rotationLines {
		want[i] = true
	}
	if !assertEventually(t, func() bool { return len(report(sink, want).missing) == 0 }, 10*time.Second) {
		rep := report(sink, want)
		slices.Sort(rep.missing)
		t.Fatalf("missing %d lines: first %v last %v; stats %s\n%s", len(rep.missing), rep.missing[:min(5, len(rep.missing))], rep.missing[max(0, len(rep.missing)-5):], statsString(r.src.Stats()), dumpState(r.src))
	}
	elapsed := time.Since(started)
	rep := report(sink, want)
	st := r.src.Stats()
	t.Logf("rename/create: %d lines, %d rotations, %s; dups=%d extra=%d renames=%d opened=%d closed=%d",
		rotationLines, rotations, elapsed.Round(time.Millisecond), len(rep.dups), len(rep.extra),
		st.RotationsRename.Load(), st.FilesOpened.Load(), st.FilesClosed.Load())
	require.Empty(t, rep.dups, "duplicates")
	require.Empty(t, rep.extra)
	require.Positive(t, st.RotationsRename.Load()) // best effort: renames faster than rescans are not all seen
	sink.requireNoProblems(t)
}

// copytruncate rotation under continuous writes, the way logrotate does
// it: copy app.log to app.log.1 while the writer keeps appending, then
// truncate app.log. The rotated copies match the include pattern (and are
// compressed at the next rotation). Lines written between the end of the
// copy and the truncation exist in no file; that window is inherent to
// copytruncate. Every line that is on disk afterwards must arrive exactly
// once; lines of the window may arrive (if they were read before the
// truncation) and must not arrive twice.
func TestRotationCopyTruncate(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "app.log")
	sink := newFakeSink(t)
	cfg := testConfig(base + "*")
	r := start(t, cfg, t.TempDir(), sink)
	started := time.Now()

	var written atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() {
		f, err := os.OpenFile(base, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			panic(err)
		}
		defer f.Close()
		var b []byte
		for i := range rotationLines {
			b = append(b, rotLine(i)...)
			b = append(b, '\n')
			if i%100 == 99 || i == rotationLines-1 {
				if _, err := f.Write(b); err != nil {
					panic(err)
				}
				b = b[:0]
				written.Store(int64(i + 1))
				time.Sleep(time.Millisecond) // pace: ~100k lines/s, rotations every ~0.2 s

			}
		}
	})
	per := int64(rotationLines / (rotations + 1))
	for k := 1; k <= rotations; k++ {
		require.Eventually(t, func() bool { return written.Load() >= int64(k)*per }, 30*time.Second, time.Millisecond)
		shiftRotated(t, base, rotations)
		src, err := os.Open(base)
		require.NoError(t, err)
		dst, err := os.Create(base + ".1")
		require.NoError(t, err)
		_, err = io.Copy(dst, src)
		require.NoError(t, err)
		require.NoError(t, dst.Close())
		require.NoError(t, src.Close())
		require.NoError(t, os.Truncate(base, 0))
	}
	wg.Wait()

	onDisk := idsOnDisk(t, dir)
	if !assertEventually(t, func() bool { return len(report(sink, onDisk).missing) == 0 }, 10*time.Second) {
		rep := report(sink, onDisk)
		slices.Sort(rep.missing)
		t.Fatalf("missing %d lines: first %v last %v; stats %s\n%s", len(rep.missing), rep.missing[:min(5, len(rep.missing))], rep.missing[max(0, len(rep.missing)-5):], statsString(r.src.Stats()), dumpState(r.src))
	}
	elapsed := time.Since(started)
	rep := report(sink, onDisk)
	window := rotationLines - len(onDisk)
	st := r.src.Stats()
	t.Logf("copytruncate: %d lines, %d rotations, %s; on disk=%d, in the copy/truncate window=%d (of which delivered=%d), dups=%d, truncations=%d, continued in copy=%d",
		rotationLines, rotations, elapsed.Round(time.Millisecond), len(onDisk), window, len(rep.extra), len(rep.dups),
		st.TruncationsDetected.Load(), st.RotationsCopyTruncate.Load())
	require.Empty(t, rep.missing)
	if len(rep.dups) > 0 {
		slices.Sort(rep.dups)
		t.Fatalf("%d duplicates: %v ... %v", len(rep.dups), rep.dups[:min(5, len(rep.dups))], rep.dups[max(0, len(rep.dups)-5):])
	}
	require.Positive(t, st.TruncationsDetected.Load())
	sink.requireNoProblems(t)
}

// Kubernetes layout: the include pattern matches symbolic links
// (/var/log/containers/*.log) whose targets live elsewhere
// (/var/log/pods/.../0.log), and the kubelet rotates a target by renaming
// it and creating a new one next to it. The target's directory is watched,
// so a new target is followed at once, not at the next rescan: with
// rescans off, every line of every generation must arrive exactly once.
func TestRotationBehindSymlink(t *testing.T) {
	dir := t.TempDir()
	pods := filepath.Join(dir, "pods", "ns_app_uid", "app")
	containers := filepath.Join(dir, "containers")
	require.NoError(t, os.MkdirAll(pods, 0o755))
	require.NoError(t, os.MkdirAll(containers, 0o755))
	target := filepath.Join(pods, "0.log")
	writeFile(t, target, "")
	require.NoError(t, os.Symlink(target, filepath.Join(containers, "app.log")))

	sink := newFakeSink(t)
	cfg := testConfig(filepath.Join(containers, "*.log"))
	cfg.RescanInterval = time.Hour // only fsnotify can find the new targets
	start(t, cfg, t.TempDir(), sink)
	time.Sleep(100 * time.Millisecond) // the first scan watched the directories

	const gens, per = 6, 500
	want := map[int]bool{}
	for g := range gens {
		for i := range per {
			n := g*per + i
			want[n] = true
			appendFile(t, target, rotLine(n)+"\n")
		}
		time.Sleep(50 * time.Millisecond)
		require.NoError(t, os.Rename(target, fmt.Sprintf("%s.%d", target, g))) // kubelet: 0.log -> 0.log.<ts>
		writeFile(t, target, "")
	}
	if !assertEventually(t, func() bool { return len(report(sink, want).missing) == 0 }, 10*time.Second) {
		rep := report(sink, want)
		t.Fatalf("missing %d of %d lines behind the symlink", len(rep.missing), len(want))
	}
	rep := report(sink, want)
	require.Empty(t, rep.dups, "duplicates")
	require.Empty(t, rep.extra)
	sink.requireNoProblems(t)
}
