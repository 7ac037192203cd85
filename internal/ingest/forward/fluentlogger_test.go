package forward

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fluent/fluent-logger-golang/fluent"
	"github.com/stretchr/testify/require"
)

// shortSocketPath returns a unix socket path short enough for sun_path.
func shortSocketPath(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "fw")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return filepath.Join(dir, "fluent.sock")
}

// TestFluentLogger drives the source with the real fluent-logger-golang
// client in each of its modes, over TCP and over the unix socket.
func TestFluentLogger(t *testing.T) {
	type mode struct {
		name                  string
		async, ack, subSecond bool
		unix                  bool
	}
	var modes []mode
	for _, unix := range []bool{false, true} {
		for _, async := range []bool{false, true} {
			for _, ack := range []bool{false, true} {
				for _, sub := range []bool{false, true} {
					name := fmt.Sprintf("tcp/async=%t/ack=%t/subsecond=%t", async, ack, sub)
					if unix {
						name = "unix" + name[3:]
					}
					modes = append(modes, mode{name, async, ack, sub, unix})
				}
			}
		}
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			lanes := newFakeLanes(t)
			cfg := testConfig()
			if m.unix {
				cfg.Listen = ""
				cfg.UnixSocket = shortSocketPath(t)
			}
			r := start(t, cfg, lanes)
			fc := fluent.Config{
				Async:              m.async,
				RequestAck:         m.ack,
				SubSecondPrecision: m.subSecond,
				Timeout:            2 * time.Second,
				ReadTimeout:        5 * time.Second,
				MaxRetry:           3,
				RetryWait:          50,
			}
			if m.unix {
				fc.FluentNetwork, fc.FluentSocketPath = "unix", cfg.UnixSocket
			} else {
				fc.FluentHost, fc.FluentPort = "127.0.0.1", r.port()
			}
			logger, err := fluent.New(fc)
			require.NoError(t, err)
			const n = 20
			base := time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC)
			for i := range n {
				tm := base.Add(time.Duration(i)*time.Second + 123456789*time.Nanosecond)
				rec := map[string]any{
					"message": fmt.Sprintf("hello %d", i),
					"n":       i,
					"bytes":   []byte("raw bytes"),
					"nested":  map[string]any{"k": "v", "list": []any{1, "two"}},
				}
				require.NoError(t, logger.PostWithTime("app.web", tm, rec))
			}
			require.NoError(t, logger.Close())
			got := lanes.waitLines(t, n)
			require.Len(t, got, n)
			for i, g := range got {
				require.Equal(t, "app.web", g.tag)
				f := g.fields
				require.Equal(t, fmt.Sprintf("hello %d", i), f["message"])
				require.EqualValues(t, i, f["n"])
				require.Equal(t, "raw bytes", f["bytes"])
				require.Equal(t, map[string]any{"k": "v", "list": []any{1.0, "two"}}, f["nested"])
				require.Equal(t, "app.web", f["fluent_tag"])
				want := base.Add(time.Duration(i) * time.Second)
				if m.subSecond {
					want = want.Add(123456789 * time.Nanosecond)
				}
				require.Equal(t, want.Format("2006-01-02T15:04:05.000000000Z"), f["time"])
			}
			st := r.src.Stats()
			eventually(t, func() bool { return st.Records.Load() == n }, "records counted")
			require.EqualValues(t, n, st.FramesMessage.Load())
			require.Zero(t, st.DecodeErrors.Load())
			if m.ack {
				eventually(t, func() bool { return st.AcksSent.Load() == n }, "acks counted")
			} else {
				require.Zero(t, st.AcksSent.Load())
			}
		})
	}
}

// TestDockerPartialMessages sends what Docker's fluentd driver sends for a
// line longer than 16 KiB (async, EventTime): the pieces arrive as separate
// lines, in order, with their partial_* fields for the normalizer to join.
func TestDockerPartialMessages(t *testing.T) {
	lanes := newFakeLanes(t)
	cfg := testConfig()
	cfg.Listen = ""
	cfg.UnixSocket = shortSocketPath(t)
	start(t, cfg, lanes)
	logger, err := fluent.New(fluent.Config{FluentNetwork: "unix", FluentSocketPath: cfg.UnixSocket, Async: true,
		SubSecondPrecision: true, BufferLimit: 1 << 10, MaxRetry: 3, RetryWait: 50})
	require.NoError(t, err)
	tag := "web-firelens-0123456789abcdef"
	pieces := []string{string(make16k('a')), string(make16k('b')), "tail"}
	base := map[string]string{
		"container_id":   "4f3c2b1a",
		"container_name": "/ecs-web-1-web-abcdef",
		"source":         "stdout",
	}
	for i, p := range pieces {
		rec := map[string]string{"log": p, "partial_message": "true", "partial_id": "pid1",
			"partial_ordinal": fmt.Sprint(i + 1), "partial_last": fmt.Sprint(i == len(pieces)-1)}
		for k, v := range base {
			rec[k] = v
		}
		require.NoError(t, logger.PostWithTime(tag, t0, rec))
	}
	require.NoError(t, logger.PostWithTime(tag, t1, map[string]string{"log": "next line", "source": "stderr",
		"container_id": "4f3c2b1a", "container_name": "/ecs-web-1-web-abcdef"}))
	require.NoError(t, logger.Close())
	got := lanes.waitLines(t, 4)
	for i, p := range pieces {
		f := got[i].fields
		require.Equal(t, tag, got[i].tag)
		require.Equal(t, p, f["log"])
		require.Equal(t, "true", f["partial_message"])
		require.Equal(t, fmt.Sprint(i+1), f["partial_ordinal"])
		require.Equal(t, fmt.Sprint(i == len(pieces)-1), f["partial_last"])
		require.Equal(t, "stdout", f["source"])
		require.Equal(t, "/ecs-web-1-web-abcdef", f["container_name"])
		require.Equal(t, "2026-08-01T10:30:45.123456789Z", f["time"])
		require.NotContains(t, f, "fluent_tag", "records with container_name carry no fluent_tag")
	}
	require.Equal(t, "next line", got[3].fields["log"])
	require.Equal(t, "stderr", got[3].fields["source"])
}

func make16k(c byte) []byte {
	b := make([]byte, 16<<10)
	for i := range b {
		b[i] = c
	}
	return b
}
