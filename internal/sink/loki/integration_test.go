package loki

// Integration tests against a real VictoriaLogs (it speaks the Loki push
// protocol; Loki itself is AGPL and not available here). Run with
//
//	LOGSHIPD_INTEGRATION=1 go test ./internal/sink/loki/
//
// LOGSHIPD_VICTORIALOGS_BIN overrides the binary; LOGSHIPD_LOKI_OUTAGE (a
// duration, default 5s) and LOGSHIPD_LOKI_OUTAGE_RECORDS (default 50000)
// size the outage test.

import (
	"context"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/starmates/logshipd/internal/event"
	"github.com/starmates/logshipd/internal/sink/loki/lokitest"
)

// flatten turns a JSON record into VictoriaLogs' field view: nested keys
// joined with dots, scalars as text, empty values left out.
func flattenJSON(line []byte) map[string]string {
	out := map[string]string{}
	var walk func(prefix string, r gjson.Result)
	walk = func(prefix string, r gjson.Result) {
		r.ForEach(func(k, v gjson.Result) bool {
			name := k.String()
			if prefix != "" {
				name = prefix + "." + name
			}
			switch {
			case v.IsObject():
				walk(name, v)
			case v.Type == gjson.String:
				if v.Str != "" {
					out[name] = v.Str
				}
			default:
				out[name] = v.Raw
			}
			return true
		})
	}
	walk("", gjson.ParseBytes(line))
	return out
}

// expected is what VictoriaLogs should hold for one batch item.
type expected struct {
	time   time.Time
	labels map[string]string
	meta   map[string]string
	line   string // as pushed (after truncation)
}

func expectFor(t *testing.T, s *Sink, b *event.Batch) map[string]expected {
	t.Helper()
	out := map[string]expected{}
	for i := range b.Items {
		it := &b.Items[i]
		ls, ok := parseLabels(string(appendLabels(nil, s.labels, it)))
		require.True(t, ok)
		meta := map[string]string{"tracking_id": it.TrackingID}
		if it.HasTrace {
			meta["trace_id"] = hex.EncodeToString(it.TraceID[:])
		}
		if it.HasSpan {
			meta["span_id"] = hex.EncodeToString(it.SpanID[:])
		}
		line, _ := truncateLine(b.JSON(i), s.cfg.MaxLineBytes)
		out[it.TrackingID] = expected{time: it.Time, labels: ls, meta: meta, line: string(line)}
	}
	return out
}

func TestVictoriaLogsRoundTrip(t *testing.T) {
	lokitest.RequireIntegration(t)
	vl := lokitest.StartVictoriaLogs(t)
	ctx := t.Context()

	now := time.Now().UTC().Truncate(time.Second)
	recs := genRecs(600, now.Add(-time.Hour), 0)
	// Shuffle within each batch so the sink has to sort streams by time.
	for i := 0; i+10 <= len(recs); i += 10 {
		slices.Reverse(recs[i : i+10])
	}
	recs[7].Message = strings.Repeat("long message ✓ ", 30_000) // ~510 KB, twice: truncated
	recs[8].Service = `we"ird\svc`

	for _, mode := range []struct {
		name, tenant, query string
		parsed              bool
	}{
		// The brief's URL: the JSON line is parsed into fields, _msg is
		// the record's message.
		{"msg_field", "7:3", "_msg_field=message", true},
		// Message parsing off: _msg is the line, byte for byte.
		{"raw_line", "8:0", "disable_message_parsing=1", false},
	} {
		t.Run(mode.name, func(t *testing.T) {
			cfg := testConfig(vl.PushURL(mode.query))
			cfg.TenantID = mode.tenant
			cfg.MaxPushBytes = 256<<10 + minPushOverhead // several pushes per batch
			s := newSink(t, cfg)
			h := runWorker(t, s, fastQueue())
			want := map[string]expected{}
			for i := 0; i < len(recs); i += 200 {
				b := batchOf(recs[i : i+200]...)
				maps.Copy(want, expectFor(t, s, b))
				require.Equal(t, event.Delivered, h.send(b))
			}
			require.Greater(t, s.Stats().PushesOK.Load(), int64(3))
			assert.EqualValues(t, 1, s.Stats().Truncated.Load())

			n, err := vl.WaitCount(ctx, mode.tenant, "*", len(recs), 20*time.Second)
			require.NoError(t, err)
			require.Equal(t, len(recs), n)
			other, err := vl.Count(ctx, "", "*")
			require.NoError(t, err)
			assert.Zero(t, other, "X-Scope-OrgID selected the tenant")

			rows, err := vl.WaitQuery(ctx, mode.tenant, "* | sort by (_time)", len(recs), 20*time.Second)
			require.NoError(t, err)
			require.Len(t, rows, len(recs))
			perStream := map[string][]time.Time{}
			seen := map[string]bool{}
			for _, row := range rows {
				id := row["tracking_id"]
				w, ok := want[id]
				require.True(t, ok, "unknown row %v", row)
				require.False(t, seen[id], "row %s twice", id)
				seen[id] = true

				ts, err := time.Parse(time.RFC3339Nano, row["_time"])
				require.NoError(t, err)
				assert.True(t, ts.Equal(w.time), "%s: _time %s, want %s", id, ts, w.time)
				got, ok := parseLabels(row["_stream"])
				require.True(t, ok, row["_stream"])
				assert.Equal(t, w.labels, got, "%s: labels", id)
				for k, v := range w.meta {
					assert.Equal(t, v, row[k], "%s: structured metadata %s", id, k)
				}
				if mode.parsed {
					fields := flattenJSON([]byte(w.line))
					msg := fields["message"]
					delete(fields, "message")
					assert.Equal(t, msg, row["_msg"], "%s: _msg", id)
					for k, v := range fields {
						assert.Equal(t, v, row[k], "%s: field %s", id, k)
					}
				} else {
					assert.Equal(t, w.line, row["_msg"], "%s: line", id)
				}
				if strings.Contains(w.line, "[truncated") {
					assert.LessOrEqual(t, len(w.line), DefaultMaxLineBytes)
					assert.Contains(t, row["_msg"], "[truncated")
				}
				perStream[row["_stream"]] = append(perStream[row["_stream"]], ts)
			}
			// Order per stream: VictoriaLogs keeps each entry's time, so the
			// rows of a stream sorted by _time follow the records' order.
			for st, tss := range perStream {
				assert.True(t, slices.IsSortedFunc(tss, func(a, b time.Time) int { return a.Compare(b) }), "stream %s", st)
			}
			assert.Len(t, perStream, 13, "12 label combinations + the weird service")
		})
	}
}

func envDuration(t *testing.T, name string, def time.Duration) time.Duration {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	require.NoError(t, err, name)
	return d
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	require.NoError(t, err, name)
	return n
}

// TestVictoriaLogsOutage stops VictoriaLogs while records flow through a
// worker, restarts it on the same storage, and checks every record arrived
// exactly once.
func TestVictoriaLogsOutage(t *testing.T) {
	lokitest.RequireIntegration(t)
	outage := envDuration(t, "LOGSHIPD_LOKI_OUTAGE", 5*time.Second)
	total := envInt(t, "LOGSHIPD_LOKI_OUTAGE_RECORDS", 50_000)
	const per = 500
	vl := lokitest.StartVictoriaLogs(t)
	ctx := t.Context()

	cfg := testConfig(vl.PushURL("_msg_field=message"))
	cfg.Timeout = 2 * time.Second
	cfg.MaxLineBytes = 16 << 10
	cfg.MaxPushBytes = 16<<10 + minPushOverhead // 3 or 4 pushes per batch: resumes mid-batch
	s := newSink(t, cfg)
	q := fastQueue()
	q.MaxBackoff = 500 * time.Millisecond
	q.MaxBatches = total/per + 1
	h := runWorker(t, s, q)

	now := time.Now().UTC()
	batches := (total + per - 1) / per
	// Spread the records over the outage plus 2 s so they keep flowing
	// before, during and after it.
	pace := (outage + 2*time.Second) / time.Duration(batches)
	var delivered, other atomic.Int64
	var wg sync.WaitGroup
	stopped := make(chan error, 1)
	go func() {
		// Stop once about a fifth of the records were delivered.
		deadline := time.Now().Add(time.Minute)
		for delivered.Load() < int64(total/5) {
			if time.Now().After(deadline) {
				stopped <- fmt.Errorf("only %d records delivered after 1 min", delivered.Load())
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
		vl.Stop()
		t.Logf("victoria-logs stopped after %d records delivered; outage %s", delivered.Load(), outage)
		time.Sleep(outage)
		err := vl.Restart()
		t.Logf("victoria-logs restarted")
		stopped <- err
	}()
	start := time.Now()
	for i := 0; i < batches; i++ {
		n := min(per, total-i*per)
		b := batchOf(genRecs(n, now.Add(-time.Hour), i*per)...)
		ch := h.enqueue(b)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if st := <-ch; st == event.Delivered {
				delivered.Add(int64(n))
			} else {
				other.Add(1)
			}
		}()
		time.Sleep(pace)
	}
	wg.Wait()
	require.NoError(t, <-stopped)
	t.Logf("%d records delivered in %s (pushes: %d ok, errors %v)", delivered.Load(), time.Since(start), s.Stats().PushesOK.Load(), s.Stats().PushErrors())
	require.EqualValues(t, total, delivered.Load())
	require.Zero(t, other.Load())
	errs := s.Stats().PushErrors()
	assert.Positive(t, errs[ClassTransport]+errs[ClassServer], "the outage was noticed")
	assert.Positive(t, h.stats.Retries.Load())
	assert.Greater(t, s.Stats().PushesOK.Load(), int64(2*batches), "batches were split")

	n, err := vl.WaitCount(ctx, "", "*", total, 30*time.Second)
	require.NoError(t, err)
	require.Equal(t, total, n, "every record stored once")
	rows, err := vl.WaitQuery(ctx, "", "* | fields tracking_id", total, 30*time.Second)
	require.NoError(t, err)
	require.Len(t, rows, total)
	seen := make(map[string]int, total)
	for _, r := range rows {
		seen[r["tracking_id"]]++
	}
	for i := range total {
		id := rec{Seq: i}.trackingID()
		require.Equal(t, 1, seen[id], "record %d (%s)", i, id)
	}
}

// BenchmarkPushToVictoriaLogs measures end-to-end pushes (encode, snappy,
// HTTP, VictoriaLogs ingestion) of 1000-record batches.
//
//	go test -run '^$' -bench PushToVictoriaLogs -benchtime 200x ./internal/sink/loki/
func BenchmarkPushToVictoriaLogs(b *testing.B) {
	if _, ok := lokitest.BinPath(); !ok {
		b.Skip("victoria-logs binary not found")
	}
	vl := lokitest.StartVictoriaLogs(b)
	cfg := testConfig(vl.PushURL("_msg_field=message"))
	s, err := New(cfg, nil, nil)
	require.NoError(b, err)
	defer s.Close(context.Background())
	const per = 1000
	now := time.Now().UTC().Add(-time.Hour)
	batches := make([]*event.Batch, 16)
	bytes := 0
	for i := range batches {
		batches[i] = batchOf(genRecs(per, now, i*per)...)
		bytes += len(batches[i].Buf)
	}
	b.SetBytes(int64(bytes / len(batches)))
	b.ReportAllocs()
	i := 0
	start := time.Now()
	for b.Loop() {
		if err := s.Send(context.Background(), batches[i%len(batches)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(i*per)/time.Since(start).Seconds(), "lines/s")
}

// BenchmarkEncode measures building and encoding pushes (no network).
func BenchmarkEncode(b *testing.B) {
	s, err := New(testConfig("http://127.0.0.1:1/"), nil, nil)
	require.NoError(b, err)
	batch := batchOf(genRecs(1000, time.Now(), 0)...)
	b.SetBytes(int64(len(batch.Buf)))
	b.ReportAllocs()
	for b.Loop() {
		p := s.buildPlan(batch)
		for _, pp := range p.pushes {
			n := pp.req.Size()
			s.raw = slices.Grow(s.raw[:0], n)[:n]
			if _, err := pp.req.MarshalToSizedBuffer(s.raw); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "lines/s")
}
