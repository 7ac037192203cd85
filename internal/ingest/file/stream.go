package file

import (
	"bytes"
	"context"
	"crypto/sha256"
	"os"
	"time"

	"github.com/starmates/logshipd/internal/checkpoint"
	"github.com/starmates/logshipd/internal/event"
	"github.com/starmates/logshipd/internal/ingest"
)

const (
	// ringSize is how many of the most recently read bytes a stream keeps,
	// to recognise a rotated copy of its file and to detect a truncated and
	// refilled file by the bytes just before the read offset.
	ringSize = 16 << 10
	// tailCheckLen is how many bytes before the read offset are compared.
	tailCheckLen = 64
	// verifyLen is how many bytes are compared to accept a rotated copy.
	verifyLen = 256
	// Samples of older content (sampleLen bytes every sampleEvery bytes,
	// the last maxSamples) let a copy be recognised when it ends further
	// back than the ring reaches.
	sampleLen   = 64
	sampleEvery = 64 << 10
	maxSamples  = 32
	// finalCommitTimeout bounds a commit made after ctx ended (shutdown)
	// or for a stream that ends (its data may be gone from disk).
	finalCommitTimeout = 5 * time.Second
)

// headInfo is an immutable snapshot of the first bytes of a stream's
// content (at most fingerprint_bytes), shared with the scanner.
type headInfo struct {
	bytes []byte
	sum   [sha256.Size]byte
	full  bool // len(bytes) == fingerprint_bytes
}

func newHead(b []byte, n int) *headInfo {
	c := append([]byte(nil), b...)
	return &headInfo{bytes: c, sum: sha256.Sum256(c), full: len(c) >= n}
}

type sample struct {
	off int64
	b   [sampleLen]byte
}

// stream is one generation of one file's content, read into one lane. It
// is owned by one goroutine at a time: the tracker of the file it is read
// from. When a file is truncated by copytruncate, its stream moves on to
// the rotated copy (same bytes, same offsets, same lane).
type stream struct {
	m      *manager
	lane   ingest.Lane
	framer *ingest.Framer
	ck     *ckpt
	origin string

	start     int64 // offset reading began at
	offset    int64 // next byte to read
	lineStart int64 // offset of the line being assembled
	head      *headInfo
	// copyMode: the stream continues in a rotated copy, which may be
	// shorter than offset; a short copy is not a truncation.
	copyMode bool

	ring       []byte // ring[o%ringSize] holds the byte at offset o
	samples    []sample
	lastSample int64

	bytesSinceCommit int64
	lastCommit       time.Time
	lastTruncLog     time.Time

	// Framer callback state (no closure per line).
	chunk     []byte
	chunkBase int64
	cursor    int
	now       time.Time
	lines     int64
	emitFn    func([]byte)
	endFn     func([]byte)
	doneFn    func(event.Status, int64)
}

func (m *manager) newStream(origin string, offset int64, head *headInfo, ck *ckpt) *stream {
	s := &stream{
		m: m, origin: origin, ck: ck, start: offset, offset: offset, lineStart: offset, head: head,
		framer: ingest.NewFramer(m.cfg.MaxLineBytes), lastCommit: time.Now(), lastSample: offset,
	}
	s.lane = m.lanes.NewLane(event.Origin{Kind: "file", Path: origin})
	s.emitFn = s.emit
	s.endFn = s.emitFinal
	s.doneFn = ck.ack
	return s
}

// feed frames one chunk read at s.offset and writes its lines.
func (s *stream) feed(chunk []byte, now time.Time) {
	s.chunk, s.chunkBase, s.cursor, s.now, s.lines = chunk, s.offset, 0, now, 0
	before := s.framer.Truncated()
	s.framer.Feed(chunk, s.emitFn)
	s.chunk = nil
	s.remember(chunk, s.offset)
	s.offset += int64(len(chunk))
	s.bytesSinceCommit += int64(len(chunk))
	st := s.m.stats
	st.LinesRead.Add(s.lines)
	if d := s.framer.Truncated() - before; d > 0 {
		st.LinesTruncated.Add(d)
		if now.Sub(s.lastTruncLog) > time.Minute {
			s.lastTruncLog = now
			s.m.log.Warn("line longer than max_line_bytes: truncated", "path", s.origin, "max_line_bytes", s.m.cfg.MaxLineBytes, "offset", s.lineStart)
		}
	}
	if s.offset-s.lastSample >= sampleEvery && s.offset-s.start >= sampleLen {
		var sm sample
		sm.off = s.offset
		if b, ok := s.recent(s.offset-sampleLen, s.offset, sm.b[:0]); ok && len(b) == sampleLen {
			if len(s.samples) == maxSamples {
				copy(s.samples, s.samples[1:])
				s.samples = s.samples[:maxSamples-1]
			}
			s.samples = append(s.samples, sm)
			s.lastSample = s.offset
		}
	}
}

// emit is the Framer callback: one call per newline in the chunk.
func (s *stream) emit(line []byte) {
	nl := bytes.IndexByte(s.chunk[s.cursor:], '\n')
	end := s.chunkBase + int64(s.cursor+nl) + 1
	s.cursor += nl + 1
	s.lane.Write(line, s.lineStart, end, s.now)
	s.lineStart = end
	s.lines++
}

// emitFinal passes on a last line without newline (the file ends).
func (s *stream) emitFinal(line []byte) {
	s.lane.Write(line, s.lineStart, s.offset, s.now)
	s.lineStart = s.offset
	s.m.stats.LinesRead.Add(1)
}

// remember copies the tail of chunk (read at base) into the ring.
func (s *stream) remember(chunk []byte, base int64) {
	if s.ring == nil {
		s.ring = make([]byte, ringSize)
	}
	if len(chunk) > ringSize {
		base += int64(len(chunk) - ringSize)
		chunk = chunk[len(chunk)-ringSize:]
	}
	for len(chunk) > 0 {
		i := int(base % ringSize)
		n := copy(s.ring[i:], chunk)
		chunk = chunk[n:]
		base += int64(n)
	}
}

func (s *stream) ringFrom() int64 { return max(s.start, s.offset-ringSize) }

// recent appends the remembered bytes [from, to) to dst.
func (s *stream) recent(from, to int64, dst []byte) ([]byte, bool) {
	if s.ring == nil || from < s.ringFrom() || to > s.offset || from > to {
		return dst, false
	}
	for o := from; o < to; {
		i := int(o % ringSize)
		n := min(int(to-o), ringSize-i)
		dst = append(dst, s.ring[i:i+n]...)
		o += int64(n)
	}
	return dst, true
}

// tailChanged reports whether the bytes just before the read offset differ
// in f: the file was truncated and refilled past the offset.
func (s *stream) tailChanged(f *os.File, scratch []byte) bool {
	from := max(s.offset-tailCheckLen, s.ringFrom())
	if from >= s.offset {
		return false
	}
	want, ok := s.recent(from, s.offset, scratch[:0])
	if !ok {
		return false
	}
	var buf [tailCheckLen]byte
	got := buf[:len(want)]
	if n, _ := f.ReadAt(got, from); n != len(got) {
		return true
	}
	return !bytes.Equal(got, want)
}

// matchesCopy reports whether f, of size n, whose first bytes equal the
// stream's head, holds the stream's content: it compares the bytes before
// min(n, offset) with the remembered ones (or the latest sample before
// them). false also means "no evidence": the copy ends within the head
// (identical first lines prove nothing) or before anything remembered.
func (s *stream) matchesCopy(f *os.File, n int64) bool {
	x := min(n, s.offset)
	if x < int64(len(s.head.bytes))+tailCheckLen {
		return false
	}
	if from := max(x-verifyLen, s.ringFrom()); from < x {
		if want, ok := s.recent(from, x, nil); ok {
			got := make([]byte, len(want))
			if k, _ := f.ReadAt(got, from); k != len(got) {
				return false
			}
			return bytes.Equal(got, want)
		}
	}
	for i := len(s.samples) - 1; i >= 0; i-- {
		sm := &s.samples[i]
		if sm.off > x || sm.off-sampleLen < int64(len(s.head.bytes)) {
			continue
		}
		got := make([]byte, sampleLen)
		if k, _ := f.ReadAt(got, sm.off-sampleLen); k != sampleLen {
			return false
		}
		return bytes.Equal(got, sm.b[:])
	}
	return false
}

// commit hands the lane's records to the sinks; the checkpoint moves in
// the done callback.
func (s *stream) commit(ctx context.Context, now time.Time) error {
	s.ck.beginCommit()
	err := s.lane.Commit(ctx, s.doneFn)
	s.bytesSinceCommit = 0
	s.lastCommit = now
	return err
}

// commitFinal commits even when ctx has ended (bounded).
func (s *stream) commitFinal(ctx context.Context) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finalCommitTimeout)
	defer cancel()
	if err := s.commit(cctx, time.Now()); err != nil {
		s.m.log.Warn("final commit failed: the data is read again after a restart", "path", s.origin, "err", err)
	}
}

// needsCommit reports whether anything was read or emitted since the last
// commit (an empty commit still moves the checkpoint over filtered lines).
func (s *stream) needsCommit() bool { return s.bytesSinceCommit > 0 || s.lane.Pending() > 0 }

// ckpt is the checkpoint state of one stream. Every field is guarded by
// manager.ckMu. A ckpt writes its entry to the store only while it owns
// the entry's key (manager.owners), so callbacks of a finished generation
// can never overwrite the entry of the next one.
type ckpt struct {
	m           *manager
	entry       checkpoint.Entry
	committed   int64 // highest acknowledged watermark
	clamp       int64 // < 0: none; else the entry offset never exceeds it
	frozen      bool  // a batch failed: never advance again in this run
	outstanding int   // commits whose done has not run
	finished    bool
	onIdle      func() // runs once finished and nothing is outstanding
}

// newCkpt registers a ckpt as owner of e's key and stores e.
func (m *manager) newCkpt(e checkpoint.Entry) *ckpt {
	c := &ckpt{m: m, entry: e, committed: e.Offset, clamp: -1}
	m.ckMu.Lock()
	m.owners[e.ID()] = c
	c.writeLocked()
	m.ckMu.Unlock()
	return c
}

func (c *ckpt) writeLocked() {
	if c.m.owners[c.entry.ID()] != c {
		return
	}
	off := c.committed
	if c.clamp >= 0 && off > c.clamp {
		off = c.clamp
	}
	c.entry.Offset = off
	c.m.store.Set(c.entry)
}

func (c *ckpt) beginCommit() {
	c.m.ckMu.Lock()
	c.outstanding++
	c.m.ckMu.Unlock()
}

// ack is the Lane.Commit done callback. Callbacks arrive in commit order;
// the offset only moves forward, and never past a failed batch.
func (c *ckpt) ack(st event.Status, wm int64) {
	m := c.m
	m.ckMu.Lock()
	c.outstanding--
	if !c.frozen {
		if st == event.Failed {
			c.frozen = true
			m.stats.BatchesFailed.Add(1)
			m.log.Warn("batch failed: checkpoint stays where it is; the data is read again after a restart",
				"path", c.entry.Path, "offset", c.committed)
		} else if wm > c.committed {
			c.committed = wm
			c.entry.Updated = time.Now().UTC()
			c.writeLocked()
		}
	}
	var idle func()
	if c.finished && c.outstanding == 0 && c.onIdle != nil {
		idle, c.onIdle = c.onIdle, nil
	}
	m.ckMu.Unlock()
	if idle != nil {
		idle()
	}
	if m.closed.Load() {
		m.lateSave()
	}
}

// setHead records a longer fingerprint of the same content.
func (c *ckpt) setHead(h *headInfo) {
	c.m.ckMu.Lock()
	defer c.m.ckMu.Unlock()
	c.entry.Fingerprint = checkpoint.Fingerprint(h.bytes)
	c.entry.FingerprintLen = len(h.bytes)
	c.writeLocked()
}

func (c *ckpt) setPath(p string) {
	c.m.ckMu.Lock()
	defer c.m.ckMu.Unlock()
	if c.entry.Path != p {
		c.entry.Path = p
		c.writeLocked()
	}
}

// rekey moves the ckpt to the inode of a rotated copy that continues the
// stream. The copy holds the same bytes at the same offsets; when it is
// shorter than what was read, its entry never exceeds its size.
func (c *ckpt) rekey(st fstat, path string, clamp int64) {
	m := c.m
	m.ckMu.Lock()
	defer m.ckMu.Unlock()
	if m.owners[c.entry.ID()] == c {
		delete(m.owners, c.entry.ID())
	}
	c.entry.Device, c.entry.Inode, c.entry.Birth = st.id.Device, st.id.Inode, st.birth
	c.entry.Generation = 0
	c.entry.Path = path
	c.clamp = clamp
	m.owners[st.id] = c
	c.writeLocked()
}

// detach stops the ckpt from writing (a new generation takes the key).
func (c *ckpt) detach() {
	c.m.ckMu.Lock()
	defer c.m.ckMu.Unlock()
	if c.m.owners[c.entry.ID()] == c {
		delete(c.m.owners, c.entry.ID())
	}
}

// finish marks the stream ended: no further commits. onIdle runs when
// the last outstanding batch was acknowledged (or now).
func (c *ckpt) finish(onIdle func()) {
	c.m.ckMu.Lock()
	c.finished = true
	var idle func()
	if c.outstanding == 0 {
		idle = onIdle
	} else {
		c.onIdle = onIdle
	}
	c.m.ckMu.Unlock()
	if idle != nil {
		idle()
	}
}

// forget drops the entry (file deleted) if the ckpt still owns it.
func (c *ckpt) forget() {
	m := c.m
	m.ckMu.Lock()
	defer m.ckMu.Unlock()
	if m.owners[c.entry.ID()] == c {
		delete(m.owners, c.entry.ID())
		m.store.Forget(c.entry.ID())
	}
}

// release gives up ownership but keeps the entry (file rotated away: it
// is pruned later unless the file shows up again).
func (c *ckpt) release() {
	m := c.m
	m.ckMu.Lock()
	defer m.ckMu.Unlock()
	if m.owners[c.entry.ID()] == c {
		c.entry.Updated = time.Now().UTC()
		c.writeLocked()
		delete(m.owners, c.entry.ID())
	}
}

func (c *ckpt) committedOffset() int64 {
	c.m.ckMu.Lock()
	defer c.m.ckMu.Unlock()
	return c.committed
}

func (c *ckpt) generation() uint64 {
	c.m.ckMu.Lock()
	defer c.m.ckMu.Unlock()
	return c.entry.Generation
}
