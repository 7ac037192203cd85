package lokitest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Environment variables of the integration tests.
const (
	// EnvIntegration must be "1" for the integration tests to run.
	EnvIntegration = "LOGSHIPD_INTEGRATION"
	// EnvBin overrides the victoria-logs binary
	// (default <repo>/.cache/tools/bin/victoria-logs).
	EnvBin = "LOGSHIPD_VICTORIALOGS_BIN"
)

// RequireIntegration skips t unless LOGSHIPD_INTEGRATION=1.
func RequireIntegration(t testing.TB) {
	t.Helper()
	if os.Getenv(EnvIntegration) != "1" {
		t.Skipf("integration test: set %s=1 to run it against a real VictoriaLogs", EnvIntegration)
	}
}

// BinPath returns the victoria-logs binary to run and whether it exists.
func BinPath() (string, bool) {
	p := os.Getenv(EnvBin)
	if p == "" {
		root, err := repoRoot()
		if err != nil {
			return "", false
		}
		p = filepath.Join(root, ".cache", "tools", "bin", "victoria-logs")
	}
	st, err := os.Stat(p)
	return p, err == nil && !st.IsDir()
}

// repoRoot walks up from the working directory to the module root.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && bytes.Contains(b, []byte("module github.com/starmates/logshipd\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("module root not found")
		}
		dir = parent
	}
}

// VictoriaLogs is a victoria-logs process on a loopback port with its
// storage in a temporary directory.
type VictoriaLogs struct {
	t    testing.TB
	bin  string
	dir  string
	addr string
	out  *logBuffer

	mu   sync.Mutex
	cmd  *exec.Cmd
	exit chan struct{}
}

// StartVictoriaLogs starts victoria-logs and stops it at the end of the
// test. It fails t when the binary is missing.
func StartVictoriaLogs(t testing.TB) *VictoriaLogs {
	t.Helper()
	bin, ok := BinPath()
	if !ok {
		t.Fatalf("victoria-logs binary not found at %q (set %s, or build it into .cache/tools/bin)", bin, EnvBin)
	}
	v := &VictoriaLogs{t: t, bin: bin, dir: t.TempDir(), out: &logBuffer{}}
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if v.addr, err = freeAddr(); err != nil {
			continue
		}
		if err = v.start(); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("start victoria-logs: %v\n%s", err, v.out.tail())
	}
	t.Cleanup(func() {
		v.Stop()
		if t.Failed() {
			t.Logf("victoria-logs output (tail):\n%s", v.out.tail())
		}
	})
	return v
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// URL returns the server's base URL.
func (v *VictoriaLogs) URL() string { return "http://" + v.addr }

// PushURL returns the Loki push URL with the given query ("" for none).
func (v *VictoriaLogs) PushURL(query string) string {
	u := v.URL() + "/insert/loki/api/v1/push"
	if query != "" {
		u += "?" + query
	}
	return u
}

func (v *VictoriaLogs) start() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.cmd != nil {
		return errors.New("already running")
	}
	cmd := exec.Command(v.bin,
		"-storageDataPath="+v.dir,
		"-httpListenAddr="+v.addr,
		"-retentionPeriod=30d",
		"-loggerLevel=WARN",
		"-loggerOutput=stderr",
	)
	cmd.Stdout = v.out
	cmd.Stderr = v.out
	if err := cmd.Start(); err != nil {
		return err
	}
	exit := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exit)
	}()
	v.cmd, v.exit = cmd, exit
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exit:
			v.cmd = nil
			return fmt.Errorf("victoria-logs exited: %v", cmd.ProcessState)
		default:
		}
		resp, err := http.Get(v.URL() + "/insert/loki/ready")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	v.stopLocked()
	return errors.New("victoria-logs not ready after 30s")
}

// Restart starts the server again on the same address and storage (safe
// to call from any goroutine).
func (v *VictoriaLogs) Restart() error {
	if err := v.start(); err != nil {
		return fmt.Errorf("restart victoria-logs: %w\n%s", err, v.out.tail())
	}
	return nil
}

// Stop stops the server gracefully (SIGINT: it flushes its buffers), then
// kills it after 30 s. Stopping a stopped server does nothing.
func (v *VictoriaLogs) Stop() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.stopLocked()
}

func (v *VictoriaLogs) stopLocked() {
	if v.cmd == nil {
		return
	}
	_ = v.cmd.Process.Signal(os.Interrupt)
	select {
	case <-v.exit:
	case <-time.After(30 * time.Second):
		_ = v.cmd.Process.Kill()
		<-v.exit
	}
	v.cmd = nil
}

// Row is one log as the LogsQL query API returns it: every field as a
// string (_time, _stream, _msg, labels, metadata, parsed fields).
type Row map[string]string

// Query runs a LogsQL query (all rows, no limit) for the tenant
// "account:project" ("" for the default tenant).
func (v *VictoriaLogs) Query(ctx context.Context, tenant, logsql string) ([]Row, error) {
	form := url.Values{"query": {logsql}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.URL()+"/select/logsql/query", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if tenant != "" {
		acc, proj, _ := strings.Cut(tenant, ":")
		req.Header.Set("AccountID", acc)
		if proj != "" {
			req.Header.Set("ProjectID", proj)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("query %q: HTTP %d: %s", logsql, resp.StatusCode, b)
	}
	var rows []Row
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var r Row
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("query %q: row %q: %w", logsql, sc.Bytes(), err)
		}
		rows = append(rows, r)
	}
	return rows, sc.Err()
}

// Count returns the number of rows matching a LogsQL filter.
func (v *VictoriaLogs) Count(ctx context.Context, tenant, filter string) (int, error) {
	rows, err := v.Query(ctx, tenant, filter+" | stats count() as n")
	if err != nil {
		return 0, err
	}
	if len(rows) != 1 {
		return 0, fmt.Errorf("count: %d rows", len(rows))
	}
	return strconv.Atoi(rows[0]["n"])
}

// WaitCount polls Count until it reaches want (rows become searchable a
// moment after ingestion) or the timeout passes; it returns the last count.
func (v *VictoriaLogs) WaitCount(ctx context.Context, tenant, filter string, want int, timeout time.Duration) (int, error) {
	deadline := time.Now().Add(timeout)
	for {
		n, err := v.Count(ctx, tenant, filter)
		if (err == nil && n >= want) || time.Now().After(deadline) {
			return n, err
		}
		select {
		case <-ctx.Done():
			return n, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// WaitQuery polls Query until it returns at least want rows or the timeout
// passes (a count can see new rows a moment before a query does); it
// returns the last result.
func (v *VictoriaLogs) WaitQuery(ctx context.Context, tenant, logsql string, want int, timeout time.Duration) ([]Row, error) {
	deadline := time.Now().Add(timeout)
	for {
		rows, err := v.Query(ctx, tenant, logsql)
		if (err == nil && len(rows) >= want) || time.Now().After(deadline) {
			return rows, err
		}
		select {
		case <-ctx.Done():
			return rows, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// logBuffer keeps the last 64 KiB of the server's output.
type logBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if len(b.buf) > 64<<10 {
		b.buf = append(b.buf[:0], b.buf[len(b.buf)-64<<10:]...)
	}
	return len(p), nil
}

func (b *logBuffer) tail() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := string(b.buf)
	if len(s) > 8<<10 {
		s = s[len(s)-8<<10:]
	}
	return s
}
