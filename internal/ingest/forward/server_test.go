package forward

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/starmates/logshipd/internal/event"
)

func chunkFrame(tag, msg, chunk string) []byte {
	return mp{}.arr(4).str(tag).eventTime(t0, false).kv("msg", msg).kv("chunk", chunk)
}

// TestAckEndToEnd: the ack waits for the sinks, not for receipt.
func TestAckEndToEnd(t *testing.T) {
	lanes := newFakeLanes(t)
	lanes.hold = true
	r := start(t, testConfig(), lanes)
	c := dial(t, r)
	acks := &ackReader{c: c}

	_, err := c.Write(chunkFrame("app", "one", "Y2h1bmsx"))
	require.NoError(t, err)
	lanes.waitLines(t, 1)
	eventually(t, func() bool { return lanes.heldCount() == 1 }, "commit")

	// Sink down: no ack.
	_, ok, err := acks.next(t, 300*time.Millisecond)
	require.NoError(t, err)
	require.False(t, ok, "no ack while the sink has not finished")

	// Sink delivers: the ack arrives with the chunk id.
	lanes.release(event.Delivered, "")
	chunk, ok, err := acks.next(t, 5*time.Second)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "Y2h1bmsx", chunk)

	// Rejected and Dropped are final: acked too.
	_, err = c.Write(chunkFrame("app", "two", "c2"))
	require.NoError(t, err)
	eventually(t, func() bool { return lanes.heldCount() == 1 }, "commit")
	lanes.release(event.Rejected, "")
	chunk, ok, err = acks.next(t, 5*time.Second)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "c2", chunk)

	// Failed: connection closed, no ack.
	_, err = c.Write(chunkFrame("app", "three", "c3"))
	require.NoError(t, err)
	eventually(t, func() bool { return lanes.heldCount() == 1 }, "commit")
	lanes.release(event.Failed, "")
	_, ok, err = acks.next(t, 5*time.Second)
	require.False(t, ok)
	require.Error(t, err, "connection closed")
	require.EqualValues(t, 1, r.src.Stats().AckFailures.Load())
	require.EqualValues(t, 2, r.src.Stats().AcksSent.Load())
}

// TestAcksInFrameOrder: two pipelined frames on two tags; the second
// finishes first, but its ack waits for the first.
func TestAcksInFrameOrder(t *testing.T) {
	lanes := newFakeLanes(t)
	lanes.hold = true
	r := start(t, testConfig(), lanes)
	c := dial(t, r)
	acks := &ackReader{c: c}
	_, err := c.Write(append(chunkFrame("a", "1", "first"), chunkFrame("b", "2", "second")...))
	require.NoError(t, err)
	eventually(t, func() bool { return lanes.heldCount() == 2 }, "two commits")
	lanes.release(event.Delivered, "b")
	_, ok, err := acks.next(t, 300*time.Millisecond)
	require.NoError(t, err)
	require.False(t, ok, "second ack must wait for the first")
	lanes.release(event.Delivered, "a")
	for _, want := range []string{"first", "second"} {
		chunk, ok, err := acks.next(t, 5*time.Second)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, want, chunk)
	}
	_ = r
}

// TestBackpressure: while Commit blocks, the connection is not read.
func TestBackpressure(t *testing.T) {
	lanes := newFakeLanes(t)
	lanes.block = make(chan struct{})
	r := start(t, testConfig(), lanes)
	c := dial(t, r)
	_, err := c.Write(chunkFrame("app", "1", "c1"))
	require.NoError(t, err)
	lanes.waitLines(t, 1)
	_, err = c.Write(chunkFrame("app", "2", "c2"))
	require.NoError(t, err)
	time.Sleep(100 * time.Millisecond) // give a wrong implementation time to read on
	require.Len(t, lanes.snapshot(), 1, "second frame not read while Commit blocks")
	close(lanes.block)
	lanes.waitLines(t, 2)
	acks := &ackReader{c: c}
	for _, want := range []string{"c1", "c2"} {
		chunk, ok, err := acks.next(t, 5*time.Second)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, want, chunk)
	}
	_ = r
}

// TestMalformedIsolated: garbage on one connection closes it and is
// counted; a concurrent good connection is unaffected.
func TestMalformedIsolated(t *testing.T) {
	lanes := newFakeLanes(t)
	r := start(t, testConfig(), lanes)
	good := dial(t, r)
	bad := dial(t, r)
	_, err := good.Write(mp{}.arr(3).str("good").int(t1.Unix()).kv("msg", "before"))
	require.NoError(t, err)
	lanes.waitLines(t, 1)
	_, err = bad.Write(append(mp{}.arr(3).str("bad").int(1).kv("msg", "valid"), 0xc1, 0x00))
	require.NoError(t, err)
	require.NoError(t, bad.SetReadDeadline(time.Now().Add(5*time.Second)))
	_, err = bad.Read(make([]byte, 1))
	require.ErrorIs(t, err, io.EOF, "bad connection closed")
	_, err = good.Write(mp{}.arr(3).str("good").int(t1.Unix()).kv("msg", "after"))
	require.NoError(t, err)
	got := lanes.waitLines(t, 3)
	var msgs []string
	for _, g := range got {
		msgs = append(msgs, g.tag+":"+g.fields["msg"].(string))
	}
	require.ElementsMatch(t, []string{"good:before", "bad:valid", "good:after"}, msgs,
		"frames before the bad one on the bad connection are kept")
	require.EqualValues(t, 1, r.src.Stats().DecodeErrors.Load())
}

func TestOversizeFrame(t *testing.T) {
	cfg := testConfig()
	cfg.MaxMessageBytes = 1024
	lanes := newFakeLanes(t)
	r := start(t, cfg, lanes)
	for _, tc := range []struct {
		name  string
		frame []byte
	}{
		{"big record", mp{}.arr(3).str("t").int(1).mapN(1).str("k").bin(make([]byte, 4000))},
		{"huge bin header, no body", mp{}.arr(2).str("t").append(0xc6, 0x7f, 0, 0, 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := r.src.Stats().OversizeFrames.Load()
			c := dial(t, r)
			_, _ = c.Write(tc.frame)
			require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
			_, err := c.Read(make([]byte, 1))
			require.Error(t, err)
			var ne net.Error
			require.False(t, errors.As(err, &ne) && ne.Timeout(), "closed, not timed out")
			require.Equal(t, before+1, r.src.Stats().OversizeFrames.Load())
		})
	}
	require.Empty(t, lanes.snapshot())
}

// TestHandBuiltOverServer sends every mode through a real connection.
func TestHandBuiltOverServer(t *testing.T) {
	lanes := newFakeLanes(t)
	r := start(t, testConfig(), lanes)
	c := dial(t, r)
	var stream []byte
	stream = append(stream, 0xc0) // keep-alive
	stream = append(stream, mp{}.arr(3).str("m").int(t1.Unix()).kv("msg", "message")...)
	stream = append(stream, mp{}.arr(2).str("f").arr(1).arr(2).eventTime(t0, true).kv("msg", "forward")...)
	stream = append(stream, mp{}.arr(2).str("p").bin(entries("packed"))...)
	stream = append(stream, append(mp{}.arr(3).str("g").bin(gzipBytes(t, entries("gzip"))), mp{}.kv("compressed", "gzip", "chunk", "last")...)...)
	// Write one byte at a time: framing must not depend on read boundaries.
	for i := range stream {
		_, err := c.Write(stream[i : i+1])
		require.NoError(t, err)
	}
	acks := &ackReader{c: c}
	chunk, ok, err := acks.next(t, 5*time.Second)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "last", chunk)
	got := lanes.waitLines(t, 4)
	want := []string{"m:message", "f:forward", "p:packed", "g:gzip"}
	for i, g := range got {
		require.Equal(t, want[i], g.tag+":"+g.fields["msg"].(string))
	}
	st := r.src.Stats()
	require.EqualValues(t, 1, st.Keepalives.Load())
	require.EqualValues(t, 1, st.FramesMessage.Load())
	require.EqualValues(t, 1, st.FramesForward.Load())
	require.EqualValues(t, 1, st.FramesPacked.Load())
	require.EqualValues(t, 1, st.FramesCompressed.Load())
}

// TestShutdownWaitsForInflight: Run waits for withheld dones up to the
// grace, sends the ack, then returns; the unix socket file is removed.
func TestShutdownWaitsForInflight(t *testing.T) {
	lanes := newFakeLanes(t)
	lanes.hold = true
	cfg := testConfig()
	cfg.UnixSocket = shortSocketPath(t)
	cfg.ShutdownGrace = 10 * time.Second
	r := start(t, cfg, lanes)
	c, err := net.Dial("unix", cfg.UnixSocket)
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Write(chunkFrame("app", "x", "bye"))
	require.NoError(t, err)
	eventually(t, func() bool { return lanes.heldCount() == 1 }, "commit")
	r.cancel()
	select {
	case <-r.done:
		t.Fatal("Run returned while a batch was in flight")
	case <-time.After(200 * time.Millisecond):
	}
	lanes.release(event.Delivered, "")
	acks := &ackReader{c: c}
	chunk, ok, err := acks.next(t, 5*time.Second)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "bye", chunk)
	r.stop(t)
	_, err = os.Stat(cfg.UnixSocket)
	require.ErrorIs(t, err, os.ErrNotExist)
	lanes.mu.Lock()
	require.Equal(t, 1, lanes.closed, "lane closed")
	lanes.mu.Unlock()
}

// TestShutdownGraceBounds: a batch that never finishes does not hold Run
// past the grace.
func TestShutdownGraceBounds(t *testing.T) {
	lanes := newFakeLanes(t)
	lanes.hold = true
	cfg := testConfig()
	cfg.ShutdownGrace = 300 * time.Millisecond
	r := start(t, cfg, lanes)
	c := dial(t, r)
	_, err := c.Write(chunkFrame("app", "x", "never"))
	require.NoError(t, err)
	eventually(t, func() bool { return lanes.heldCount() == 1 }, "commit")
	began := time.Now()
	r.stop(t)
	require.Less(t, time.Since(began), 5*time.Second)
	lanes.release(event.Delivered, "") // late done after Run returned: harmless
}

// TestIdleTimeout closes a silent connection.
func TestIdleTimeout(t *testing.T) {
	cfg := testConfig()
	cfg.ReadTimeout = time.Second
	r := start(t, cfg, newFakeLanes(t))
	c := dial(t, r)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
	_, err := c.Read(make([]byte, 1))
	require.ErrorIs(t, err, io.EOF)
	require.EqualValues(t, 1, r.src.Stats().IdleTimeouts.Load())
}

func TestMaxConnections(t *testing.T) {
	cfg := testConfig()
	cfg.MaxConnections = 1
	lanes := newFakeLanes(t)
	r := start(t, cfg, lanes)
	first := dial(t, r)
	_, err := first.Write(mp{}.arr(3).str("t").int(1).kv("msg", "x"))
	require.NoError(t, err)
	lanes.waitLines(t, 1)
	second := dial(t, r)
	require.NoError(t, second.SetReadDeadline(time.Now().Add(5*time.Second)))
	_, err = second.Read(make([]byte, 1))
	require.ErrorIs(t, err, io.EOF)
	require.EqualValues(t, 1, r.src.Stats().ConnectionsRejected.Load())
}

func TestListenErrors(t *testing.T) {
	cfg := testConfig()
	path := shortSocketPath(t)
	require.NoError(t, os.WriteFile(path, []byte("not a socket"), 0o600))
	cfg.UnixSocket = path
	src, err := New("fw", cfg, nil, nil)
	require.NoError(t, err)
	err = src.Run(context.Background(), newFakeLanes(t))
	require.ErrorContains(t, err, "is not a socket")
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "not a socket", string(b), "a regular file is never removed")
}

func TestStaleSocketReplaced(t *testing.T) {
	path := shortSocketPath(t)
	ln, err := net.Listen("unix", path)
	require.NoError(t, err)
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	require.NoError(t, ln.Close())
	cfg := testConfig()
	cfg.Listen = ""
	cfg.UnixSocket = path
	cfg.UnixSocketMode = "0660"
	lanes := newFakeLanes(t)
	start(t, cfg, lanes)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o660), fi.Mode().Perm())
	c, err := net.Dial("unix", path)
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Write(mp{}.arr(3).str("t").int(1).kv("msg", "x"))
	require.NoError(t, err)
	lanes.waitLines(t, 1)
}

// TestAckWaitsForHeldRecord: when the lane holds a frame's last record back
// (a multiline record that may continue), the batch's watermark stays
// below the frame and no ack is sent; once FlushIdle emits it and it is
// committed, the ack goes out.
func TestAckWaitsForHeldRecord(t *testing.T) {
	lanes := newFakeLanes(t)
	lanes.flushDelay = 300 * time.Millisecond
	r := start(t, testConfig(), lanes)
	c := dial(t, r)
	acks := &ackReader{c: c}
	sent := time.Now()
	_, err := c.Write(mp{}.arr(3).str("app").arr(2).
		arr(2).eventTime(t0, false).kv("log", "Exception in thread main").
		arr(2).eventTime(t0, false).kv("log", "\tat Foo.bar(Foo.java:1)").
		kv("chunk", "held"))
	require.NoError(t, err)
	chunk, ok, err := acks.next(t, 5*time.Second)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "held", chunk)
	require.GreaterOrEqual(t, time.Since(sent), 300*time.Millisecond, "ack only after the held record was emitted")
	lanes.mu.Lock()
	require.Equal(t, 1, lanes.lanes[0].flushes, "emitted by FlushIdle")
	lanes.mu.Unlock()
}
