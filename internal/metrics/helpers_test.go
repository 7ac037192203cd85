package metrics

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/starmates/logshipd/internal/event"
	"github.com/starmates/logshipd/internal/normalize"
)

// normalizeBatch runs lines through the real normalizer into one batch.
func normalizeBatch(t testing.TB, lines ...string) *event.Batch {
	t.Helper()
	cfg := normalize.DefaultConfig()
	cfg.LevelFilter = map[string]string{}
	eng, err := normalize.New(cfg, nil)
	require.NoError(t, err)
	b := &event.Batch{}
	st := eng.NewStream(event.Origin{Kind: "file", Path: "/var/log/test.log"}, func(r *event.Record) {
		b.Append(r, "test", "/var/log/test.log")
	})
	now := time.Date(2026, 11, 25, 22, 0, 0, 0, time.UTC)
	for _, l := range lines {
		st.Write([]byte(l), now)
	}
	st.Flush(now)
	return b
}

func newTestDeriver(t testing.TB, mut func(*Config), opts ...Option) *Deriver {
	t.Helper()
	cfg := DefaultConfig()
	if mut != nil {
		mut(&cfg)
	}
	d, err := NewDeriver(cfg, nil, opts...)
	require.NoError(t, err)
	return d
}

// scrape gathers reg through promhttp; openMetrics negotiates OpenMetrics.
func scrape(t testing.TB, h http.Handler, openMetrics bool) (string, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	if openMetrics {
		req.Header.Set("Accept", "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	body, err := io.ReadAll(rec.Result().Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, rec.Code, string(body))
	return rec.Header().Get("Content-Type"), string(body)
}

func serverFor(t testing.TB, cs ...prometheus.Collector) *Server {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	s := NewServer(cfg, nil)
	s.Registry().MustRegister(cs...)
	return s
}

// lines returns the exposition lines starting with prefix.
func lines(body, prefix string) []string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return out
}

// fakeClock is a settable clock.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func mustListen(t testing.TB, addr string) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	return ln
}

// normalizeStats runs text through a real engine and returns its counters.
func normalizeStats(t testing.TB, lines ...string) *normalize.Stats {
	t.Helper()
	st := &normalize.Stats{}
	eng, err := normalize.New(normalize.DefaultConfig(), st)
	require.NoError(t, err)
	s := eng.NewStream(event.Origin{Kind: "stdin"}, func(*event.Record) {})
	now := time.Now()
	for _, l := range lines {
		for _, ln := range strings.Split(strings.TrimSuffix(l, "\n"), "\n") {
			s.Write([]byte(ln), now)
		}
	}
	s.Flush(now)
	return st
}
