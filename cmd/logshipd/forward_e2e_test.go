package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fluent/fluent-logger-golang/fluent"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// A Forward client with RequestAck gets no ack while the only sink cannot
// deliver (its directory is blocked by a file), and gets it once the
// records are written.
func TestForwardAckOnlyAfterDelivery(t *testing.T) {
	if testing.Short() {
		t.Skip("process-level test")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	blocked := filepath.Join(dir, "out")
	require.NoError(t, os.WriteFile(blocked, []byte("not a directory"), 0o600)) // the sink's MkdirAll fails
	port := freePort(t)
	cfg := filepath.Join(dir, "c.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(fmt.Sprintf(`data_dir: %s
sources:
  - {name: firelens, type: forward, listen: "127.0.0.1:%d", health_listen: ""}
sinks:
  - name: local
    type: file
    path: %s/app.jsonl
    queue: {initial_backoff: 50ms, max_backoff: 200ms}
`, filepath.Join(dir, "data"), port, blocked)), 0o600))
	daemon := exec.Command(bin, "run", "-c", cfg)
	daemon.Stderr, _ = os.Create(filepath.Join(dir, "stderr.log"))
	require.NoError(t, daemon.Start())
	defer func() {
		daemon.Process.Signal(syscall.SIGTERM)
		daemon.Wait()
	}()
	require.Eventually(t, func() bool {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
		}
		return err == nil
	}, 10*time.Second, 20*time.Millisecond)

	logger, err := fluent.New(fluent.Config{FluentHost: "127.0.0.1", FluentPort: port, RequestAck: true, Timeout: 3 * time.Second,
		WriteTimeout: 3 * time.Second, MaxRetry: 0, SubSecondPrecision: true})
	require.NoError(t, err)
	defer logger.Close()
	sent := make(chan error, 1)
	go func() {
		sent <- logger.Post("app", map[string]string{"log": `{"level":"error","msg":"boom"}`, "container_name": "/api", "source": "stdout"})
	}()
	select {
	case err := <-sent:
		t.Fatalf("Post returned before the record was delivered (err=%v): the ack came too early", err)
	case <-time.After(1500 * time.Millisecond):
	}
	require.NoError(t, os.Remove(blocked)) // the destination comes back
	select {
	case err := <-sent:
		// fluent-logger-golang may have timed out waiting for the ack while the
		// sink was down; what matters is that the record is written now and that
		// the ack was never sent before delivery.
		_ = err
	case <-time.After(15 * time.Second):
		t.Fatal("no answer after delivery")
	}
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(filepath.Join(blocked, "app.jsonl"))
		return err == nil && strings.Contains(string(b), `"message":"boom"`)
	}, 10*time.Second, 50*time.Millisecond)
	b, _ := os.ReadFile(filepath.Join(blocked, "app.jsonl"))
	assert.Contains(t, string(b), `"container_name":"/api"`)

	// With the sink up, a RequestAck post returns quickly and successfully.
	start := time.Now()
	require.NoError(t, logger.Post("app", map[string]string{"log": "second", "container_name": "/api", "source": "stdout"}))
	assert.Less(t, time.Since(start), 5*time.Second)
}
