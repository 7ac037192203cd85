package forward

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/starmates/logshipd/internal/event"
	"github.com/starmates/logshipd/internal/ingest"
	"github.com/starmates/logshipd/internal/normalize"
)

const (
	initialBuf       = 64 << 10
	minRead          = 16 << 10
	maxLanesPerConn  = 256
	ackWriteTimeout  = 30 * time.Second
	handshakeTimeout = 30 * time.Second
)

var (
	errIdle      = errors.New("idle for read_timeout")
	errShutdown  = errors.New("shutting down")
	errStopped   = errors.New("batch failed or ack write failed")
	aLongTimeAgo = time.Unix(1, 0)
)

// laneState is one (connection, tag) lane and its offsets. Lines get
// synthetic offsets: the lane's input is the stream of JSON lines written
// to it, so a line's end is the running byte count (plus one newline each).
type laneState struct {
	lane  ingest.Lane
	tag   string
	off   int64     // end offset of the last line written
	acked int64     // highest watermark reported by a done (guarded by conn.mu)
	dirty bool      // lines written since the last Commit
	next  time.Time // when FlushIdle wants to run again (zero: nothing pending)
	used  uint64
}

// ackEntry is a frame waiting for its ack: sent once the lane's watermark
// covers end, in frame order.
type ackEntry struct {
	ls  *laneState
	end int64
	ack []byte // encoded {"ack": chunk}
}

// conn serves one client connection. The reading goroutine owns the
// lanes, the buffer and the decoder; done callbacks (sink goroutines) and
// the ack writer share the fields under mu.
type conn struct {
	s      *Source
	ctx    context.Context
	nc     net.Conn
	remote string
	api    ingest.Lanes

	lanes   map[string]*laneState
	tick    uint64
	buf     []byte
	r       int
	readErr error
	sc      scanner
	dec     decoder
	last    time.Time // last byte received

	mu       sync.Mutex
	queue    []ackEntry
	ready    []byte // encoded acks for the writer
	readyN   int
	inflight int  // Commits whose done has not run
	failed   bool // a batch failed while acks were pending: no more acks
	broken   bool // writing failed or the connection was closed for good
	changed  chan struct{}
	wake     chan struct{}

	writerOn   bool
	stopWriter chan struct{}
	writerDone chan struct{}
}

func newConn(ctx context.Context, s *Source, nc net.Conn, api ingest.Lanes) *conn {
	return &conn{
		s:          s,
		ctx:        ctx,
		nc:         nc,
		remote:     remoteOf(nc, s.cfg.UnixSocket),
		api:        api,
		lanes:      map[string]*laneState{},
		buf:        make([]byte, 0, initialBuf),
		dec:        decoder{max: s.cfg.MaxMessageBytes, zstd: s.zstd},
		last:       time.Now(),
		changed:    make(chan struct{}, 1),
		wake:       make(chan struct{}, 1),
		stopWriter: make(chan struct{}),
		writerDone: make(chan struct{}),
	}
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// serve runs the connection to its end.
func (c *conn) serve() {
	stop := context.AfterFunc(c.ctx, func() { _ = c.nc.SetReadDeadline(aLongTimeAgo) })
	defer stop()
	err := c.start()
	if err == nil {
		err = c.loop()
	}
	c.finish(err)
}

// start runs the TLS and shared-key handshakes and waits briefly for the
// ECS metadata.
func (c *conn) start() error {
	if tc, ok := c.nc.(*tls.Conn); ok {
		ctx, cancel := context.WithTimeout(c.ctx, handshakeTimeout)
		err := tc.HandshakeContext(ctx)
		cancel()
		if err != nil {
			if c.ctx.Err() != nil {
				return errShutdown
			}
			c.s.stats.TLSErrors.Add(1)
			c.warn("forward: TLS handshake failed; connection closed", err)
			return err
		}
	}
	if c.s.cfg.SharedKey != "" {
		if err := c.handshake(); err != nil {
			return err
		}
	}
	if wait := time.Until(c.s.runStart.Add(ecsStartWait)); wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-c.s.metaReady:
		case <-t.C:
		case <-c.ctx.Done():
		}
		t.Stop()
	}
	return nil
}

func (c *conn) warn(msg string, err error) {
	if c.s.warnings.allow() {
		c.s.logger.Warn(msg, "remote", c.remote, "err", err.Error())
	}
}

// handshake runs HELO/PING/PONG.
func (c *conn) handshake() error {
	nonce := newNonce()
	_ = c.nc.SetWriteDeadline(time.Now().Add(handshakeTimeout))
	if _, err := c.nc.Write(heloFrame(nonce)); err != nil {
		return err
	}
	_ = c.nc.SetReadDeadline(time.Now().Add(handshakeTimeout))
	if c.ctx.Err() != nil {
		return errShutdown
	}
	for {
		f, err := c.nextFrame()
		if err != nil {
			c.s.stats.AuthFailures.Add(1)
			c.warn("forward: handshake failed; connection closed", err)
			return err
		}
		if f != nil {
			c.s.stats.Bytes.Add(int64(len(f)))
			salt, reason := checkPing(f, nonce, c.s.cfg.SharedKey)
			if reason != "" {
				c.s.stats.AuthFailures.Add(1)
				_, _ = c.nc.Write(pongFrame(false, reason, "", ""))
				c.warn("forward: handshake failed; connection closed", errors.New(reason))
				return errAuth
			}
			_, err := c.nc.Write(pongFrame(true, "", c.s.hostname,
				sharedKeyDigest(salt, []byte(c.s.hostname), nonce, c.s.cfg.SharedKey)))
			return err
		}
		if err := c.fill(); err != nil {
			if c.ctx.Err() != nil {
				return errShutdown
			}
			c.s.stats.AuthFailures.Add(1)
			c.warn("forward: handshake failed; connection closed", err)
			return err
		}
	}
}

// loop reads and handles frames until the connection ends.
func (c *conn) loop() error {
	for {
		f, err := c.nextFrame()
		if err == nil && f != nil {
			if c.stopped() {
				return errStopped
			}
			err = c.handleFrame(f)
			if err == nil {
				continue
			}
		}
		if err != nil {
			if errors.Is(err, errOversize) {
				c.s.stats.OversizeFrames.Add(1)
				c.warn("forward: frame over max_message_bytes; connection closed", err)
			} else if fe := (*frameError)(nil); errors.As(err, &fe) {
				c.s.stats.DecodeErrors.Add(1)
				c.warn("forward: malformed frame; connection closed", err)
			}
			return err
		}
		// The buffer holds no complete frame: hand what was read to the
		// sinks before blocking on the socket.
		if err := c.beforeRead(); err != nil {
			return err
		}
		if err := c.setReadDeadline(); err != nil {
			return err
		}
		if err := c.fill(); err != nil {
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				return err
			}
			if c.ctx.Err() != nil {
				return errShutdown
			}
			if c.stopped() {
				return errStopped
			}
			if c.idle(time.Now()) {
				c.s.stats.IdleTimeouts.Add(1)
				return errIdle
			}
		}
	}
}

// idle reports whether the connection has been silent for read_timeout
// with nothing outstanding.
func (c *conn) idle(now time.Time) bool {
	if now.Sub(c.last) < c.s.cfg.ReadTimeout {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.queue) > 0 || c.inflight > 0 {
		c.last = now // acks outstanding: the client is waiting for us
		return false
	}
	return true
}

// setReadDeadline sets the read deadline to the earliest of the next lane
// flush and the idle timeout.
func (c *conn) setReadDeadline() error {
	dl := c.last.Add(c.s.cfg.ReadTimeout)
	for _, ls := range c.lanes {
		if !ls.next.IsZero() && ls.next.Before(dl) {
			dl = ls.next
		}
	}
	_ = c.nc.SetReadDeadline(dl)
	// A cancellation or abort after these checks sets the past deadline
	// after ours.
	if c.ctx.Err() != nil {
		return errShutdown
	}
	if c.stopped() {
		return errStopped
	}
	return nil
}

// beforeRead runs due lane flushes and commits every lane with new lines.
func (c *conn) beforeRead() error {
	now := time.Now()
	for _, ls := range c.lanes {
		if !ls.next.IsZero() && !now.Before(ls.next) {
			ls.next = ls.lane.FlushIdle(now)
			if !ls.next.IsZero() && !ls.next.After(now) {
				ls.next = now.Add(10 * time.Millisecond) // never spin on a past time
			}
		}
		if ls.dirty || ls.lane.Pending() > 0 {
			if err := c.commit(c.ctx, ls); err != nil {
				if c.ctx.Err() != nil {
					return errShutdown
				}
				return err
			}
		}
	}
	return nil
}

// nextFrame returns the next complete frame in the buffer (nil when more
// bytes are needed). The frame is valid until the next fill.
func (c *conn) nextFrame() ([]byte, error) {
	avail := c.buf[c.r:]
	if len(avail) == 0 {
		return nil, nil
	}
	max := c.s.cfg.MaxMessageBytes
	done, err := c.sc.scan(avail)
	if err != nil {
		return nil, malformed("frame", err)
	}
	if !done {
		if len(avail) > max || c.sc.need > max {
			return nil, errOversize
		}
		return nil, nil
	}
	n := c.sc.off
	if n > max {
		return nil, errOversize
	}
	c.r += n
	c.sc = scanner{}
	return avail[:n:n], nil
}

// fill reads more bytes into the buffer.
func (c *conn) fill() error {
	if c.readErr != nil {
		return c.readErr
	}
	switch {
	case c.r == len(c.buf):
		if cap(c.buf) > 1<<20 {
			c.buf = make([]byte, 0, initialBuf) // release a large frame's buffer
		}
		c.buf, c.r = c.buf[:0], 0
	case c.r > 0:
		n := copy(c.buf, c.buf[c.r:])
		c.buf, c.r = c.buf[:n], 0
	}
	if cap(c.buf)-len(c.buf) < minRead {
		limit := c.s.cfg.MaxMessageBytes + minRead
		nc := min(max(2*cap(c.buf), len(c.buf)+minRead), limit)
		if nc > cap(c.buf) {
			b := make([]byte, len(c.buf), nc)
			copy(b, c.buf)
			c.buf = b
		}
	}
	n, err := c.nc.Read(c.buf[len(c.buf):cap(c.buf)])
	c.buf = c.buf[:len(c.buf)+n]
	if n > 0 {
		c.last = time.Now()
		if err != nil {
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				c.readErr = err // handle the bytes first
			}
			return nil
		}
	}
	return err
}

// handleFrame decodes one frame and writes its records to the tag's lane.
func (c *conn) handleFrame(f []byte) error {
	c.s.stats.Bytes.Add(int64(len(f)))
	c.dec.meta = c.s.meta.Load()
	if err := c.dec.decode(f); err != nil {
		return err
	}
	defer c.dec.shrink()
	if c.dec.keepalive {
		c.s.stats.Keepalives.Add(1)
		return nil
	}
	c.s.stats.frames(c.dec.mode).Add(1)
	ls := c.laneFor(c.dec.tag)
	now := time.Now()
	n := c.dec.lines()
	for k := range n {
		line := c.dec.line(k)
		start := ls.off
		ls.off += int64(len(line)) + 1
		ls.lane.Write(line, start, ls.off, now)
	}
	c.s.stats.Records.Add(int64(n))
	if n > 0 {
		ls.dirty = true
		ls.next = ls.lane.FlushIdle(now)
	}
	if c.dec.chunk == nil {
		return nil // committed before the next blocking read
	}
	ack := make([]byte, 0, 5+len(c.dec.chunk))
	ack = append(ack, 0x81, 0xa3, 'a', 'c', 'k')
	ack = append(ack, c.dec.chunk...)
	c.mu.Lock()
	c.queue = append(c.queue, ackEntry{ls: ls, end: ls.off, ack: ack})
	c.mu.Unlock()
	if !c.writerOn {
		c.writerOn = true
		go c.writer()
	}
	if err := c.commit(c.ctx, ls); err != nil {
		if c.ctx.Err() != nil {
			return errShutdown
		}
		return err
	}
	return nil
}

// laneFor returns the lane of tag, creating it (and evicting the least
// recently used lane past maxLanesPerConn).
func (c *conn) laneFor(tag []byte) *laneState {
	c.tick++
	if ls, ok := c.lanes[string(tag)]; ok {
		ls.used = c.tick
		return ls
	}
	if len(c.lanes) >= maxLanesPerConn {
		var old *laneState
		for _, ls := range c.lanes {
			if old == nil || ls.used < old.used {
				old = ls
			}
		}
		old.lane.FlushAll(time.Now())
		_ = c.commit(c.ctx, old)
		old.lane.Close()
		delete(c.lanes, old.tag)
	}
	name := strings.ToValidUTF8(string(tag), "\uFFFD")
	ls := &laneState{
		lane: c.api.NewLane(normalize.Origin{Kind: "forward", Path: name}),
		tag:  string(tag),
		used: c.tick,
	}
	c.lanes[ls.tag] = ls
	return ls
}

// commit hands the lane's pending records to the sinks. The done callback
// may run on any goroutine, before or after Commit returns.
func (c *conn) commit(ctx context.Context, ls *laneState) error {
	c.mu.Lock()
	c.inflight++
	c.mu.Unlock()
	end := ls.off
	ls.dirty = false
	var once atomic.Bool
	err := ls.lane.Commit(ctx, func(st event.Status, wm int64) {
		if !once.Swap(true) {
			c.finished(ls, st, wm, end)
		}
	})
	if err != nil && !once.Swap(true) {
		c.s.stats.CommitErrors.Add(1)
		c.finished(ls, event.Failed, -1, end)
	}
	return err
}

// finished records a batch outcome: it advances the lane's watermark and
// queues every ack now covered, in frame order; a Failed batch while acks
// are pending closes the connection so the client re-sends.
func (c *conn) finished(ls *laneState, st event.Status, wm, end int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.inflight--
	defer signal(c.changed)
	if st == event.Failed {
		if len(c.queue) > 0 && !c.failed {
			c.failed = true
			c.s.stats.AckFailures.Add(1)
			if c.s.warnings.allow() {
				c.s.logger.Warn("forward: batch failed; connection closed without ack so the client re-sends",
					"remote", c.remote, "tag", ls.tag)
			}
			c.abort()
		}
		return
	}
	if wm < 0 {
		wm = end // a lane without offsets: the whole commit is covered
	}
	if wm > ls.acked {
		ls.acked = wm
	}
	if c.failed {
		return
	}
	for len(c.queue) > 0 && c.queue[0].end <= c.queue[0].ls.acked {
		c.ready = append(c.ready, c.queue[0].ack...)
		c.readyN++
		c.queue[0] = ackEntry{}
		c.queue = c.queue[1:]
	}
	if c.readyN > 0 {
		signal(c.wake)
	}
}

// writer sends queued acks; it is the only writer after the handshake.
func (c *conn) writer() {
	defer close(c.writerDone)
	for {
		select {
		case <-c.wake:
			c.flushAcks()
		case <-c.stopWriter:
			c.flushAcks()
			return
		}
	}
}

func (c *conn) flushAcks() {
	c.mu.Lock()
	out, n, broken := c.ready, c.readyN, c.broken || c.failed
	c.ready, c.readyN = nil, 0
	c.mu.Unlock()
	if n == 0 || broken {
		return
	}
	_ = c.nc.SetWriteDeadline(time.Now().Add(ackWriteTimeout))
	_, err := c.nc.Write(out)
	c.mu.Lock()
	if err != nil {
		c.broken = true
		c.abort()
	} else {
		c.s.stats.AcksSent.Add(int64(n))
	}
	c.mu.Unlock()
	signal(c.changed)
}

// abort makes the reading goroutine stop: its pending or next Read times
// out at once and it then sees failed or broken (set under mu by the
// caller). The socket is closed by the reading goroutine in finish, so no
// sink goroutine ever blocks on a TLS close_notify.
func (c *conn) abort() { _ = c.nc.SetReadDeadline(aLongTimeAgo) }

// stopped reports whether a batch failed or the connection broke.
func (c *conn) stopped() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.failed || c.broken
}

// finish commits what was read, waits for outstanding acks as the reason
// allows, and releases the connection.
func (c *conn) finish(reason error) {
	shutdown := c.ctx.Err() != nil
	commitCtx := c.ctx
	var deadline time.Time
	if shutdown {
		deadline = time.Now().Add(c.s.cfg.ShutdownGrace)
		ctx, cancel := context.WithDeadline(context.WithoutCancel(c.ctx), deadline)
		defer cancel()
		commitCtx = ctx
	}
	now := time.Now()
	for _, ls := range c.lanes {
		ls.lane.FlushAll(now)
		if ls.dirty || ls.lane.Pending() > 0 {
			_ = c.commit(commitCtx, ls)
		}
	}
	// Who is worth waiting for: at shutdown, every in-flight batch (so its
	// ack can still be sent); after the client half-closed (EOF), the acks
	// it may still read; otherwise nobody can receive anything.
	switch {
	case shutdown:
		c.wait(deadline, true)
	case errors.Is(reason, io.EOF):
		c.wait(time.Now().Add(c.s.cfg.ReadTimeout), false)
	}
	if c.writerOn {
		close(c.stopWriter)
		<-c.writerDone
	}
	c.mu.Lock()
	c.broken = true
	c.mu.Unlock()
	_ = c.nc.Close()
	for _, ls := range c.lanes {
		ls.lane.Close()
	}
	if reason != nil && !errors.Is(reason, io.EOF) && !errors.Is(reason, errShutdown) &&
		!errors.Is(reason, errStopped) && !errors.Is(reason, os.ErrDeadlineExceeded) && c.s.logger.Enabled(c.ctx, slog.LevelDebug) {
		c.s.logger.Debug("forward: connection closed", "remote", c.remote, "err", reason.Error())
	}
}

// wait blocks until nothing is left to acknowledge (and, with inflight,
// no batch is in flight), the connection is broken, or deadline. A
// shutdown during the wait shortens the deadline to the grace period.
func (c *conn) wait(deadline time.Time, inflight bool) {
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	done := c.ctx.Done()
	for {
		c.mu.Lock()
		over := c.failed || c.broken || (len(c.queue) == 0 && c.readyN == 0 && (!inflight || c.inflight == 0))
		c.mu.Unlock()
		if over {
			return
		}
		select {
		case <-c.changed:
		case <-t.C:
			return
		case <-done:
			done = nil
			if g := time.Now().Add(c.s.cfg.ShutdownGrace); g.Before(deadline) {
				deadline = g
				t.Reset(time.Until(g))
			}
		}
	}
}
