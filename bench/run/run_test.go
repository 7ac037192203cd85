package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	if got := summarize([]float64{3, 1, 2}); got != (stat{2, 1, 3}) {
		t.Errorf("odd: %+v", got)
	}
	if got := summarize([]float64{4, 1, 2, 3}); got != (stat{2.5, 1, 4}) {
		t.Errorf("even: %+v", got)
	}
	if got := summarize(nil).format(1); got != "–" {
		t.Errorf("empty: %q", got)
	}
	if got := (stat{2, 1, 3}).format(1); got != "2.0 (1.0–3.0)" {
		t.Errorf("format: %q", got)
	}
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 1000; i++ {
		d = append(d, time.Duration(i))
	}
	for p, want := range map[float64]time.Duration{50: 500, 99: 990, 99.9: 999, 100: 1000, 0: 1} {
		if got := percentile(d, p); got != want {
			t.Errorf("p%v = %v, want %v", p, got, want)
		}
	}
	if percentile(nil, 99) != 0 {
		t.Error("empty")
	}
}

func TestJudge(t *testing.T) {
	if v := judge(stat{170, 150, 180}, 160, true); v != "met (range straddles the target)" {
		t.Error(v)
	}
	if v := judge(stat{2, 1, 2.5}, 3, false); v != "met" {
		t.Error(v)
	}
	if v := judge(stat{100, 90, 110}, 160, true); v != "**missed**" {
		t.Error(v)
	}
}

func TestParseBench(t *testing.T) {
	out := `goos: linux
pkg: github.com/starmates/logshipd/bench/micro
cpu: AMD EPYC
BenchmarkStream/W1-json/auto-2         	  429904	      3166 ns/op	  91.93 MB/s	      3166 ns/record	    315900 records/s	       0 B/op	       0 allocs/op
BenchmarkBroken-2 	 x 	 1 ns/op
PASS
`
	ls := parseBench(out)
	if len(ls) != 1 {
		t.Fatalf("%+v", ls)
	}
	l := ls[0]
	if l.Pkg != "github.com/starmates/logshipd/bench/micro" || l.Name != "BenchmarkStream/W1-json/auto-2" || l.N != 429904 {
		t.Errorf("%+v", l)
	}
	if v, ok := l.get("MB/s"); !ok || v != 91.93 {
		t.Errorf("MB/s %v", v)
	}
	if v, ok := l.get("records/s"); !ok || v != 315900 {
		t.Errorf("records/s %v", v)
	}
}

func TestUpdateDoc(t *testing.T) {
	p := filepath.Join(t.TempDir(), "docs", "performance.md")
	if err := updateDoc(p, "one\n"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	if !strings.Contains(string(b), beginMark+"\none\n"+endMark) {
		t.Fatalf("created: %q", b)
	}
	doc := "# Perf\n\nintro\n\n" + beginMark + "\nold\n" + endMark + "\n\n## Hand-written\n"
	os.WriteFile(p, []byte(doc), 0o644)
	if err := updateDoc(p, "new\n"); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(p)
	if want := "# Perf\n\nintro\n\n" + beginMark + "\nnew\n" + endMark + "\n\n## Hand-written\n"; string(b) != want {
		t.Errorf("replaced:\n%s\nwant:\n%s", b, want)
	}
}

func TestLineCounterAndCheckpoint(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out")
	lc := &lineCounter{path: p}
	defer lc.close()
	if n, err := lc.poll(); n != 0 || err != nil {
		t.Fatal(n, err)
	}
	f, _ := os.Create(p)
	defer f.Close()
	f.WriteString("a\nb\nc")
	if n, _ := lc.poll(); n != 2 {
		t.Errorf("lines %d", n)
	}
	f.WriteString("\nd\n")
	if n, _ := lc.poll(); n != 4 || lc.size() != 8 {
		t.Errorf("lines %d size %d", n, lc.size())
	}

	if off, _, err := checkpointOf(dir, "bench", "/x.log"); off != 0 || err != nil {
		t.Fatal(off, err)
	}
	os.MkdirAll(filepath.Join(dir, "checkpoints"), 0o755)
	os.WriteFile(filepath.Join(dir, "checkpoints", "bench.json"), []byte(`{"version":1,"source":"bench","entries":[
		{"device":1,"inode":2,"path":"/other.log","offset":5,"updated":"2026-11-26T00:31:15Z"},
		{"device":1,"inode":3,"path":"/x.log","offset":58303716,"updated":"2026-11-26T00:31:15.969001859Z"}]}`), 0o644)
	off, upd, err := checkpointOf(dir, "bench", "/x.log")
	if err != nil || off != 58303716 || upd.Nanosecond() != 969001859 {
		t.Errorf("%d %v %v", off, upd, err)
	}
}

func TestOptions(t *testing.T) {
	o := options{n: 1, runs: 1, workloads: []string{"w1", "docker"}, shapes: shapes, latRate: 1, latDur: time.Second, tmp: "/dev/shm/x"}
	if err := o.check(); err != nil {
		t.Error(err)
	}
	o.workloads = []string{"w9"}
	o.shapes = []string{"bogus"}
	if err := o.check(); err == nil || !strings.Contains(err.Error(), "w9") || !strings.Contains(err.Error(), "bogus") {
		t.Error(err)
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{"-n": "-n", "": "''", "a b": "'a b'", "it's": `'it'\''s'`, "-out=docs/performance.md": "-out=docs/performance.md"} {
		if got := shellQuote(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}
