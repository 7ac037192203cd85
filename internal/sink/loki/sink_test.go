package loki

import (
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/grafana/loki/pkg/push"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/starmates/logshipd/internal/event"
	"github.com/starmates/logshipd/internal/sink"
	"github.com/starmates/logshipd/internal/sink/loki/lokitest"
)

var base = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func newSink(t *testing.T, cfg Config) *Sink {
	t.Helper()
	s, err := New(cfg, testLogger(t), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close(t.Context()) })
	return s
}

func entriesByLine(p *lokitest.Push) map[string]push.Entry {
	out := map[string]push.Entry{}
	for _, st := range p.Req.Streams {
		for _, e := range st.Entries {
			out[e.Line] = e
		}
	}
	return out
}

func TestPushEncodesLabelsMetadataAndLines(t *testing.T) {
	fake := lokitest.NewFakeLoki(t, false, nil)
	cfg := testConfig(fake.URL + "/loki/api/v1/push?_msg_field=message")
	cfg.TenantID = "team-a"
	cfg.Username, cfg.Password = "user", "secret"
	cfg.Headers = map[string]string{"X-Extra": "1"}
	cfg.StaticLabels = map[string]string{"cluster": "eu-1"}
	cfg.StructuredMetadata = append(cfg.StructuredMetadata, "request.path", "method=request.method")
	s := newSink(t, cfg)

	recs := genRecs(24, base, 0)
	// Shuffle within the batch: the sink must sort each stream by time.
	slices.Reverse(recs)
	weird := rec{Seq: 99, Time: base, Level: event.LevelUnset, Service: `we"ird\svc`, Environment: "prod", Project: "starmates", Message: "x"}
	recs = append(recs, weird)
	b := batchOf(recs...)
	require.NoError(t, s.Send(t.Context(), b))

	pushes := fake.Pushes()
	require.Len(t, pushes, 1)
	p := pushes[0]
	require.NoError(t, p.DecodeErr)
	assert.Equal(t, "/loki/api/v1/push", p.Path)
	assert.Equal(t, "message", p.Query.Get("_msg_field"))
	assert.Equal(t, "application/x-protobuf", p.Header.Get("Content-Type"))
	assert.Equal(t, "team-a", p.Header.Get("X-Scope-OrgID"))
	assert.Equal(t, "1", p.Header.Get("X-Extra"))
	user, pass, ok := (&http.Request{Header: p.Header}).BasicAuth()
	assert.True(t, ok)
	assert.Equal(t, "user:secret", user+":"+pass)

	// 3 services x 2 environments x 4 levels over 24 records = 12 streams
	// (seq%3, seq%2, seq%4 -> lcm 12), plus the weird one.
	require.Len(t, p.Req.Streams, 13)
	byLine := entriesByLine(p)
	for i := range b.Items {
		it := &b.Items[i]
		line := string(b.JSON(i))
		e, ok := byLine[line]
		require.True(t, ok, "line %d pushed verbatim", i)
		assert.True(t, e.Timestamp.Equal(it.Time))
		md := map[string]string{}
		for _, l := range e.StructuredMetadata {
			md[l.Name] = l.Value
		}
		want := map[string]string{"tracking_id": it.TrackingID}
		var c canonical
		require.NoError(t, json.Unmarshal([]byte(line), &c))
		if c.Request != nil {
			want["request_path"] = c.Request.Path
			want["method"] = "GET"
		}
		if it.HasTrace {
			want["trace_id"] = hex.EncodeToString(it.TraceID[:])
			want["span_id"] = hex.EncodeToString(it.SpanID[:])
		}
		assert.Equal(t, want, md, "metadata of line %d", i)
	}
	for _, st := range p.Req.Streams {
		ls, ok := parseLabels(st.Labels)
		require.True(t, ok, st.Labels)
		assert.Equal(t, "eu-1", ls["cluster"])
		assert.True(t, slices.IsSortedFunc(st.Entries, func(a, b push.Entry) int { return a.Timestamp.Compare(b.Timestamp) }), "stream %s sorted by time", st.Labels)
		for _, e := range st.Entries {
			var c canonical
			require.NoError(t, json.Unmarshal([]byte(e.Line), &c))
			assert.Equal(t, c.Service, ls["service"])
			assert.Equal(t, c.Environment, ls["environment"])
			assert.Equal(t, c.Project, ls["project"])
			assert.Equal(t, c.Level, ls["level"])
		}
	}
	// Canonical label string: sorted names, Go-quoted values, level left
	// out when unset.
	assert.Contains(t, streamLabels(p), `{cluster="eu-1", environment="prod", project="starmates", service="we\"ird\\svc"}`)
	assert.Contains(t, streamLabels(p), `{cluster="eu-1", environment="prod", level="DEBUG", project="starmates", service="api"}`)

	st := s.Stats()
	assert.EqualValues(t, 1, st.Pushes.Load())
	assert.EqualValues(t, 1, st.PushesOK.Load())
	assert.EqualValues(t, 25, st.EntriesSent.Load())
	assert.EqualValues(t, p.Compressed, st.BodyBytes.Load())
	assert.Greater(t, st.FillRatio(), 0.0)
	assert.Less(t, st.FillRatio(), 0.1)
}

func streamLabels(p *lokitest.Push) []string {
	var out []string
	for _, s := range p.Req.Streams {
		out = append(out, s.Labels)
	}
	return out
}

func TestSplitPushesKeepsOrderAndSize(t *testing.T) {
	fake := lokitest.NewFakeLoki(t, false, nil)
	cfg := testConfig(fake.URL)
	cfg.MaxLineBytes = 4096
	cfg.MaxPushBytes = cfg.MaxLineBytes + minPushOverhead // 69,632 B
	s := newSink(t, cfg)
	recs := genRecs(3000, base, 0)
	for i := range recs {
		recs[i].Message = strings.Repeat("x", 100+i%200)
	}
	slices.Reverse(recs)
	b := batchOf(recs...)
	require.NoError(t, s.Send(t.Context(), b))

	pushes := fake.Pushes()
	require.Greater(t, len(pushes), 5)
	seen := map[string]int{}
	last := map[string]time.Time{}
	total := 0
	for _, p := range pushes {
		require.NoError(t, p.DecodeErr)
		assert.LessOrEqual(t, p.Raw, cfg.MaxPushBytes, "push %d uncompressed size", p.N)
		if p.N < len(pushes)-1 {
			assert.Greater(t, p.Raw, cfg.MaxPushBytes*8/10, "pushes are filled (push %d)", p.N)
		}
		for _, st := range p.Req.Streams {
			for _, e := range st.Entries {
				seen[e.Line]++
				assert.False(t, e.Timestamp.Before(last[st.Labels]), "stream %s stays in time order across pushes", st.Labels)
				last[st.Labels] = e.Timestamp
				total++
			}
		}
	}
	assert.Equal(t, len(recs), total)
	for i := range b.Items {
		assert.Equal(t, 1, seen[string(b.JSON(i))])
	}
	assert.EqualValues(t, len(pushes), s.Stats().PushesOK.Load())
	assert.Greater(t, s.Stats().FillRatio(), 0.8)
}

func TestTruncatesLongLines(t *testing.T) {
	fake := lokitest.NewFakeLoki(t, false, nil)
	cfg := testConfig(fake.URL)
	cfg.MaxLineBytes = 2048
	s := newSink(t, cfg)
	long := genRecs(1, base, 0)[0]
	long.Message = strings.Repeat("é", 3000) // 6000 bytes, twice (message, @message)
	short := genRecs(1, base, 1)[0]
	b := batchOf(long, short)
	require.NoError(t, s.Send(t.Context(), b))

	p := fake.Pushes()[0]
	lines := map[string]bool{}
	for _, st := range p.Req.Streams {
		for _, e := range st.Entries {
			lines[e.Line] = true
			assert.LessOrEqual(t, len(e.Line), cfg.MaxLineBytes)
			if strings.Contains(e.Line, "[truncated") {
				var c canonical
				require.NoError(t, json.Unmarshal([]byte(e.Line), &c), "still valid JSON")
				assert.Equal(t, long.trackingID(), c.TrackingID, "short fields kept")
				assert.Regexp(t, `^(é)+ \[truncated \d+ bytes\]$`, c.Message)
				assert.Equal(t, len(c.Message), len(c.AMessage), "message and its twin get equal shares")
			}
		}
	}
	assert.True(t, lines[string(b.JSON(1))], "short line unchanged")
	assert.EqualValues(t, 1, s.Stats().Truncated.Load())
	assert.Greater(t, s.Stats().TruncatedRem.Load(), int64(12000-2048))
}

func TestThrottledHonoursRetryAfter(t *testing.T) {
	fake := lokitest.NewFakeLoki(t, false, func(p *lokitest.Push) lokitest.Response {
		if p.N == 0 {
			return lokitest.Response{Status: 429, Header: http.Header{"Retry-After": {"2"}}, Body: "Ingestion rate limit exceeded for user fake (limit: 4194304 bytes/sec)"}
		}
		return lokitest.Response{}
	})
	s := newSink(t, testConfig(fake.URL))
	b := batchOf(genRecs(10, base, 0)...)
	err := s.Send(t.Context(), b)
	var th *sink.ThrottledError
	require.ErrorAs(t, err, &th)
	assert.Equal(t, 2*time.Second, th.After)
	assert.Contains(t, err.Error(), "Ingestion rate limit")

	// Through the worker: retried (after a jittered delay of at most 2 s),
	// then delivered once.
	h := runWorker(t, s, fastQueue())
	fake.SetResponder(func(p *lokitest.Push) lokitest.Response {
		if p.N == 1 {
			return lokitest.Response{Status: 429, Header: http.Header{"Retry-After": {"1"}}}
		}
		return lokitest.Response{}
	})
	b2 := batchOf(genRecs(10, base, 10)...)
	assert.Equal(t, event.Delivered, h.send(b2))
	assert.EqualValues(t, 1, h.stats.ErrorsByClass()["throttled"])
	assert.EqualValues(t, 10, h.stats.Sent.Load())
	assert.Len(t, fake.Pushes(), 3)
	assert.EqualValues(t, 2, s.Stats().PushErrors()[ClassThrottled])
}

func TestServerErrorsRetriedAndResumed(t *testing.T) {
	// A batch split into several pushes; the 2nd push fails twice with 5xx
	// (and the connection of another attempt is cut): the retry resumes at
	// the failed push, so every entry is accepted exactly once.
	var fake *lokitest.FakeLoki
	fake = lokitest.NewFakeLoki(t, false, func(p *lokitest.Push) lokitest.Response {
		switch p.N {
		case 1:
			return lokitest.Response{Status: 500, Body: "internal error"}
		case 2:
			return lokitest.Response{Status: 503, Header: http.Header{"Retry-After": {"0"}}, Body: "unavailable"}
		}
		return lokitest.Response{}
	})
	cfg := testConfig(fake.URL)
	cfg.MaxLineBytes = 1024
	cfg.MaxPushBytes = 1024 + minPushOverhead
	s := newSink(t, cfg)
	h := runWorker(t, s, fastQueue())
	recs := genRecs(1500, base, 0)
	for i := range recs {
		recs[i].Message = strings.Repeat("m", 200)
	}
	b := batchOf(recs...)
	assert.Equal(t, event.Delivered, h.send(b))

	accepted := map[string]int{}
	pushes := fake.Pushes()
	require.Greater(t, len(pushes), 4)
	for _, p := range pushes {
		if p.N == 1 || p.N == 2 {
			continue
		}
		for l := range entriesByLine(p) {
			accepted[l]++
		}
	}
	require.Len(t, accepted, len(recs))
	for l, n := range accepted {
		require.Equal(t, 1, n, "accepted once: %s", l)
	}
	assert.Equal(t, entriesByLine(pushes[1]), entriesByLine(pushes[3]), "the retry resends the failed push")
	assert.EqualValues(t, 2, h.stats.ErrorsByClass()["retryable"])
	assert.EqualValues(t, 2, s.Stats().PushErrors()[ClassServer])
	assert.EqualValues(t, len(recs), s.Stats().EntriesSent.Load())
}

func TestTransportErrorIsRetryable(t *testing.T) {
	fake := lokitest.NewFakeLoki(t, false, nil)
	url := fake.URL
	fake.Close()
	s := newSink(t, testConfig(url))
	err := s.Send(t.Context(), batchOf(genRecs(1, base, 0)...))
	require.Error(t, err)
	assert.False(t, sink.IsPermanent(err))
	var th *sink.ThrottledError
	assert.False(t, errors.As(err, &th))
	assert.EqualValues(t, 1, s.Stats().PushErrors()[ClassTransport])
}

func TestBadRequestDeadLettersRefusedEntries(t *testing.T) {
	recs := genRecs(8, base, 0)
	for i := range recs {
		recs[i].Service, recs[i].Environment, recs[i].Level = "api", "prod", event.LevelInfo // one stream
	}
	cutoff := recs[3].Time // entries 0..2 are "too old"
	body := fmt.Sprintf("3 errors like: entry for stream '{environment=\"prod\", level=\"INFO\", project=\"starmates\", service=\"api\", service_name=\"api\"}' has timestamp too old: %s, oldest acceptable timestamp is: %s",
		recs[0].Time.Format(time.RFC3339), cutoff.Format(time.RFC3339Nano))
	fake := lokitest.NewFakeLoki(t, false, func(*lokitest.Push) lokitest.Response {
		return lokitest.Response{Status: 400, Body: body}
	})
	s := newSink(t, testConfig(fake.URL))
	h := runWorker(t, s, fastQueue())
	b := batchOf(recs...)
	assert.Equal(t, event.Rejected, h.send(b))
	dead := h.deadLetters()
	require.Len(t, dead, 3)
	for i, d := range dead {
		assert.Equal(t, ReasonTooOld, d.Reason)
		assert.JSONEq(t, string(b.JSON(i)), string(d.Record))
		assert.Contains(t, d.Detail, "too old")
	}
	assert.Len(t, fake.Pushes(), 1, "not retried")
	assert.EqualValues(t, 5, h.stats.Sent.Load())
	assert.EqualValues(t, 3, s.Stats().Rejected()[ReasonTooOld])
	assert.EqualValues(t, 5, s.Stats().EntriesSent.Load())
	assert.EqualValues(t, 1, s.Stats().PushErrors()[ClassBadRequest])
}

func TestBadRequestUnattributable(t *testing.T) {
	fake := lokitest.NewFakeLoki(t, false, func(*lokitest.Push) lokitest.Response {
		return lokitest.Response{Status: 400, Body: "cannot parse tenant \"abc\""}
	})
	s := newSink(t, testConfig(fake.URL))
	h := runWorker(t, s, fastQueue())

	// One push: the whole batch is Permanent, with the server's reason.
	b := batchOf(genRecs(4, base, 0)...)
	err := s.Send(t.Context(), b)
	require.True(t, sink.IsPermanent(err), "%v", err)
	assert.Contains(t, err.Error(), "cannot parse tenant")
	assert.Equal(t, event.Rejected, h.send(batchOf(genRecs(4, base, 4)...)))
	dead := h.deadLetters()
	require.Len(t, dead, 4)
	assert.Equal(t, "refused", dead[0].Reason)
	assert.Contains(t, dead[0].Detail, "HTTP 400")

	// Several pushes, only the 2nd refused: only its entries are dead.
	cfg := testConfig(fake.URL)
	cfg.MaxLineBytes = 1024
	cfg.MaxPushBytes = 1024 + minPushOverhead
	s2 := newSink(t, cfg)
	fake.SetResponder(func(p *lokitest.Push) lokitest.Response {
		if p.N == 3 { // the 2nd push of this batch
			return lokitest.Response{Status: 400, Body: "something unexpected"}
		}
		return lokitest.Response{}
	})
	recs := genRecs(1000, base, 100)
	for i := range recs {
		recs[i].Message = strings.Repeat("m", 200)
	}
	err = s2.Send(t.Context(), batchOf(recs...))
	var pe *sink.PartialError
	require.ErrorAs(t, err, &pe)
	second := fake.Pushes()[3]
	assert.Len(t, pe.Items, second.Entries())
	for _, it := range pe.Items {
		assert.Equal(t, ReasonRefused, it.Reason)
	}
}

func TestOtherClientErrors(t *testing.T) {
	for _, tc := range []struct {
		status    int
		permanent bool
		reason    string
	}{
		{401, false, ""}, {403, false, ""}, {404, false, ""}, {408, false, ""},
		{413, true, ReasonTooLarge}, {422, true, ReasonRefused},
	} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			fake := lokitest.NewFakeLoki(t, false, func(*lokitest.Push) lokitest.Response { return lokitest.Response{Status: tc.status, Body: "no"} })
			s := newSink(t, testConfig(fake.URL))
			err := s.Send(t.Context(), batchOf(genRecs(2, base, 0)...))
			require.Error(t, err)
			assert.Equal(t, tc.permanent, sink.IsPermanent(err), "%v", err)
			if tc.permanent {
				assert.Contains(t, err.Error(), tc.reason)
			}
		})
	}
}

func TestAgeLimitThroughWorker(t *testing.T) {
	fake := lokitest.NewFakeLoki(t, false, nil)
	s := newSink(t, testConfig(fake.URL))
	h := runWorker(t, s, fastQueue())
	now := time.Now()
	recs := genRecs(3, now, 0)
	recs[0].Time = now.Add(-8 * 24 * time.Hour)
	recs[1].Time = now.Add(11 * time.Minute)
	assert.Equal(t, event.Rejected, h.send(batchOf(recs...)))
	dead := h.deadLetters()
	require.Len(t, dead, 2)
	assert.Equal(t, ReasonTooOld, dead[0].Reason)
	assert.Equal(t, ReasonTooNew, dead[1].Reason)
	require.Len(t, fake.Pushes(), 1)
	assert.Equal(t, 1, fake.Pushes()[0].Entries())
	assert.Equal(t, map[string]int64{"too_old": 1, "too_new": 1}, h.stats.DeadByReason())

	assert.Empty(t, s.AgeReason(now.Add(-7*24*time.Hour+time.Minute), now))
	assert.Empty(t, s.AgeReason(now.Add(9*time.Minute), now))
}

func TestBearerTokenAndTLS(t *testing.T) {
	fake := lokitest.NewFakeLoki(t, true, nil)
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	require.NoError(t, os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: fake.Certificate().Raw}), 0o600))
	tok := filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(tok, []byte("t0ken\n"), 0o600))

	cfg := testConfig(fake.URL)
	cfg.TLS.CAFile = ca
	cfg.BearerTokenFile = tok
	s := newSink(t, cfg)
	require.NoError(t, s.Send(t.Context(), batchOf(genRecs(1, base, 0)...)))
	assert.Equal(t, "Bearer t0ken", fake.Pushes()[0].Header.Get("Authorization"))

	// Without the CA the server is not trusted: a retryable transport error.
	cfg.TLS.CAFile = ""
	cfg.BearerTokenFile, cfg.BearerToken = "", "abc"
	s2 := newSink(t, cfg)
	err := s2.Send(t.Context(), batchOf(genRecs(1, base, 0)...))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "certificate")
	cfg.TLS.InsecureSkipVerify = true
	s3 := newSink(t, cfg)
	require.NoError(t, s3.Send(t.Context(), batchOf(genRecs(1, base, 0)...)))
	assert.Equal(t, "Bearer abc", fake.Pushes()[1].Header.Get("Authorization"))
}

func TestEmptyBatchAndClose(t *testing.T) {
	fake := lokitest.NewFakeLoki(t, false, nil)
	s := newSink(t, testConfig(fake.URL))
	require.NoError(t, s.Send(t.Context(), &event.Batch{}))
	assert.Empty(t, fake.Pushes())
	require.NoError(t, s.Close(t.Context()))
}
