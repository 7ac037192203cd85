package normalize

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/starmates/logshipd/bench/workload"
	"github.com/starmates/logshipd/internal/event"
)

// chunkRun feeds data line by line (with offsets) through a Chunker whose
// Parts run at once on a second Stream, calling Cut at random lines, and
// checks after every Cut that the watermark is exactly the start of the
// first record not yet emitted (headers are the lines isHeader accepts).
func chunkRun(t *testing.T, data []byte, partSize int, seed uint64, isHeader func([]byte) bool, wantParts bool) []string {
	t.Helper()
	eng, err := New(DefaultConfig(), nil)
	require.NoError(t, err)
	var out []string
	emit := func(r *event.Record) { out = append(out, string(r.JSON)) }
	partSt := eng.NewStream(event.Origin{Kind: "file", Path: "in.log"}, emit)
	parts := 0
	ch := eng.NewChunker(event.Origin{Kind: "file", Path: "in.log"}, emit, func(p *Part) {
		parts++
		p.Run(partSt)
		p.Release()
	})
	ch.SetPartSize(partSize)
	var headers []int64 // start offsets of record headers
	rnd := rand.New(rand.NewPCG(seed, 1))
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	lastWM := int64(0)
	total := len(data)
	var off int64
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		line := data[:i]
		if isHeader != nil && isHeader(line) {
			headers = append(headers, off)
		}
		ch.Write(line, off, off+int64(i)+1, now)
		off += int64(i) + 1
		data = data[i+1:]
		if rnd.IntN(200) == 0 {
			ch.Cut()
			wm := ch.Watermark()
			require.GreaterOrEqual(t, wm, lastWM, "watermark went back")
			lastWM = wm
			if isHeader == nil {
				continue
			}
			below := 0
			for _, h := range headers {
				if h < wm {
					below++
				}
			}
			require.Equal(t, below, len(out), "records emitted vs headers below watermark %d at offset %d", wm, off)
		}
	}
	ch.Flush(now)
	assert.Equal(t, off, ch.Watermark())
	if isHeader != nil {
		assert.Equal(t, len(headers), len(out))
	}
	if wantParts && partSize < total/4 {
		assert.Positive(t, parts, "part size %d of %d bytes", partSize, total)
	}
	return out
}

func sequential(t *testing.T, data []byte) []string {
	t.Helper()
	eng, err := New(DefaultConfig(), nil)
	require.NoError(t, err)
	var out []string
	st := eng.NewStream(event.Origin{Kind: "file", Path: "in.log"}, func(r *event.Record) { out = append(out, string(r.JSON)) })
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	for l := range bytes.Lines(data) {
		st.Write(bytes.TrimSuffix(l, []byte("\n")), now)
	}
	st.Flush(now)
	return out
}

// Cutting anywhere, with Parts of any size, gives the sequential output,
// and the watermark never passes a record that was not emitted (nor lags
// behind one that was): a checkpoint taken at any commit is exact.
func TestChunkerMatchesSequentialWithExactWatermarks(t *testing.T) {
	for _, kind := range []string{"python2", "python", "json", "nginx", "docker", "logfmt", "firelens"} {
		var buf bytes.Buffer
		require.NoError(t, workload.GenerateAny(&buf, kind, 4000, 3))
		data := buf.Bytes()
		want := sequential(t, data)
		// Where records start, to check watermarks exactly (docker payloads
		// carry multiline text inside the envelopes: not checked).
		var isHeader func([]byte) bool
		switch kind {
		case "python", "python2":
			isHeader = func(l []byte) bool { return len(l) > 0 && l[0] >= '0' && l[0] <= '9' }
		case "json", "nginx", "logfmt", "firelens":
			isHeader = func([]byte) bool { return true }
		}
		for _, size := range []int{700, 4096, 64 << 10, DefaultPartSize} {
			// Container envelopes have no safe boundaries: no Parts.
			got := chunkRun(t, data, size, uint64(size), isHeader, kind != "docker" && kind != "firelens")
			require.Equal(t, len(want), len(got), "%s part size %d", kind, size)
			for i := range want {
				require.Equal(t, want[i], got[i], "%s part size %d record %d", kind, size, i)
			}
		}
	}
}

// A record left open at a commit is not emitted until the next line (or
// the flush timeout) shows it ended, and the watermark stays at its start.
func TestChunkerOpenRecordHoldsWatermark(t *testing.T) {
	eng, err := New(DefaultConfig(), nil)
	require.NoError(t, err)
	var out []string
	ch := eng.NewChunker(event.Origin{Kind: "file"}, func(r *event.Record) { out = append(out, string(r.JSON)) }, func(p *Part) { t.Fatal("no part expected") })
	now := time.Now()
	lines := []string{
		"2026-11-26 10:00:00,000 - app - ERROR - boom",
		"Traceback (most recent call last):",
		`  File "x.py", line 1, in <module>`,
	}
	var off int64
	for _, l := range lines {
		ch.Write([]byte(l), off, off+int64(len(l))+1, now)
		off += int64(len(l)) + 1
	}
	ch.Cut()
	assert.Empty(t, out)
	assert.Equal(t, int64(0), ch.Watermark())
	assert.Equal(t, now.Add(DefaultConfig().Multiline.FlushTimeout), ch.FlushIdle(now))
	ch.Write([]byte("ValueError: bad"), off, off+16, now)
	off += 16
	ch.Cut()
	assert.Empty(t, out, "the exception line may still be followed by a chained traceback")
	next := ch.FlushIdle(now.Add(2 * DefaultConfig().Multiline.FlushTimeout))
	assert.True(t, next.IsZero())
	require.Len(t, out, 1)
	assert.Equal(t, "ValueError", gjson.Get(out[0], "exception.class").Str)
	assert.Equal(t, off, ch.Watermark())
}

// The last line of a commit in a one-line format is emitted at once (no
// flush-timeout latency), even when the commit is big enough for Parts.
func TestChunkerOneLineFormatsDoNotWait(t *testing.T) {
	eng, err := New(DefaultConfig(), nil)
	require.NoError(t, err)
	n := 0
	var partSt *Stream
	partSt = eng.NewStream(event.Origin{Kind: "file"}, func(*event.Record) { n++ })
	ch := eng.NewChunker(event.Origin{Kind: "file"}, func(*event.Record) { n++ }, func(p *Part) { p.Run(partSt); p.Release() })
	ch.SetPartSize(1 << 20)
	line := []byte(`{"timestamp":"2026-11-26T10:00:00Z","level":"INFO","message":"` + strings.Repeat("x", 200) + `"}`)
	var off int64
	for range 1000 {
		ch.Write(line, off, off+int64(len(line))+1, time.Now())
		off += int64(len(line)) + 1
	}
	ch.Cut()
	assert.Equal(t, 1000, n)
	assert.Equal(t, off, ch.Watermark())
}

// Envelope metadata kept by a joiner must not point into the caller's
// line buffer, which sources reuse (regression: a later read overwrote the
// stream name of every following Docker record).
func TestEnvelopeMetaSurvivesBufferReuse(t *testing.T) {
	eng, err := New(DefaultConfig(), nil)
	require.NoError(t, err)
	var out []string
	st := eng.NewStream(event.Origin{Kind: "file"}, func(r *event.Record) { out = append(out, string(r.JSON)) })
	buf := make([]byte, 0, 256)
	for i, l := range []string{
		`{"log":"first\n","stream":"stderr","time":"2026-11-26T10:00:00.000000001Z"}`,
		`{"log":"second\n","stream":"stderr","time":"2026-11-26T10:00:00.000000002Z"}`,
	} {
		buf = append(buf[:0], l...)
		st.Write(buf, time.Now())
		for k := range buf { // the source reads the next chunk into the same buffer
			buf[k] = 'X'
		}
		_ = i
	}
	st.Flush(time.Now())
	require.Len(t, out, 2)
	for _, o := range out {
		assert.Equal(t, "stderr", gjson.Get(o, "origin.stream").Str, o)
	}
}

// A partial line whose final piece never comes is emitted at the flush
// timeout and at end of input (it used to wait forever, holding the
// checkpoint back).
func TestUnfinishedPartialIsEmitted(t *testing.T) {
	eng, err := New(DefaultConfig(), nil)
	require.NoError(t, err)
	var out []string
	st := eng.NewStream(event.Origin{Kind: "file"}, func(r *event.Record) { out = append(out, string(r.JSON)) })
	now := time.Now()
	st.WriteAt([]byte(`2026-11-26T10:00:00.000000001Z stdout P half a li`), 0, 50, now)
	assert.Equal(t, int64(0), st.Watermark())
	assert.Equal(t, now.Add(DefaultConfig().Multiline.FlushTimeout), st.FlushIdle(now))
	st.FlushIdle(now.Add(time.Hour))
	require.Len(t, out, 1)
	assert.Equal(t, "half a li", gjson.Get(out[0], "message").Str)
	assert.Equal(t, int64(1), eng.Stats().PartialUnfinished.Load())
	assert.Equal(t, int64(50), st.Watermark())
}

// A Stream reused for another input names the new input in its records
// (the encoder caches the encoded origin).
func TestSetOriginRenamesInput(t *testing.T) {
	eng, err := New(DefaultConfig(), nil)
	require.NoError(t, err)
	var out []string
	st := eng.NewStream(event.Origin{Kind: "file", Path: "a.log"}, func(r *event.Record) { out = append(out, string(r.JSON)) })
	line := []byte(`{"level":"info","message":"m"}`)
	st.Write(line, time.Now())
	st.Flush(time.Now())
	st.SetOrigin(event.Origin{Kind: "file", Path: "b.log"}, time.Now())
	st.Write(line, time.Now())
	st.Write([]byte(`{"log":"x\n","stream":"stdout","time":"2026-11-26T10:00:00Z"}`), time.Now())
	st.SetOrigin(event.Origin{Kind: "file", Path: "c.log"}, time.Now()) // flushes x as b.log's
	st.Write([]byte(`{"log":"y\n","stream":"stdout","time":"2026-11-26T10:00:00Z"}`), time.Now())
	st.Flush(time.Now())
	require.Len(t, out, 4)
	for i, want := range []string{"a.log", "b.log", "b.log", "c.log"} {
		assert.Equal(t, want, gjson.Get(out[i], "origin.file").Str, out[i])
	}
}
