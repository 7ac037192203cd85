package main

import (
	"bufio"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/starmates/logshipd/internal/sink/cloudwatch/cwdouble"
)

// outageDuration is 30 s by default (the figure); set
// LOGSHIPD_OUTAGE=5s for a quick local run.
func outageDuration(t *testing.T) time.Duration {
	if v := os.Getenv("LOGSHIPD_OUTAGE"); v != "" {
		d, err := time.ParseDuration(v)
		require.NoError(t, err)
		return d
	}
	return 30 * time.Second
}

// TestCloudWatchOutageWithKill9: CloudWatch (the strict double) is down for
// 30 s while 50k lines flow; the daemon is killed with SIGKILL in the middle
// of the outage and restarted. The file sink keeps delivering during the
// outage, nothing is lost once CloudWatch is back, and memory stays bounded.
func TestCloudWatchOutageWithKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("process-level outage test")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	require.NoError(t, os.MkdirAll(logs, 0o750))
	double := cwdouble.New(cwdouble.Options{})
	var down atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			w.Header().Set("X-Amzn-ErrorType", "ServiceUnavailableException")
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(`{"__type":"ServiceUnavailableException","message":"outage"}`))
			return
		}
		double.ServeHTTP(w, r)
	}))
	defer srv.Close()
	cfg := filepath.Join(dir, "c.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(fmt.Sprintf(`data_dir: %s
shutdown_grace: 5s
sources:
  - {name: app, type: file, include: ["%s/*.log"], service: api-gateway}
sinks:
  - name: cw
    type: cloudwatch
    region: us-east-1
    endpoint: %s
    queue: {buffer: disk, max_disk_bytes: 268435456, initial_backoff: 100ms, max_backoff: 1s}
  - {name: local, type: file, path: %s/out.jsonl}
`, filepath.Join(dir, "data"), logs, srv.URL, dir)), 0o600))
	env := append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_EC2_METADATA_DISABLED=true")
	start := func(i int) *exec.Cmd {
		c := exec.Command(bin, "run", "-c", cfg)
		c.Env = env
		c.Stderr, _ = os.Create(filepath.Join(dir, fmt.Sprintf("stderr-%d.log", i)))
		require.NoError(t, c.Start())
		return c
	}
	const total = 50000
	outage := outageDuration(t)
	daemon := start(0)
	down.Store(true)
	outageStart := time.Now()

	// ~50k lines spread over 60 % of the outage.
	f, err := os.Create(filepath.Join(logs, "app.log"))
	require.NoError(t, err)
	w := bufio.NewWriter(f)
	per := time.Duration(float64(outage) * 0.6 / (total / 500))
	killed := false
	peakRSS := int64(0)
	for i := range total {
		fmt.Fprintf(w, `{"level":"info","msg":"line %d","tracking_id":"10e5391e-970b-4dcf-8be2-4cd703d8ff2e"}`+"\n", i)
		if i%500 == 499 {
			w.Flush()
			time.Sleep(per)
			peakRSS = max(peakRSS, vmHWM(daemon.Process.Pid))
		}
		if !killed && i == total/2 {
			w.Flush()
			require.NoError(t, daemon.Process.Signal(syscall.SIGKILL))
			_ = daemon.Wait()
			daemon = start(1)
			killed = true
		}
	}
	require.NoError(t, w.Flush())
	require.NoError(t, f.Close())
	// The file sink is not held back by the CloudWatch outage.
	require.Eventually(t, func() bool { return countLines(t, filepath.Join(dir, "out.jsonl")) >= total },
		max(time.Until(outageStart.Add(outage)), 5*time.Second), 50*time.Millisecond, "file sink delivered everything during the outage")
	assert.True(t, down.Load())
	time.Sleep(time.Until(outageStart.Add(outage)))
	down.Store(false)
	t.Logf("outage of %s over; file sink had all %d lines before it ended", outage, total)

	distinct := func() (map[int]bool, int) {
		seen := map[int]bool{}
		n := 0
		for _, evs := range double.AllEvents() {
			for _, e := range evs {
				v, err := strconv.Atoi(strings.TrimPrefix(gjson.Get(e.Message, "message").Str, "line "))
				if err == nil {
					seen[v] = true
					n++
				}
			}
		}
		return seen, n
	}
	require.Eventually(t, func() bool { s, _ := distinct(); return len(s) == total }, 60*time.Second, 200*time.Millisecond, "every line reaches CloudWatch after the outage")
	peakRSS = max(peakRSS, vmHWM(daemon.Process.Pid))
	require.NoError(t, daemon.Process.Signal(syscall.SIGTERM))
	require.NoError(t, daemon.Wait())
	seen, n := distinct()
	t.Logf("CloudWatch events: %d (distinct %d, duplicates %d), peak RSS of the restarted daemon %d MiB", n, len(seen), n-len(seen), peakRSS>>10)
	assert.Len(t, seen, total)
	assert.Less(t, peakRSS>>10, int64(256), "memory bounded while CloudWatch is down (disk buffer)")
	for g := range double.AllEvents() {
		assert.True(t, strings.HasPrefix(g, "/ai-teams/dev/api-gateway"), g)
	}
}

// vmHWM returns a process's peak resident set in KiB (0 if unknown).
func vmHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}
