package workload

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// TestExistingKindsUnchanged pins the bytes of the original kinds: the
// micro-benchmarks and earlier results depend on them.
func TestExistingKindsUnchanged(t *testing.T) {
	want := map[string]string{
		"json":   "57a50999674fb802d34816121342b212c346c285d34f698b88fd6f746bd40c83",
		"nginx":  "d8faf03985039c29dbe943752987d4abb29f284bc97f45d212690495cfbe7253",
		"python": "b44396f5f9329ec57b6fb86d9534a8ae884b198a4a94b9f4dd2adeab537dad9d",
		"docker": "fb0e701f017864f7a329da70dc47fafdbcb558b90154a7c16ae22b72a926e0fa",
		"logfmt": "05b034087da5707697f114f68a2109da5046b152eb2452c5d0f4786abbbc3d1b",
	}
	for _, k := range Kinds {
		for _, generate := range []func(*bytes.Buffer) error{
			func(b *bytes.Buffer) error { return Generate(b, k, 2000, 1) },
			func(b *bytes.Buffer) error { return GenerateAny(b, k, 2000, 1) },
		} {
			var b bytes.Buffer
			if err := generate(&b); err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprintf("%x", sha256.Sum256(b.Bytes())); got != want[k] {
				t.Errorf("%s: sha256 %s, want %s", k, got, want[k])
			}
		}
	}
}

func genBytes(t *testing.T, kind string, n int, seed uint64) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := GenerateAny(&b, kind, n, seed); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestDeterministic(t *testing.T) {
	for _, k := range ExtraKinds {
		a, b, c := genBytes(t, k, 3000, 7), genBytes(t, k, 3000, 7), genBytes(t, k, 3000, 8)
		if !bytes.Equal(a, b) {
			t.Errorf("%s: same seed, different bytes", k)
		}
		if bytes.Equal(a, c) {
			t.Errorf("%s: different seeds, same bytes", k)
		}
	}
	if err := GenerateAny(&bytes.Buffer{}, "nope", 1, 1); err == nil {
		t.Error("unknown kind accepted")
	}
}

// TestPython2Tracebacks: ~2 % ERROR records, each followed by a traceback
// of 5-15 lines, every length occurring; records = n.
func TestPython2Tracebacks(t *testing.T) {
	const n = 100000
	sc := bufio.NewScanner(bytes.NewReader(genBytes(t, "python2", n, 1)))
	records, errs, tb := 0, 0, -1
	lengths := map[int]int{}
	endTB := func() {
		if tb >= 0 {
			lengths[tb]++
		}
		tb = -1
	}
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "2026-"):
			endTB()
			records++
			if strings.Contains(l, " - ERROR - ") {
				errs++
				tb = 0
			}
		case tb >= 0:
			tb++
		default:
			t.Fatalf("continuation line outside a traceback: %q", l)
		}
	}
	endTB()
	if records != n {
		t.Errorf("records %d, want %d", records, n)
	}
	if frac := float64(errs) / n; frac < 0.015 || frac > 0.025 {
		t.Errorf("ERROR fraction %.3f, want ~0.02", frac)
	}
	for l := range lengths {
		if l < 5 || l > 15 {
			t.Errorf("traceback of %d lines", l)
		}
	}
	for l := 5; l <= 15; l++ {
		if lengths[l] == 0 {
			t.Errorf("no traceback of %d lines", l)
		}
	}
}

func TestFireLens(t *testing.T) {
	const n = 20000
	sc := bufio.NewScanner(bytes.NewReader(genBytes(t, "firelens", n, 1)))
	lines, size, nested, access := 0, 0, 0, 0
	for sc.Scan() {
		lines++
		size += len(sc.Bytes()) + 1
		var r map[string]any
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %d: %v", lines, err)
		}
		for _, k := range []string{"log", "container_id", "container_name", "source", "ecs_cluster", "ecs_task_arn", "ecs_task_definition"} {
			if _, ok := r[k].(string); !ok {
				t.Fatalf("line %d: no string %q: %s", lines, k, sc.Bytes())
			}
		}
		log := r["log"].(string)
		switch {
		case strings.HasPrefix(log, "INFO:     "):
			access++
		case json.Valid([]byte(log)):
			if strings.Contains(log, `"request":{`) {
				nested++
			}
		default:
			t.Fatalf("line %d: payload neither JSON nor an access line: %q", lines, log)
		}
	}
	if lines != n {
		t.Errorf("lines %d, want %d", lines, n)
	}
	if f := float64(nested) / n; f < 0.35 || f > 0.45 {
		t.Errorf("nested request/response fraction %.2f, want ~0.4", f)
	}
	if f := float64(access) / n; f < 0.08 || f > 0.12 {
		t.Errorf("access line fraction %.2f, want ~0.1", f)
	}
	t.Logf("firelens: %d B/line", size/n)
}
