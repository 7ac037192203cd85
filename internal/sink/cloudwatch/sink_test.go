package cloudwatch_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/starmates/logshipd/internal/event"
	"github.com/starmates/logshipd/internal/sink"
	"github.com/starmates/logshipd/internal/sink/cloudwatch"
	"github.com/starmates/logshipd/internal/sink/cloudwatch/cwdouble"
)

func TestDeliverySortedWithRecordTimestamps(t *testing.T) {
	e := newEnv(t, nil)
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	var recs []rec
	for i := range 200 {
		svc := "api"
		if i%3 == 0 {
			svc = "worker"
		}
		// Out of order within each service, with duplicate timestamps.
		recs = append(recs, rec{t: base.Add(time.Duration((i*7919)%100) * time.Second), service: svc, msg: fmt.Sprintf("m%03d", i)})
	}
	b := batchOf(recs...)
	require.NoError(t, e.sink.Send(t.Context(), b))

	got := 0
	for _, svc := range []string{"api", "worker"} {
		g, ok := e.d.Group("/ai-teams/prod/" + svc)
		require.True(t, ok, svc)
		assert.Equal(t, "STANDARD", g.Class)
		assert.Equal(t, []string{e.streamName("app")}, g.Streams)
		evs := e.d.Events(g.Name, e.streamName("app"))
		for k := 1; k < len(evs); k++ {
			require.LessOrEqual(t, evs[k-1].Timestamp, evs[k].Timestamp, "sorted")
		}
		got += len(evs)
	}
	require.Equal(t, len(recs), got)

	// Timestamp = the record's own time; message = the canonical record;
	// equal timestamps keep batch order (stable sort).
	want := map[string]int64{}
	for i := range b.Items {
		want[string(b.JSON(i))] = b.Items[i].Time.UnixMilli()
	}
	for _, evs := range e.d.AllEvents() {
		lastIdx := map[int64]int{}
		for _, ev := range evs {
			ts, ok := want[ev.Message]
			require.True(t, ok, "message is a canonical record: %s", ev.Message)
			require.Equal(t, ts, ev.Timestamp)
			var i int
			_, err := fmt.Sscanf(ev.Message[strings.Index(ev.Message, `"message":"m`)+12:], "%d", &i)
			require.NoError(t, err)
			if prev, ok := lastIdx[ev.Timestamp]; ok {
				require.Less(t, prev, i, "stable order for equal timestamps")
			}
			lastIdx[ev.Timestamp] = i
		}
	}
	assert.Equal(t, 2, e.d.Calls("CreateLogGroup"))
	assert.Equal(t, 2, e.d.Calls("CreateLogStream"))
	assert.Equal(t, 0, e.d.Calls("PutRetentionPolicy"))
	assert.Equal(t, 0, e.d.Calls("DescribeLogStreams"))
	st := e.sink.Stats()
	assert.Equal(t, int64(200), st.EventsSent.Load())
	assert.Equal(t, int64(2), st.GroupsCreated.Load())

	// A second batch: no control-plane call at all, no sequence token.
	require.NoError(t, e.sink.Send(t.Context(), batchOf(rec{t: base, msg: "again"})))
	assert.Equal(t, 2, e.d.Calls("CreateLogGroup"))
	assert.Equal(t, 2, e.d.Calls("CreateLogStream"))
}

func TestSplitsByCountAndBytes(t *testing.T) {
	e := newEnv(t, nil)
	now := time.Now().Add(-time.Minute)
	var recs []rec
	for i := range 25_001 {
		recs = append(recs, rec{t: now.Add(time.Duration(i) * time.Millisecond), json: fmt.Sprintf(`{"i":%d}`, i)})
	}
	require.NoError(t, e.sink.Send(t.Context(), batchOf(recs...)))
	evs := e.d.Events("/ai-teams/prod/api", e.streamName("app"))
	require.Len(t, evs, 25_001)
	// 10,000 + 10,000 + 5,001 (plus the attempts that found no stream).
	assert.Equal(t, 3, e.d.Calls("PutLogEvents")-e.d.Errors("ResourceNotFoundException"))
	assert.Equal(t, 0, e.d.Errors("InvalidParameterException"))
	assert.InDelta(t, 25_001.0/3, e.sink.Stats().EventsPerPut(), 1)
}

func TestBatchBytesExactBoundary(t *testing.T) {
	e := newEnv(t, nil)
	now := time.Now().Add(-time.Minute)
	// Records whose JSON is exactly 262,118 bytes: 4 × (262,118 + 26) =
	// 1,048,576 = one full call; the fifth starts a second call.
	mk := func(i int) rec {
		prefix := fmt.Sprintf(`{"i":%d,"pad":"`, i)
		return rec{t: now.Add(time.Duration(i) * time.Millisecond), json: prefix + strings.Repeat("x", 262_118-len(prefix)-2) + `"}`}
	}
	var recs []rec
	for i := range 9 {
		recs = append(recs, mk(i))
	}
	require.Len(t, recs[0].record().JSON, 262_118)
	require.NoError(t, e.sink.Send(t.Context(), batchOf(recs...)))
	require.Len(t, e.d.Events("/ai-teams/prod/api", e.streamName("app")), 9)
	assert.Equal(t, 3, e.d.Calls("PutLogEvents")-e.d.Errors("ResourceNotFoundException"), "4+4+1")
	assert.InDelta(t, (2*1_048_576.0+262_144)/3, e.sink.Stats().BytesPerPut(), 1)
	assert.InDelta(t, 0.75, e.sink.Stats().FillRatio(), 0.0001)
	assert.Equal(t, 0, e.d.Errors("InvalidParameterException"))
	assert.Equal(t, int64(0), e.sink.Stats().TruncatedEvents.Load())
}

func TestSpanOver24hIsSplit(t *testing.T) {
	e := newEnv(t, nil)
	now := time.Now().Truncate(time.Millisecond)
	b := batchOf(
		rec{t: now.Add(-40 * time.Hour), msg: "a"},
		rec{t: now.Add(-16 * time.Hour), msg: "b"}, // exactly 24 h after a: same call
		rec{t: now.Add(-16*time.Hour + time.Millisecond), msg: "c"},
		rec{t: now.Add(-time.Hour), msg: "d"},
		rec{t: now.Add(-100 * time.Hour), msg: "e"},
	)
	require.NoError(t, e.sink.Send(t.Context(), b))
	evs := e.d.Events("/ai-teams/prod/api", e.streamName("app"))
	require.Len(t, evs, 5)
	// e | a b | c d: three calls.
	assert.Equal(t, 3, e.d.Calls("PutLogEvents")-e.d.Errors("ResourceNotFoundException"))
	assert.Equal(t, 0, e.d.Errors("InvalidParameterException"))
}

func TestOversizeEventTruncatedWithMarker(t *testing.T) {
	e := newEnv(t, nil)
	now := time.Now().Add(-time.Minute)
	// 1.2 MB with multi-byte characters around the cut.
	body := strings.Repeat("é", 600_000) // 1,200,000 bytes
	big := rec{t: now, json: `{"m":"` + body + `"}`}
	small := rec{t: now, msg: "small"}
	require.NoError(t, e.sink.Send(t.Context(), batchOf(big, small)))
	evs := e.d.Events("/ai-teams/prod/api", e.streamName("app"))
	require.Len(t, evs, 2)
	m := evs[0].Message
	if len(evs[1].Message) > len(m) {
		m = evs[1].Message
	}
	require.LessOrEqual(t, len(m), cloudwatch.MaxEventBytes)
	require.True(t, utf8.ValidString(m))
	i := strings.LastIndex(m, " [truncated ")
	require.Positive(t, i)
	var removed int
	_, err := fmt.Sscanf(m[i:], " [truncated %d bytes]", &removed)
	require.NoError(t, err)
	assert.Equal(t, len(big.record().JSON)-i, removed, "marker counts the removed bytes")
	assert.True(t, strings.HasPrefix(string(big.record().JSON), m[:i]))
	assert.GreaterOrEqual(t, len(m), cloudwatch.MaxEventBytes-3)
	assert.Equal(t, int64(1), e.sink.Stats().TruncatedEvents.Load())
	assert.Equal(t, 0, e.d.Errors("InvalidParameterException"))

	// A smaller configured cap.
	e2 := newEnv(t, func(c *cloudwatch.Config) { c.MaxEventBytes = 4096 })
	require.NoError(t, e2.sink.Send(t.Context(), batchOf(rec{t: now, json: `{"m":"` + strings.Repeat("ab", 5000) + `"}`})))
	evs = e2.d.Events("/ai-teams/prod/api", e2.streamName("app"))
	require.Len(t, evs, 1)
	m = evs[0].Message
	assert.Len(t, m, 4096, "filled to the cap exactly")
	i = strings.LastIndex(m, " [truncated ")
	_, err = fmt.Sscanf(m[i:], " [truncated %d bytes]", &removed)
	require.NoError(t, err)
	assert.Equal(t, 10_008, i+removed)
}

func TestMissingGroupAndStreamCreatedOnce(t *testing.T) {
	e := newEnv(t, func(c *cloudwatch.Config) { c.RetentionDays = 7; c.Concurrency = 8; c.MaxBatchEvents = 10 })
	now := time.Now().Add(-time.Minute)
	var recs []rec
	for i := range 100 { // 10 calls to one new stream, 8 in parallel
		recs = append(recs, rec{t: now.Add(time.Duration(i) * time.Millisecond), msg: fmt.Sprint(i)})
	}
	var wg sync.WaitGroup
	for range 3 { // and three Sends at once
		wg.Go(func() { assert.NoError(t, e.sink.Send(context.Background(), batchOf(recs...))) })
	}
	wg.Wait()
	assert.Equal(t, 1, e.d.Calls("CreateLogGroup"))
	assert.Equal(t, 1, e.d.Calls("PutRetentionPolicy"))
	assert.Equal(t, 1, e.d.Calls("CreateLogStream"))
	g, ok := e.d.Group("/ai-teams/prod/api")
	require.True(t, ok)
	assert.Equal(t, "STANDARD", g.Class)
	assert.Equal(t, 7, g.RetentionDays)
	assert.Len(t, e.d.Events(g.Name, e.streamName("app")), 300)

	// A second stream of the same group: CreateLogStream only.
	require.NoError(t, e.sink.Send(t.Context(), batchOf(rec{t: now, source: "other", msg: "x"})))
	assert.Equal(t, 1, e.d.Calls("CreateLogGroup"))
	assert.Equal(t, 2, e.d.Calls("CreateLogStream"))

	// The group is deleted behind our back: created again on the next RNF.
	e.d.DeleteLogGroup(g.Name)
	require.NoError(t, e.sink.Send(t.Context(), batchOf(rec{t: now, msg: "y"})))
	assert.Equal(t, 2, e.d.Calls("CreateLogGroup"))
	assert.Len(t, e.d.Events(g.Name, e.streamName("app")), 1)
	st := e.sink.Stats()
	assert.Equal(t, int64(2), st.GroupsCreated.Load())
	assert.Equal(t, int64(2), st.RetentionSet.Load())
}

func TestInfrequentAccessClassAndExistingGroup(t *testing.T) {
	e := newEnv(t, func(c *cloudwatch.Config) { c.LogGroupClass = cloudwatch.ClassInfrequentAccess; c.RetentionDays = 30 })
	e.d.CreateLogGroup("/ai-teams/prod/worker", "STANDARD", 0) // made by Terraform
	now := time.Now().Add(-time.Minute)
	require.NoError(t, e.sink.Send(t.Context(), batchOf(rec{t: now, msg: "a"}, rec{t: now, service: "worker", msg: "b"})))
	g, _ := e.d.Group("/ai-teams/prod/api")
	assert.Equal(t, "INFREQUENT_ACCESS", g.Class)
	assert.Equal(t, 30, g.RetentionDays)
	w, _ := e.d.Group("/ai-teams/prod/worker")
	assert.Equal(t, "STANDARD", w.Class)
	assert.Equal(t, 0, w.RetentionDays, "an existing group's retention is left alone")
	assert.Equal(t, 1, e.d.Errors("ResourceAlreadyExistsException"))
}

func TestCreateLogGroupDisabled(t *testing.T) {
	e := newEnv(t, func(c *cloudwatch.Config) { c.CreateLogGroup = false })
	now := time.Now().Add(-time.Minute)
	// Missing group: refused for good, with the reason.
	err := e.sink.Send(t.Context(), batchOf(rec{t: now, msg: "a"}))
	require.True(t, sink.IsPermanent(err), "%v", err)
	assert.Contains(t, err.Error(), "create_log_group is false")
	assert.Equal(t, 0, e.d.Calls("CreateLogGroup"))

	// Existing group, missing stream: the stream is created.
	e.d.CreateLogGroup("/ai-teams/prod/api", "", 0)
	require.NoError(t, e.sink.Send(t.Context(), batchOf(rec{t: now, msg: "b"})))
	assert.Len(t, e.d.Events("/ai-teams/prod/api", e.streamName("app")), 1)
	assert.Equal(t, 0, e.d.Calls("CreateLogGroup"))
}

func TestLimitExceededIsPermanent(t *testing.T) {
	e := newEnv(t, nil)
	e.d.SetGroupLimit(0)
	err := e.sink.Send(t.Context(), batchOf(rec{t: time.Now(), msg: "a"}))
	require.True(t, sink.IsPermanent(err), "%v", err)
	assert.Equal(t, 1, e.d.Calls("CreateLogGroup"), "the SDK does not retry LimitExceeded")
}

func TestRejectedEventsBecomePartialError(t *testing.T) {
	e := newEnv(t, nil)
	e.d.CreateLogGroup("/ai-teams/prod/api", "", 1) // 1-day retention
	now := time.Now()
	b := batchOf(
		rec{t: now.Add(-time.Minute), msg: "ok1"},       // 0
		rec{t: now.Add(3 * time.Hour), msg: "new"},      // 1
		rec{t: now.Add(-15 * 24 * time.Hour), msg: "o"}, // 2
		rec{t: now.Add(-2 * 24 * time.Hour), msg: "x"},  // 3 expired
		rec{t: now.Add(-2 * time.Minute), msg: "ok2"},   // 4
		rec{t: now.Add(5 * time.Hour), msg: "new2"},     // 5
		rec{t: now.Add(-20 * 24 * time.Hour), msg: "o"}, // 6
	)
	err := e.sink.Send(t.Context(), b)
	var pe *sink.PartialError
	require.ErrorAs(t, err, &pe)
	got := map[int]string{}
	for _, it := range pe.Items {
		got[it.Index] = it.Reason
		assert.NotEmpty(t, it.Detail)
	}
	assert.Equal(t, map[int]string{1: "too_new", 2: "too_old", 3: "expired", 5: "too_new", 6: "too_old"}, got)
	evs := e.d.Events("/ai-teams/prod/api", e.streamName("app"))
	require.Len(t, evs, 2)
	assert.Contains(t, evs[0].Message, "ok2")
	st := e.sink.Stats()
	assert.Equal(t, map[string]int64{"too_old": 2, "too_new": 2, "expired": 1, "refused": 0}, st.RejectedByReason())
	assert.Equal(t, int64(2), st.EventsSent.Load())
}

func TestAgeReason(t *testing.T) {
	e := newEnv(t, func(c *cloudwatch.Config) { c.RetentionDays = 3 })
	now := time.Now()
	for _, tc := range []struct {
		t    time.Time
		want string
	}{
		{now, ""},
		{now.Add(2 * time.Hour), ""},
		{now.Add(2*time.Hour + time.Millisecond), "too_new"},
		{now.Add(-14*24*time.Hour - time.Millisecond), "too_old"},
		{now.Add(-4 * 24 * time.Hour), "expired"},
		{now.Add(-2 * 24 * time.Hour), ""},
		{time.Time{}, "too_old"},
	} {
		assert.Equal(t, tc.want, e.sink.AgeReason(tc.t, now), tc.t)
	}
	e2 := newEnv(t, nil)
	assert.Empty(t, e2.sink.AgeReason(now.Add(-13*24*time.Hour), now))
}

func TestNamesSanitised(t *testing.T) {
	e := newEnv(t, func(c *cloudwatch.Config) {
		c.LogGroup = "{service}"
		c.LogStream = "{stream}"
	})
	now := time.Now().Add(-time.Minute)
	long := strings.Repeat("ü", 400) // 800 bytes
	require.NoError(t, e.sink.Send(t.Context(), batchOf(
		rec{t: now, service: "aws/my svc:*é", stream: "/var/log/a:b*c.log", msg: "1"},
		rec{t: now, service: strings.Repeat("s", 600), stream: long, msg: "2"},
		rec{t: now, service: "", stream: "", msg: "3"},
	)))
	assert.Equal(t, []string{"_aws/my_svc___", "api", strings.Repeat("s", 512)}, e.d.Groups())
	g, _ := e.d.Group("_aws/my_svc___")
	assert.Equal(t, []string{"/var/log/a_b_c.log"}, g.Streams)
	g, _ = e.d.Group(strings.Repeat("s", 512))
	assert.Equal(t, []string{strings.Repeat("ü", 256)}, g.Streams)
	g, _ = e.d.Group("api") // empty service → the record's default "api"
	assert.Equal(t, []string{"unknown"}, g.Streams)
	assert.Equal(t, 0, e.d.Errors("InvalidParameterException"))
}

func TestFireLensStreamNames(t *testing.T) {
	e := newEnv(t, nil)
	now := time.Now().Add(-time.Minute)
	fl := func(extra string) string {
		return `{"message":"hi","origin":{"kind":"forward","file":"tag"` + extra + `,"format":"json"}}`
	}
	require.NoError(t, e.sink.Send(t.Context(), batchOf(
		rec{t: now, source: "fwd", stream: "web-firelens-0123abcd", json: fl(`,"container_name":"web","ecs_task_arn":"arn:aws:ecs:us-east-1:1:task/prod/9f8e7d"`)},
		rec{t: now, source: "fwd", stream: "app-firelens-77aa", json: fl("")},
		rec{t: now, source: "fwd", stream: "sometag", json: fl(`,"container_name":"/dockerized"`)},
		rec{t: now, source: "files", stream: "/var/log/x.log", json: `{"message":"file","origin":{"kind":"file","format":"json"}}`},
	)))
	g, _ := e.d.Group("/ai-teams/prod/api")
	want := []string{"app/77aa", "dockerized/" + e.sink.Host(), "web/9f8e7d", e.streamName("files")}
	slices.Sort(want)
	assert.Equal(t, want, g.Streams)
}

func TestEndpointFromEnvironment(t *testing.T) {
	d, url := newDouble(t, cwdouble.Options{})
	t.Setenv("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", url)
	t.Setenv("AWS_REGION", "eu-west-1")
	cfg := cloudwatch.DefaultConfig()
	s, err := cloudwatch.New(t.Context(), cfg, testLogger(t), nil, staticCreds)
	require.NoError(t, err)
	defer s.Close(context.Background())
	require.NoError(t, s.Send(t.Context(), batchOf(rec{t: time.Now(), msg: "via env"})))
	assert.Len(t, d.Events("/ai-teams/prod/api", s.Host()+"/app"), 1)
}

func TestRetryableClassification(t *testing.T) {
	now := time.Now().Add(-time.Minute)
	for _, tc := range []struct {
		name      string
		kind      cwdouble.FaultKind
		throttled bool
	}{
		{"throttling", cwdouble.Throttle, true},
		{"5xx", cwdouble.Unavailable, false},
		{"connection reset", cwdouble.Reset, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			e.d.CreateLogGroup("/ai-teams/prod/api", "", 0)
			require.NoError(t, e.d.CreateLogStream("/ai-teams/prod/api", e.streamName("app")))
			e.d.Inject("PutLogEvents", tc.kind, 1)
			b := batchOf(rec{t: now, msg: "a"})
			err := e.sink.Send(t.Context(), b)
			require.Error(t, err)
			assert.False(t, sink.IsPermanent(err))
			var pe *sink.PartialError
			assert.False(t, errors.As(err, &pe))
			var th *sink.ThrottledError
			assert.Equal(t, tc.throttled, errors.As(err, &th), "%v", err)
			assert.Equal(t, 1, e.d.Calls("PutLogEvents"), "the SDK did not retry")
			require.NoError(t, e.sink.Send(t.Context(), b))
			assert.Len(t, e.d.Events("/ai-teams/prod/api", e.streamName("app")), 1)
		})
	}
}

func TestInvalidParameterIsPermanent(t *testing.T) {
	e := newEnv(t, func(c *cloudwatch.Config) { c.MaxBatchEvents = 2; c.Concurrency = 1 })
	now := time.Now().Add(-time.Minute)
	e.d.CreateLogGroup("/ai-teams/prod/api", "", 0)
	require.NoError(t, e.d.CreateLogStream("/ai-teams/prod/api", e.streamName("app")))
	// One call of two refused as invalid, the other accepted: the refused
	// call's records come back in a PartialError.
	e.d.InjectAfter("PutLogEvents", 1, cwdouble.Invalid, 1)
	b := batchOf(rec{t: now, msg: "a"}, rec{t: now, msg: "b"}, rec{t: now.Add(time.Second), msg: "c"})
	err := e.sink.Send(t.Context(), b)
	var pe *sink.PartialError
	require.ErrorAs(t, err, &pe)
	require.Len(t, pe.Items, 1)
	assert.Equal(t, 2, pe.Items[0].Index)
	assert.Equal(t, "invalid_parameter", pe.Items[0].Reason)

	// Every call refused: Permanent.
	e.d.Inject("PutLogEvents", cwdouble.Invalid, 1)
	err = e.sink.Send(t.Context(), batchOf(rec{t: now, msg: "d"}))
	require.True(t, sink.IsPermanent(err), "%v", err)
	assert.Equal(t, int64(2), e.sink.Stats().ErrPermanent.Load())
}

func TestRetryResendsOnlyFailedCalls(t *testing.T) {
	e := newEnv(t, func(c *cloudwatch.Config) { c.MaxBatchEvents = 100; c.Concurrency = 1 })
	e.d.CreateLogGroup("/ai-teams/prod/api", "", 0)
	require.NoError(t, e.d.CreateLogStream("/ai-teams/prod/api", e.streamName("app")))
	now := time.Now().Add(-time.Minute)
	var recs []rec
	for i := range 500 {
		recs = append(recs, rec{t: now.Add(time.Duration(i) * time.Millisecond), msg: fmt.Sprint(i)})
	}
	b := batchOf(recs...)
	e.d.InjectAfter("PutLogEvents", 1, cwdouble.Unavailable, 1) // call 2 of 5 fails
	e.d.InjectAfter("PutLogEvents", 2, cwdouble.Throttle, 1)    // then call 5 (of the rest)
	err := e.sink.Send(t.Context(), b)
	var th *sink.ThrottledError
	require.ErrorAs(t, err, &th)
	assert.Contains(t, err.Error(), "2 of 5 PutLogEvents calls not delivered")
	assert.Len(t, e.d.Events("/ai-teams/prod/api", e.streamName("app")), 300)
	require.NoError(t, e.sink.Send(t.Context(), b))
	assert.Equal(t, 7, e.d.Calls("PutLogEvents"), "5 + the 2 failed ones")
	assertExactlyOnce(t, e.d, b)
}

// assertExactlyOnce checks every record of b was accepted exactly once.
func assertExactlyOnce(t *testing.T, d *cwdouble.Server, batches ...*event.Batch) {
	t.Helper()
	seen := map[string]int{}
	for _, evs := range d.AllEvents() {
		for _, ev := range evs {
			seen[ev.Message]++
		}
	}
	n := 0
	for _, b := range batches {
		for i := range b.Items {
			n++
			require.Equal(t, 1, seen[string(b.JSON(i))], "record %s", b.JSON(i))
		}
	}
	require.Equal(t, n, d.EventCount())
}

func TestConcurrentSends(t *testing.T) {
	e := newEnv(t, func(c *cloudwatch.Config) { c.MaxBatchEvents = 50 })
	now := time.Now().Add(-time.Minute)
	var batches []*event.Batch
	for g := range 8 {
		var recs []rec
		for i := range 300 {
			recs = append(recs, rec{t: now.Add(-time.Duration(rand.IntN(10000)) * time.Millisecond),
				service: fmt.Sprintf("svc%d", i%3), source: fmt.Sprintf("src%d", g%2), msg: fmt.Sprintf("%d-%d", g, i)})
		}
		batches = append(batches, batchOf(recs...))
	}
	e.d.Inject("", cwdouble.Throttle, 5)
	var wg sync.WaitGroup
	for _, b := range batches {
		wg.Go(func() {
			for {
				err := e.sink.Send(context.Background(), b)
				if err == nil {
					return
				}
				if sink.IsPermanent(err) {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	assertExactlyOnce(t, e.d, batches...)
	assert.Len(t, e.d.Groups(), 3)
	assert.Equal(t, 0, e.d.Errors("InvalidParameterException"))
}

func TestThrottleStopsFurtherCallsOfTheSend(t *testing.T) {
	e := newEnv(t, func(c *cloudwatch.Config) { c.MaxBatchEvents = 10; c.Concurrency = 1 })
	e.d.CreateLogGroup("/ai-teams/prod/api", "", 0)
	require.NoError(t, e.d.CreateLogStream("/ai-teams/prod/api", e.streamName("app")))
	now := time.Now().Add(-time.Minute)
	var recs []rec
	for i := range 50 {
		recs = append(recs, rec{t: now.Add(time.Duration(i) * time.Millisecond), msg: fmt.Sprint(i)})
	}
	b := batchOf(recs...)
	e.d.InjectAfter("PutLogEvents", 1, cwdouble.Throttle, 1)
	err := e.sink.Send(t.Context(), b)
	var th *sink.ThrottledError
	require.ErrorAs(t, err, &th)
	assert.Contains(t, err.Error(), "ThrottlingException")
	assert.Contains(t, err.Error(), "4 of 5 PutLogEvents calls not delivered")
	assert.Equal(t, 2, e.d.Calls("PutLogEvents"), "nothing started after the throttle")
	require.NoError(t, e.sink.Send(t.Context(), b))
	assert.Equal(t, 6, e.d.Calls("PutLogEvents"))
	assertExactlyOnce(t, e.d, b)
}
