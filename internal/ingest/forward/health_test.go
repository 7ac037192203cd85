package forward

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestHealth(t *testing.T) {
	cfg := testConfig()
	cfg.HealthListen = "127.0.0.1:0"
	cfg.HTTPListen = "127.0.0.1:0"
	r := start(t, cfg, newFakeLanes(t))

	// FireLens-style TCP check: connect succeeds, the server closes.
	c, err := net.DialTimeout("tcp", r.src.HealthAddr().String(), 5*time.Second)
	require.NoError(t, err)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
	_, err = c.Read(make([]byte, 1))
	require.ErrorIs(t, err, io.EOF)
	require.NoError(t, c.Close())

	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := client.Get("http://" + r.src.HTTPAddr().String() + path)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		require.NoError(t, resp.Body.Close())
	}

	r.stop(t)
	h := r.src.Handler()
	for _, path := range []string{"/healthz", "/readyz"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		require.Equal(t, http.StatusServiceUnavailable, rec.Code, path)
	}
}

func TestECSMetadata(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if calls.Add(1) == 1 {
			http.Error(w, "not yet", http.StatusInternalServerError) // first try fails: retried
			return
		}
		if req.URL.Path != "/v4/abc/task" {
			http.NotFound(w, req)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{
			"Cluster": "arn:aws:ecs:eu-west-1:123:cluster/prod", "TaskARN": "arn:aws:ecs:eu-west-1:123:task/prod/abc",
			"Family": "api", "Revision": "12", "AvailabilityZone": "eu-west-1b", "Containers": []any{},
		})
	}))
	defer srv.Close()
	defer srv.CloseClientConnections()
	t.Setenv(EnvECSMetadataURI, srv.URL+"/v4/abc")
	oldBackoff := ecsFirstBackoff
	ecsFirstBackoff = 10 * time.Millisecond
	defer func() { ecsFirstBackoff = oldBackoff }()

	cfg := testConfig()
	cfg.ECSMetadata = "auto"
	lanes := newFakeLanes(t)
	r := start(t, cfg, lanes)
	c := dial(t, r)
	_, err := c.Write(mp{}.arr(3).str("web-firelens-abc").eventTime(t0, false).
		kv("log", "hello", "source", "stdout", "container_name", "/web", "container_id", "c1"))
	require.NoError(t, err)
	f := lanes.waitLines(t, 1)[0].fields
	require.Equal(t, "arn:aws:ecs:eu-west-1:123:cluster/prod", f["ecs_cluster"])
	require.Equal(t, "arn:aws:ecs:eu-west-1:123:task/prod/abc", f["ecs_task_arn"])
	require.Equal(t, "api:12", f["ecs_task_definition"])
	require.Equal(t, "eu-west-1b", f["ecs_availability_zone"])
	require.Equal(t, "2026-08-01T10:30:45.123456789Z", f["time"])
	require.EqualValues(t, 1, r.src.Stats().ECSMetadataErrors.Load())
}

func TestECSMetadataUnavailable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens there now
	t.Setenv(EnvECSMetadataURI, "http://"+addr+"/v4/x")
	oldTries, oldBackoff := ecsTries, ecsFirstBackoff
	ecsTries, ecsFirstBackoff = 2, 10*time.Millisecond
	defer func() { ecsTries, ecsFirstBackoff = oldTries, oldBackoff }()
	cfg := testConfig()
	cfg.ECSMetadata = "auto"
	lanes := newFakeLanes(t)
	r := start(t, cfg, lanes)
	c := dial(t, r)
	_, err = c.Write(mp{}.arr(3).str("t").int(1).kv("log", "x", "source", "stdout"))
	require.NoError(t, err)
	f := lanes.waitLines(t, 1)[0].fields
	require.NotContains(t, f, "ecs_cluster")
	eventually(t, func() bool { return r.src.Stats().ECSMetadataErrors.Load() == 2 }, "errors counted")
}
