package file

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/starmates/logshipd/internal/checkpoint"
)

// tracker follows one inode in its own goroutine: it reads new data into
// its stream, notices truncation, deletion and rotation, and ends when the
// file is gone and drained. Fields below "goroutine-owned" are only used
// by that goroutine; the others are shared with the manager.
type tracker struct {
	m     *manager
	id    checkpoint.FileID
	birth int64
	seq   uint64

	pathV      atomic.Pointer[string]
	unmatched  atomic.Bool // no longer matched by the last scan
	wakeCh     chan struct{}
	evict      atomic.Bool  // fd pool asks to close the handle
	lastActive atomic.Int64 // Unix ns of the last read that returned data
	size       atomic.Int64 // last size seen
	head       atomic.Pointer[headInfo]
	gen        atomic.Uint64 // incremented when the stream is replaced
	ck         atomic.Pointer[ckpt]

	// goroutine-owned
	st         *stream
	f          *os.File
	prevSize   int64
	prevMtime  int64
	lastGrowth time.Time
	scratch    []byte
	movedAway  bool
	deletedAt  time.Time // when the file was first seen deleted
}

func (m *manager) newTracker(path string, st fstat, s *stream) *tracker {
	t := &tracker{
		m: m, id: st.id, birth: st.birth, seq: m.seq.Add(1), wakeCh: make(chan struct{}, 1),
		st: s, prevSize: -1, lastGrowth: time.Now(),
	}
	t.pathV.Store(&path)
	t.size.Store(st.size)
	t.head.Store(s.head)
	t.ck.Store(s.ck)
	t.lastActive.Store(time.Now().UnixNano())
	return t
}

func (t *tracker) path() string { return *t.pathV.Load() }

// adopt takes a handle opened by the manager when a slot is free (else it
// is closed and the tracker opens the file by path when it gets a slot).
func (t *tracker) adopt(f *os.File) {
	if f == nil {
		return
	}
	if !t.m.pool.tryAcquire(t) {
		_ = f.Close()
		return
	}
	t.f = f
	t.m.stats.FilesOpened.Add(1)
}

func (t *tracker) setPath(p string) {
	if t.path() != p {
		t.pathV.Store(&p)
		if c := t.ck.Load(); c != nil {
			c.setPath(p)
		}
	}
}

// poke wakes the tracker (fsnotify event, eviction, scan result).
func (t *tracker) poke() {
	select {
	case t.wakeCh <- struct{}{}:
	default:
	}
}

func (t *tracker) run(ctx context.Context) {
	defer t.m.wg.Done()
	t.m.stats.FilesTracked.Add(1)
	defer t.m.stats.FilesTracked.Add(-1)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		wait, done := t.step(ctx)
		if done {
			return
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			t.shutdown(ctx)
			return
		case <-t.wakeCh:
		case <-timer.C:
		}
	}
}

// step does one round of work and returns how long to sleep, or done.
func (t *tracker) step(ctx context.Context) (time.Duration, bool) {
	if ctx.Err() != nil {
		t.shutdown(ctx)
		return 0, true
	}
	cfg := &t.m.cfg
	if t.evict.Load() && t.f != nil {
		t.closeFile(true)
	}
	if t.f == nil {
		st, err := statPath(t.path())
		if err != nil || st.id != t.id || !sameBirth(st.birth, t.birth) {
			if t.unmatched.Load() {
				// Rotated away or deleted while the handle was closed.
				t.finish(ctx, reasonGone)
				return 0, true
			}
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				t.m.stats.ReadErrors.Add(1)
			}
			t.m.requestScan()
			return t.idle(ctx, time.Now()), false
		}
		t.size.Store(st.size)
		if st.size == t.prevSize && st.mtime == t.prevMtime && st.size <= t.st.offset {
			return t.idle(ctx, time.Now()), false
		}
		if !t.open(ctx) {
			if ctx.Err() != nil {
				t.shutdown(ctx)
				return 0, true
			}
			return cfg.PollInterval, false
		}
	}
	fi, err := statFile(t.f)
	if err != nil {
		t.m.stats.ReadErrors.Add(1)
		t.closeFile(false)
		return cfg.PollInterval, false
	}
	t.size.Store(fi.size)
	if t.unmatched.Load() && fi.nlink > 0 && !t.movedAway {
		t.movedAway = true
		t.m.stats.RotationsRename.Add(1) // renamed out of the patterns
	}
	changed := fi.size != t.prevSize || fi.mtime != t.prevMtime
	if changed || fi.size > t.st.offset {
		if t.truncated(fi, changed) {
			t.restartGeneration(ctx, fi)
		}
		t.extendHead(fi.size)
		if err := t.readToEOF(ctx); err != nil {
			t.shutdown(ctx)
			return 0, true
		}
	}
	t.prevSize, t.prevMtime = fi.size, fi.mtime
	now := time.Now()
	wait := t.idle(ctx, now)
	if ctx.Err() != nil {
		t.shutdown(ctx)
		return 0, true
	}
	idleFor := now.Sub(t.lastGrowth)
	if fi.nlink == 0 && t.deletedAt.IsZero() {
		t.deletedAt = now
	}
	grace := t.m.copyGrace()
	switch {
	case fi.nlink == 0 && t.st.offset >= fi.size && now.Sub(t.deletedAt) >= grace && idleFor >= grace:
		// Deleted and drained, and no writer added anything for a while
		// (a process may still write to the deleted file briefly): done.
		t.finish(ctx, reasonDeleted)
		return 0, true
	case t.unmatched.Load() && idleFor >= cfg.CloseInactive:
		t.finish(ctx, reasonGone)
		return 0, true
	case idleFor >= cfg.CloseInactive || t.evict.Load():
		t.closeFile(t.evict.Load())
	}
	return wait, false
}

// idle flushes multiline records that waited long enough, commits them,
// and returns how long to sleep.
func (t *tracker) idle(ctx context.Context, now time.Time) time.Duration {
	s := t.st
	next := s.lane.FlushIdle(now)
	if s.needsCommit() {
		_ = t.commit(ctx, now)
	}
	wait := t.m.cfg.PollInterval
	if !next.IsZero() {
		wait = min(wait, max(next.Sub(now), time.Millisecond))
	}
	return wait
}

func (t *tracker) open(ctx context.Context) bool {
	if !t.m.pool.acquire(ctx, t) {
		return false
	}
	path := t.path()
	f, err := os.Open(path)
	if err != nil {
		t.m.pool.release(t)
		if !errors.Is(err, fs.ErrNotExist) {
			t.m.stats.ReadErrors.Add(1)
			t.m.warnOnce("open:"+path, "cannot open file", "path", path, "err", err)
		}
		return false
	}
	st, err := statFile(f)
	if err != nil || st.id != t.id || !sameBirth(st.birth, t.birth) {
		_ = f.Close()
		t.m.pool.release(t)
		return false
	}
	t.f = f
	t.evict.Store(false)
	t.lastActive.Store(time.Now().UnixNano())
	t.m.stats.FilesOpened.Add(1)
	return true
}

func (t *tracker) closeFile(evicted bool) {
	if t.f == nil {
		return
	}
	_ = t.f.Close()
	t.f = nil
	t.m.stats.FilesClosed.Add(1)
	if evicted {
		t.m.stats.Evictions.Add(1)
	}
	t.evict.Store(false)
	t.m.pool.release(t)
}

// truncated reports whether the content on the inode restarted: shorter
// than the read offset, or different leading bytes, or different bytes
// just before the read offset (truncated and refilled past it).
func (t *tracker) truncated(fi fstat, changed bool) bool {
	s := t.st
	if fi.size < s.offset && !s.copyMode {
		return true
	}
	if !changed {
		return false
	}
	if hl := min(int64(len(s.head.bytes)), fi.size); hl > 0 {
		if cap(t.scratch) < int(hl) {
			t.scratch = make([]byte, max(hl, tailCheckLen))
		}
		b := t.scratch[:hl]
		if k, _ := t.f.ReadAt(b, 0); int64(k) != hl || !bytes.Equal(b, s.head.bytes[:hl]) {
			return true
		}
	}
	if fi.size >= s.offset {
		if cap(t.scratch) < tailCheckLen {
			t.scratch = make([]byte, tailCheckLen)
		}
		return s.tailChanged(t.f, t.scratch)
	}
	return false
}

// restartGeneration handles a truncation: the old content continues in a
// rotated copy if there is one (genEnded), else its stream ends; reading
// restarts at 0 with the next generation.
func (t *tracker) restartGeneration(ctx context.Context, fi fstat) {
	m := t.m
	old := t.st
	m.stats.TruncationsDetected.Add(1)
	m.log.Info("file truncated: reading it again from the start", "path", t.path(), "offset", old.offset, "size", fi.size)
	gen := old.ck.generation() + 1
	if !m.genEnded(t, old, reasonTruncated) {
		old.ck.detach()
		t.endStream(ctx, old)
	}
	head := newHead(nil, m.cfg.FingerprintBytes)
	ck := m.newCkpt(checkpoint.Entry{
		Device: t.id.Device, Inode: t.id.Inode, Birth: t.birth,
		Fingerprint: checkpoint.Fingerprint(nil), Generation: gen, Path: t.path(), Updated: time.Now().UTC(),
	})
	t.st = m.newStream(t.path(), 0, head, ck)
	t.gen.Add(1)
	t.head.Store(head)
	t.ck.Store(ck)
}

// endStream emits what is left of a stream that will not be read any
// further (its last line even without newline, pending multiline
// records), commits and closes its lane.
func (t *tracker) endStream(ctx context.Context, s *stream) {
	now := time.Now()
	s.now = now
	s.framer.End(s.endFn)
	s.lane.FlushAll(now)
	s.commitFinal(ctx)
	s.lane.Close()
}

// extendHead grows the fingerprint of a file shorter than
// fingerprint_bytes as it grows (up to size bytes).
func (t *tracker) extendHead(size int64) {
	s := t.st
	n := int64(t.m.cfg.FingerprintBytes)
	if s.head.full || size <= int64(len(s.head.bytes)) {
		return
	}
	b := make([]byte, min(size, n))
	k, _ := t.f.ReadAt(b, 0)
	if k <= len(s.head.bytes) || !bytes.Equal(b[:len(s.head.bytes)], s.head.bytes) {
		return
	}
	h := newHead(b[:k], int(n))
	s.head = h
	t.head.Store(h)
	s.ck.setHead(h)
}

// readToEOF reads and frames everything after the offset, committing per
// batch_max_bytes / batch_max_wait and at the end.
func (t *tracker) readToEOF(ctx context.Context) error {
	m := t.m
	s := t.st
	if err := m.acquireRead(ctx); err != nil {
		return err
	}
	held := true
	defer func() {
		if held {
			m.releaseRead()
		}
	}()
	bufp := m.getBuf()
	defer func() { m.putBuf(bufp) }()
	buf := *bufp
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := t.f.ReadAt(buf, s.offset)
		if n > 0 {
			now := time.Now()
			s.feed(buf[:n], now)
			m.stats.BytesRead.Add(int64(n))
			if !s.head.full {
				// The head must be known before the next truncation check:
				// it is how a rotated copy of this content is recognised.
				t.extendHead(s.offset)
			}
			t.lastGrowth = now
			t.lastActive.Store(now.UnixNano())
			if s.bytesSinceCommit >= int64(m.cfg.BatchMaxBytes) || now.Sub(s.lastCommit) >= m.cfg.BatchMaxWait {
				if err := t.commit(ctx, now); err != nil {
					return err
				}
				// Let the other busy files have their turn (the read
				// buffer goes back too: waiting files hold none).
				m.putBuf(bufp)
				m.releaseRead()
				held = false
				err := m.acquireRead(ctx)
				bufp = m.getBuf()
				buf = *bufp
				if err != nil {
					return err
				}
				held = true
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				m.stats.ReadErrors.Add(1)
				m.warnOnce("read:"+t.path(), "read failed", "path", t.path(), "offset", s.offset, "err", err)
			}
			break
		}
		if t.evict.Load() {
			break // give the handle up; the rest is read after reopening
		}
	}
	if s.needsCommit() {
		return t.commit(ctx, time.Now())
	}
	return nil
}

// acquireRead waits for a read slot (see manager.readSlots).
func (m *manager) acquireRead(ctx context.Context) error {
	select {
	case m.readSlots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (m *manager) releaseRead() { <-m.readSlots }

// commit commits the stream; it returns an error only when ctx ended.
func (t *tracker) commit(ctx context.Context, now time.Time) error {
	if err := t.st.commit(ctx, now); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		t.m.log.Warn("commit failed: the data is read again after a restart", "path", t.st.origin, "err", err)
	}
	return nil
}

// finish ends the tracker: the content continues in a rotated copy if
// there is one, else the stream is drained (FlushAll), committed and
// closed. A deleted file's checkpoint is forgotten once acknowledged; a
// rotated-away file's is kept (and pruned later).
func (t *tracker) finish(ctx context.Context, reason endReason) {
	s := t.st
	if t.m.log.Enabled(ctx, slog.LevelDebug) {
		t.m.log.Debug("file finished", "path", t.path(), "inode", t.id.Inode, "reason", reason.String(), "offset", s.offset)
	}
	if !t.m.genEnded(t, s, reason) {
		t.endStream(ctx, s)
		if reason == reasonDeleted {
			s.ck.finish(s.ck.forget)
		} else {
			s.ck.finish(s.ck.release)
		}
	}
	t.closeFile(false)
	t.m.removeTracker(t)
}

// shutdown commits what was read and closes: pending multiline records
// are not flushed (they lie after the watermark and are read again).
func (t *tracker) shutdown(ctx context.Context) {
	if s := t.st; s != nil {
		if s.needsCommit() {
			s.commitFinal(ctx)
		}
		s.lane.Close()
		t.st = nil
	}
	t.closeFile(false)
}
