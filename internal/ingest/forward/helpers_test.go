package forward

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/starmates/logshipd/internal/event"
	"github.com/starmates/logshipd/internal/ingest"
	"github.com/starmates/logshipd/internal/normalize"
)

// ---- a tiny msgpack encoder for hand-built frames ----

type mp []byte

func (m mp) arr(n int) mp {
	switch {
	case n < 16:
		return append(m, 0x90|byte(n))
	case n < 1<<16:
		return binary.BigEndian.AppendUint16(append(m, 0xdc), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(m, 0xdd), uint32(n))
}

func (m mp) mapN(n int) mp {
	switch {
	case n < 16:
		return append(m, 0x80|byte(n))
	case n < 1<<16:
		return binary.BigEndian.AppendUint16(append(m, 0xde), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(m, 0xdf), uint32(n))
}

func (m mp) str(s string) mp { return appendStr(m, s) }

func (m mp) bin(b []byte) mp {
	switch n := len(b); {
	case n < 1<<8:
		m = append(m, 0xc4, byte(n))
	case n < 1<<16:
		m = binary.BigEndian.AppendUint16(append(m, 0xc5), uint16(n))
	default:
		m = binary.BigEndian.AppendUint32(append(m, 0xc6), uint32(n))
	}
	return append(m, b...)
}

func (m mp) int(i int64) mp {
	if i >= 0 && i < 128 {
		return append(m, byte(i))
	}
	return binary.BigEndian.AppendUint64(append(m, 0xd3), uint64(i))
}

func (m mp) uint32v(u uint32) mp { return binary.BigEndian.AppendUint32(append(m, 0xce), u) }

func (m mp) float(f float64) mp {
	return binary.BigEndian.AppendUint64(append(m, 0xcb), math.Float64bits(f))
}

func (m mp) nil() mp { return append(m, 0xc0) }

func (m mp) boolean(b bool) mp {
	if b {
		return append(m, 0xc3)
	}
	return append(m, 0xc2)
}

// eventTime appends EventTime as fixext8 (ext8 when long is set).
func (m mp) eventTime(t time.Time, long bool) mp {
	if long {
		m = append(m, 0xc7, 8, 0)
	} else {
		m = append(m, 0xd7, 0)
	}
	m = binary.BigEndian.AppendUint32(m, uint32(t.Unix()))
	return binary.BigEndian.AppendUint32(m, uint32(t.Nanosecond()))
}

// kv appends a flat map of string keys to string values, in order.
func (m mp) kv(pairs ...string) mp {
	m = m.mapN(len(pairs) / 2)
	for _, s := range pairs {
		m = m.str(s)
	}
	return m
}

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	_, err := w.Write(b)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return buf.Bytes()
}

// ---- fake lanes ----

type gotLine struct {
	tag    string
	raw    string
	fields map[string]any
}

// fakeLanes records every line. Commit calls done at once (Delivered,
// watermark = last end) unless hold is set, in which case the test
// releases dones with release. block, when non-nil, makes Commit wait for
// it (a full sink queue).
type fakeLanes struct {
	t     testing.TB
	mu    sync.Mutex
	lanes []*fakeLane
	lines []gotLine
	hold  bool
	held  []heldDone
	block chan struct{}
	// flushDelay > 0 holds each lane's last line back (see fakeLane).
	flushDelay time.Duration
	commits    int
	closed     int
	changed    chan struct{}
}

type heldDone struct {
	lane *fakeLane
	wm   int64
	done func(event.Status, int64)
}

type fakeLane struct {
	p       *fakeLanes
	origin  normalize.Origin
	lastEnd int64 // end of the last line written
	pending int

	// With fakeLanes.flushDelay, the last line is held back (like a
	// multiline record that may continue) until the next line or until
	// FlushIdle runs flushDelay after it; the watermark then stays below it.
	heldEnd int64
	heldAt  time.Time
	emitted int64 // watermark: end of the last emitted line
	flushes int
}

func newFakeLanes(t testing.TB) *fakeLanes {
	return &fakeLanes{t: t, changed: make(chan struct{}, 1)}
}

func (p *fakeLanes) NewLane(o normalize.Origin) ingest.Lane {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := &fakeLane{p: p, origin: o, lastEnd: -1}
	p.lanes = append(p.lanes, l)
	return l
}

func (l *fakeLane) Write(line []byte, start, end int64, _ time.Time) {
	p := l.p
	var fields map[string]any
	if err := json.Unmarshal(line, &fields); err != nil {
		p.t.Errorf("line is not a JSON object: %v: %q", err, line)
	}
	p.mu.Lock()
	if start >= end || (l.lastEnd >= 0 && start != l.lastEnd) {
		p.t.Errorf("bad offsets %d..%d after %d", start, end, l.lastEnd)
	}
	l.lastEnd = end
	if p.flushDelay > 0 {
		if l.heldEnd > 0 {
			l.emitted = l.heldEnd
			l.pending++
		}
		l.heldEnd, l.heldAt = end, time.Now()
	} else {
		l.emitted = end
		l.pending++
	}
	p.lines = append(p.lines, gotLine{tag: l.origin.Path, raw: string(line), fields: fields})
	p.mu.Unlock()
	signal(p.changed)
}

func (l *fakeLane) FlushIdle(now time.Time) time.Time {
	p := l.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if l.heldEnd == 0 {
		return time.Time{}
	}
	due := l.heldAt.Add(p.flushDelay)
	if now.Before(due) {
		return due
	}
	l.emitted, l.heldEnd = l.heldEnd, 0
	l.pending++
	l.flushes++
	return time.Time{}
}
func (l *fakeLane) FlushAll(time.Time) {
	l.p.mu.Lock()
	defer l.p.mu.Unlock()
	if l.heldEnd > 0 {
		l.emitted, l.heldEnd = l.heldEnd, 0
		l.pending++
	}
}
func (l *fakeLane) Pending() int { l.p.mu.Lock(); defer l.p.mu.Unlock(); return l.pending }
func (l *fakeLane) Close()       { l.p.mu.Lock(); l.p.closed++; l.p.mu.Unlock() }

func (l *fakeLane) Commit(ctx context.Context, done func(event.Status, int64)) error {
	p := l.p
	if p.block != nil {
		select {
		case <-p.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	p.mu.Lock()
	p.commits++
	l.pending = 0
	wm := l.emitted
	if p.hold {
		p.held = append(p.held, heldDone{lane: l, wm: wm, done: done})
		p.mu.Unlock()
		signal(p.changed)
		return nil
	}
	p.mu.Unlock()
	done(event.Delivered, wm)
	return nil
}

// heldCount returns the number of withheld dones.
func (p *fakeLanes) heldCount() int { p.mu.Lock(); defer p.mu.Unlock(); return len(p.held) }

// release calls the withheld dones (all, or those of lane tag) with st.
func (p *fakeLanes) release(st event.Status, tag string) {
	p.mu.Lock()
	var run, keep []heldDone
	for _, h := range p.held {
		if tag == "" || h.lane.origin.Path == tag {
			run = append(run, h)
		} else {
			keep = append(keep, h)
		}
	}
	p.held = keep
	p.mu.Unlock()
	for _, h := range run {
		h.done(st, h.wm)
	}
}

func (p *fakeLanes) snapshot() []gotLine {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]gotLine(nil), p.lines...)
}

// waitLines waits until n lines arrived and returns them.
func (p *fakeLanes) waitLines(t testing.TB, n int) []gotLine {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := p.snapshot()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("got %d lines, want %d: %v", len(got), n, got)
		}
		select {
		case <-p.changed:
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// ---- running a source ----

func testConfig() Config {
	cfg := DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	cfg.HealthListen = ""
	cfg.ECSMetadata = "off"
	cfg.ShutdownGrace = 2 * time.Second
	return cfg
}

type running struct {
	src    *Source
	cancel context.CancelFunc
	done   chan error
}

// start runs a source until the test ends.
func start(t *testing.T, cfg Config, lanes ingest.Lanes) *running {
	t.Helper()
	src, err := New("fw", cfg, nil, nil)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{src: src, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- src.Run(ctx, lanes) }()
	select {
	case <-src.Listening():
	case err := <-r.done:
		cancel()
		t.Fatalf("Run: %v", err)
	}
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop cancels Run and waits for it (idempotent).
func (r *running) stop(t testing.TB) {
	t.Helper()
	r.cancel()
	select {
	case err, ok := <-r.done:
		if ok {
			require.NoError(t, err)
			close(r.done)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return")
	}
}

func (r *running) port() int { return r.src.Addr().(*net.TCPAddr).Port }

func dial(t *testing.T, r *running) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", r.src.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// ackReader reads {"ack": chunk} maps from a client connection.
type ackReader struct {
	c   net.Conn
	buf []byte
}

// next reads one ack within d; ok is false on timeout; err is set when the
// connection was closed.
func (a *ackReader) next(t *testing.T, d time.Duration) (chunk string, ok bool, err error) {
	t.Helper()
	require.NoError(t, a.c.SetReadDeadline(time.Now().Add(d)))
	for {
		var sc scanner
		if done, serr := sc.scan(a.buf); serr == nil && done {
			msg := a.buf[:sc.off]
			var v mval
			i, _ := head(msg, 0, &v)
			require.Equal(t, mkMap, v.kind, "ack is a map")
			require.EqualValues(t, 1, v.n)
			i, _ = head(msg, i, &v)
			require.Equal(t, "ack", string(v.raw))
			_, _ = head(msg, i, &v)
			a.buf = a.buf[sc.off:]
			return string(v.raw), true, nil
		}
		tmp := make([]byte, 512)
		n, rerr := a.c.Read(tmp)
		a.buf = append(a.buf, tmp[:n]...)
		if n > 0 {
			continue
		}
		if rerr != nil {
			var ne net.Error
			if errors.As(rerr, &ne) && ne.Timeout() {
				return "", false, nil
			}
			return "", false, rerr
		}
	}
}

func eventually(t testing.TB, cond func() bool, what string) {
	t.Helper()
	require.Eventually(t, cond, 10*time.Second, 5*time.Millisecond, what)
}
