package normalize

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/starmates/logshipd/internal/event"
	"github.com/starmates/logshipd/internal/schematest"
)

// one normalizes input and returns the parsed records, schema-checked.
func run(t *testing.T, cfg Config, input string) []gjson.Result {
	t.Helper()
	out := normalizeAll(t, cfg, []byte(input))
	var recs []gjson.Result
	for _, l := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		require.NoError(t, schematest.Validate(l))
		recs = append(recs, gjson.ParseBytes(l))
	}
	return recs
}

func TestTrackingIDRules(t *testing.T) {
	cases := []struct {
		name, line, want, invalid string
	}{
		{"uuid alias wins", `{"msg":"a","x-tracking-id":"A1B2C3D4-E5F6-4A7B-8C9D-0E1F2A3B4C5D","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}`, "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", ""},
		{"uuid v1 is invalid, trace id next", `{"msg":"a","tracking_id":"a1b2c3d4-e5f6-1a7b-8c9d-0e1f2a3b4c5d","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}`, "4bf92f3577b34da6a3ce929d0e0e4736", "a1b2c3d4-e5f6-1a7b-8c9d-0e1f2a3b4c5d"},
		{"traceparent", `{"msg":"a","traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}`, "4bf92f3577b34da6a3ce929d0e0e4736", ""},
		{"32-hex producer fallback kept", `{"msg":"a","tracking_id":"0af7651916cd43dd8448eb211c80319c"}`, "0af7651916cd43dd8448eb211c80319c", ""},
		{"nothing: fallback", `{"msg":"a"}`, "unknown", ""},
		{"garbage kept for debugging", `{"msg":"a","tracking_id":"12345"}`, "unknown", "12345"},
		{"all-zero trace id ignored", `{"msg":"a","trace_id":"00000000000000000000000000000000"}`, "unknown", ""},
		{"from text", `INFO:app:done tracking_id=be3f8ccc-09d2-4fea-9201-50b7b51e0246 ok`, "be3f8ccc-09d2-4fea-9201-50b7b51e0246", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			recs := run(t, DefaultConfig(), c.line+"\n")
			require.Len(t, recs, 1)
			assert.Equal(t, c.want, recs[0].Get("tracking_id").Str)
			assert.Equal(t, c.invalid, recs[0].Get("origin.invalid_tracking_id").Str)
		})
	}
}

func TestTrackingFallbackConfigurable(t *testing.T) {
	cfg := DefaultConfig()
	cfg.TrackingIDFallback = "none"
	recs := run(t, cfg, "hello\n")
	assert.Equal(t, "none", recs[0].Get("tracking_id").Str)
	cfg.TrackingIDFallback = strings.Repeat("x", 37)
	_, err := New(cfg, nil)
	require.Error(t, err)
}

func TestLevelMapping(t *testing.T) {
	cases := map[string]string{
		`{"level":"WARNING","msg":"x"}`:    "WARN",
		`{"level":"critical","msg":"x"}`:   "ERROR",
		`{"level":"FATAL","msg":"x"}`:      "ERROR",
		`{"level":"panic","msg":"x"}`:      "ERROR",
		`{"level":"emerg","msg":"x"}`:      "ERROR",
		`{"level":"alert","msg":"x"}`:      "ERROR",
		`{"level":"trace","msg":"x"}`:      "DEBUG",
		`{"level":"notice","msg":"x"}`:     "INFO",
		`{"level":10,"msg":"x"}`:           "DEBUG",
		`{"level":40,"msg":"x"}`:           "WARN",
		`{"level":60,"msg":"x"}`:           "ERROR",
		`{"PRIORITY":"3","MESSAGE":"x"}`:   "ERROR",
		`{"PRIORITY":"6","MESSAGE":"x"}`:   "INFO",
		`{"severityNumber":13,"body":"x"}`: "WARN",
		`{"level":"STATS","msg":"x"}`:      "INFO", // unmapped: policy
		`127.0.0.1 - - [25/Nov/2026:21:43:45 +0000] "GET / HTTP/1.1" 503 1 "-" "-"`: "ERROR",
		`127.0.0.1 - - [25/Nov/2026:21:43:45 +0000] "GET / HTTP/1.1" 404 1 "-" "-"`: "WARN",
		`127.0.0.1 - - [25/Nov/2026:21:43:45 +0000] "GET / HTTP/1.1" 302 1 "-" "-"`: "INFO",
	}
	for line, want := range cases {
		recs := run(t, DefaultConfig(), line+"\n")
		require.Len(t, recs, 1, line)
		assert.Equal(t, want, recs[0].Get("level").Str, line)
		assert.Equal(t, want, recs[0].Get(`\@level`).Str, line)
	}
	recs := run(t, DefaultConfig(), `{"level":"STATS","msg":"x"}`+"\n")
	assert.True(t, recs[0].Get("origin.level_unmapped").Bool())
	assert.Equal(t, "STATS", recs[0].Get("origin.level_raw").Str)
}

func TestLevelFilterPerEnvironment(t *testing.T) {
	input := `{"level":"debug","msg":"d"}
{"level":"info","msg":"i"}
{"level":"warn","msg":"w"}
{"level":"error","msg":"e","environment":"dev"}
{"level":"debug","msg":"dev record in a prod stream","env":"dev"}
`
	cfg := DefaultConfig()
	cfg.Environment = "prod"
	eng, err := New(cfg, nil)
	require.NoError(t, err)
	var got []string
	st := eng.NewStream(Origin{}, func(r *event.Record) {
		if !r.BelowLevel {
			got = append(got, gjson.GetBytes(r.JSON, "message").Str)
		}
	})
	for _, l := range strings.Split(strings.TrimSpace(input), "\n") {
		st.Write([]byte(l), goldenNow)
	}
	st.Flush(goldenNow)
	assert.Equal(t, []string{"w", "e", "dev record in a prod stream"}, got)
	assert.EqualValues(t, 2, eng.Stats().LevelFiltered.Load())

	cfg.LevelFilter = map[string]string{"prod": "BOGUS"}
	_, err = New(cfg, nil)
	require.Error(t, err)
}

func TestTimezoneForZonelessTimes(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Timezone = "America/New_York"
	recs := run(t, cfg, "2026-11-25 16:47:12,284 - app - INFO - hi\n"+`{"time":"2026-11-25T16:47:12.284-05:00","msg":"zoned"}`+"\n")
	require.Len(t, recs, 2)
	assert.Equal(t, "2026-11-25T21:47:12.284Z", recs[0].Get(`\@timestamp`).Str)
	assert.Equal(t, "2026-11-25T21:47:12.284Z", recs[1].Get(`\@timestamp`).Str)
}

func TestMissingTimestampIsFlagged(t *testing.T) {
	recs := run(t, DefaultConfig(), "just text\n")
	assert.Equal(t, "ingest", recs[0].Get("origin.timestamp_source").Str)
	assert.Equal(t, "2026-11-25T23:00:00.000Z", recs[0].Get(`\@timestamp`).Str)
}

func TestTimestampTruncatedToMillis(t *testing.T) {
	recs := run(t, DefaultConfig(), `{"time":"2026-11-25T21:45:15.348999999Z","msg":"x"}`+"\n")
	assert.Equal(t, "2026-11-25T21:45:15.348Z", recs[0].Get(`\@timestamp`).Str)
	assert.Equal(t, "2026-11-25T21:45:15.348999Z", recs[0].Get("timestamp").Str)
}

func TestFieldCap(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"msg":"wide","level":"info"`)
	for i := range 400 {
		fmt.Fprintf(&b, `,"k%03d":%d`, i, i)
	}
	b.WriteString("}\n")
	cfg := DefaultConfig()
	recs := run(t, cfg, b.String())
	require.Len(t, recs, 1)
	r := recs[0]
	assert.LessOrEqual(t, countLeafFields(r), cfg.MaxFields)
	dropped := r.Get("origin.fields_dropped").Int()
	assert.Positive(t, dropped)
	kept := len(r.Get("attrs").Map())
	assert.EqualValues(t, 400, int64(kept)+dropped, "every field is either kept or in attrs_overflow")
	// Deterministic: the first fields are kept, the last ones overflow.
	assert.True(t, r.Get("attrs.k000").Exists())
	assert.False(t, r.Get("attrs.k399").Exists())
	overflow := gjson.Parse(r.Get("attrs_overflow").Str)
	assert.EqualValues(t, 399, overflow.Get("k399").Int())
	assert.Equal(t, "wide", r.Get("message").Str, "essential fields are never dropped")

	cfg.MaxFields = 10
	_, err := New(cfg, nil)
	require.Error(t, err)
}

// countLeafFields counts leaves the way Logs Insights flattens JSON.
func countLeafFields(r gjson.Result) int {
	if !r.IsObject() && !r.IsArray() {
		return 1
	}
	n := 0
	r.ForEach(func(_, v gjson.Result) bool {
		n += countLeafFields(v)
		return true
	})
	if n == 0 {
		return 1
	}
	return n
}

func TestEventSizeCap(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxEventBytes = 8192
	long := strings.Repeat("é", 10000) // 20000 bytes of 2-byte runes
	recs := run(t, cfg, `{"level":"error","msg":"`+long+`","stack_trace":"`+strings.Repeat("x", 3000)+`"}`+"\n")
	require.Len(t, recs, 1)
	assert.LessOrEqual(t, len(recs[0].Raw), cfg.MaxEventBytes)
	msg := recs[0].Get("message").Str
	assert.Contains(t, msg, "[truncated ")
	assert.Regexp(t, `\[truncated \d+ bytes\]$`, msg)
	assert.Equal(t, msg, recs[0].Get(`\@message`).Str)
}

func TestInvalidBytesMakeValidJSON(t *testing.T) {
	recs := run(t, DefaultConfig(), "bad \xff\xfe bytes \x00 nul \x1b[31m red\x1b[0m \u2028 sep\n")
	require.Len(t, recs, 1)
	assert.Equal(t, "bad \ufffd\ufffd bytes \x00 nul  red \u2028 sep", recs[0].Get("message").Str)
}

func TestMultilineBounds(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Multiline.MaxLines = 5
	var b strings.Builder
	b.WriteString("ERROR:app:boom\nTraceback (most recent call last):\n")
	for i := range 20 {
		fmt.Fprintf(&b, "  File \"x.py\", line %d, in f\n", i)
	}
	b.WriteString("ValueError: bad\nINFO:app:next\n")
	eng, err := New(cfg, nil)
	require.NoError(t, err)
	var recs []gjson.Result
	st := eng.NewStream(Origin{}, func(r *event.Record) { recs = append(recs, gjson.ParseBytes(r.Clone().JSON)) })
	for _, l := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		st.Write([]byte(l), goldenNow)
	}
	st.Flush(goldenNow)
	require.Len(t, recs, 2)
	assert.Regexp(t, `\[truncated \d+ bytes, 18 lines\]$`, recs[0].Get("exception.stack_trace").Str)
	assert.EqualValues(t, 1, eng.Stats().MultilineTruncs.Load())
	assert.Equal(t, "next", recs[1].Get("message").Str)
}

func TestFlushIdle(t *testing.T) {
	eng, err := New(DefaultConfig(), nil)
	require.NoError(t, err)
	var n int
	st := eng.NewStream(Origin{}, func(*event.Record) { n++ })
	t0 := goldenNow
	st.Write([]byte("ERROR:app:boom"), t0)
	st.Write([]byte("Traceback (most recent call last):"), t0)
	assert.Equal(t, 0, n, "pending until the next line or the timeout")
	next := st.FlushIdle(t0.Add(500 * time.Millisecond))
	assert.Equal(t, 0, n)
	assert.Equal(t, t0.Add(time.Second), next)
	assert.True(t, st.FlushIdle(t0.Add(time.Second)).IsZero())
	assert.Equal(t, 1, n)
}

func TestContainerStreamsJoinSeparately(t *testing.T) {
	input := `{"log":"ERROR:    Exception in ASGI application\n","stream":"stderr","time":"2026-11-25T21:49:41.1Z"}
{"log":"{\"message\":\"interleaved stdout\",\"levelname\":\"INFO\"}\n","stream":"stdout","time":"2026-11-25T21:49:41.2Z"}
{"log":"Traceback (most recent call last):\n","stream":"stderr","time":"2026-11-25T21:49:41.3Z"}
{"log":"  File \"a.py\", line 1, in f\n","stream":"stderr","time":"2026-11-25T21:49:41.3Z"}
{"log":"ZeroDivisionError: division by zero\n","stream":"stderr","time":"2026-11-25T21:49:41.3Z"}
{"log":"INFO:     done\n","stream":"stderr","time":"2026-11-25T21:49:41.4Z"}
`
	recs := run(t, DefaultConfig(), input)
	require.Len(t, recs, 3)
	var errRec gjson.Result
	for _, r := range recs {
		if r.Get("level").Str == "ERROR" {
			errRec = r
		}
	}
	assert.Equal(t, "ZeroDivisionError", errRec.Get("exception.class").Str)
	assert.Equal(t, "stderr", errRec.Get("origin.stream").Str)
	assert.Equal(t, "2026-11-25T21:49:41.100Z", errRec.Get(`\@timestamp`).Str, "container time when the payload has none")
	assert.Equal(t, "container", errRec.Get("origin.timestamp_source").Str)
}

func TestDockerPartialsRejoined(t *testing.T) {
	big := strings.Repeat("a", 16384)
	input := `{"log":"{\"msg\":\"` + big + `","stream":"stdout","time":"2026-11-25T21:49:41.1Z"}
{"log":"tail\",\"level\":\"warn\"}\n","stream":"stdout","time":"2026-11-25T21:49:41.1Z"}
`
	recs := run(t, DefaultConfig(), input)
	require.Len(t, recs, 1)
	assert.Equal(t, big+"tail", recs[0].Get("message").Str)
	assert.Equal(t, "WARN", recs[0].Get("level").Str)
}

func TestAtFieldsSwitch(t *testing.T) {
	cfg := DefaultConfig()
	off := false
	cfg.AtFields = &off
	out := normalizeAll(t, cfg, []byte(`{"msg":"x"}`+"\n"))
	assert.False(t, gjson.GetBytes(out, `\@message`).Exists())
	assert.True(t, gjson.GetBytes(out, "message").Exists())
}

func TestConfigValidationListsEveryProblem(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Format = "nope"
	cfg.Timezone = "Mars/Olympus"
	cfg.MaxFields = 5000
	err := cfg.Validate()
	require.Error(t, err)
	for _, want := range []string{"format", "timezone", "max_fields"} {
		assert.Contains(t, err.Error(), want)
	}
}

func TestForcedFormat(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Format = "logfmt"
	recs := run(t, cfg, `{"msg":"json but forced logfmt"}`+"\nlevel=warn msg=hi\n")
	require.Len(t, recs, 2)
	assert.Equal(t, "plain", recs[0].Get("origin.format").Str)
	assert.Equal(t, "WARN", recs[1].Get("level").Str)
}

func TestWatermark(t *testing.T) {
	eng, err := New(DefaultConfig(), nil)
	require.NoError(t, err)
	var n int
	st := eng.NewStream(Origin{}, func(*event.Record) { n++ })
	lines := []string{"ERROR:app:boom", "Traceback (most recent call last):", "  File \"a.py\", line 1, in f", "ValueError: x", "INFO:app:next"}
	var off int64
	var starts []int64
	for _, l := range lines {
		starts = append(starts, off)
		st.WriteAt([]byte(l), off, off+int64(len(l))+1, goldenNow)
		off += int64(len(l)) + 1
	}
	assert.Equal(t, 1, n)
	assert.Equal(t, starts[4], st.Watermark(), "the pending INFO record starts at line 5")
	st.Flush(goldenNow)
	assert.Equal(t, off, st.Watermark())
	assert.False(t, st.Pending())

	// Partial container chunks hold the watermark at the first chunk.
	st2 := eng.NewStream(Origin{}, func(*event.Record) {})
	a := `{"log":"part ","stream":"stdout","time":"2026-11-25T21:49:41Z"}`
	st2.WriteAt([]byte(a), 0, int64(len(a))+1, goldenNow)
	assert.EqualValues(t, 0, st2.Watermark())
}
