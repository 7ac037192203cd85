package normalize

import "time"

// Chunker lets one ordered input be normalized on several cores.
//
// It buffers the lines written to it and cuts the buffer into Parts at safe
// boundaries (see boundary): lines at which a new record starts whatever
// came before. A Part is normalized by any Stream (Part.Run) and flushed at
// its end, so Parts can run concurrently; the caller keeps their outputs in
// the order the Chunker produced them.
//
// What cannot be cut — small writes, input without safe boundaries
// (container envelopes keep per-container state), the lines right after
// a record left open — goes through the Chunker's own sequential Stream,
// inline: its records are passed to the emit callback given to NewChunker
// during the call that processed them. Records and Parts therefore come
// out through two callbacks, in one order: whatever the caller sees first
// is first in the input.
//
// The lines after the last safe boundary stay buffered until more input
// shows where their last record ends, or the multiline flush timeout
// passes (FlushIdle), or Flush — the sequential semantics, except that
// complete records among those lines can wait for the same timeout as the
// last one. When the last buffered line is a one-line format (JSON, access
// logs, syslog), nothing waits.
//
// A Chunker is not safe for concurrent use; Parts are independent of it.
type Chunker struct {
	eng  *Engine
	b    *boundary
	seq  *Stream
	part func(*Part)

	seqOpen bool // seq holds a record the next lines may continue
	target  int  // buffered size at which Write cuts a Part
	min     int  // less than this is normalized inline

	// Buffered complete lines: data[refs[i-1].pos:refs[i].pos] is line i.
	data     []byte
	refs     []lineRef
	start    int64 // offset of the first buffered line
	lineNo   int64 // lines written so far
	lastEnd  int64
	lastTime time.Time
}

type lineRef struct {
	pos int   // end of the line in Part.data
	end int64 // input offset after the line
}

const (
	// DefaultPartSize is the buffered size at which Write cuts a Part:
	// ~2 ms of work, small enough that the records in flight stay a few
	// MiB. Less than 1/32 of it is normalized inline: a Part costs two
	// goroutine hand-offs.
	DefaultPartSize = 256 << 10
	// scanLines bounds the lines parsed to find a safe boundary.
	scanLines = 64
)

// Part is a run of complete lines that starts at a safe boundary and ends
// where the next record starts (or at a flush): normalizing it with a
// Stream and flushing leaves no state behind.
type Part struct {
	eng   *Engine
	data  []byte
	refs  []lineRef
	start int64
	line  int64 // line number of the line before the first
	now   time.Time
}

// Lines returns the number of lines in p.
func (p *Part) Lines() int { return len(p.refs) }

// Bytes returns the size of p's lines.
func (p *Part) Bytes() int { return len(p.data) }

// Run normalizes p with st, which must hold no pending state (a fresh
// Stream or one a Part ran on before); st's records go to its emit callback.
func (p *Part) Run(st *Stream) {
	st.lineNo = p.line
	prev, start := 0, p.start
	for _, r := range p.refs {
		st.WriteAt(p.data[prev:r.pos], start, r.end, p.now)
		prev, start = r.pos, r.end
	}
	st.Flush(p.now)
}

// Release returns p's buffers for reuse; p must not be used afterwards.
func (p *Part) Release() {
	p.eng.parts.Put(p)
}

// NewChunker starts a Chunker whose inline records go to emit and whose
// Parts go to part.
func (e *Engine) NewChunker(origin Origin, emit Emit, part func(*Part)) *Chunker {
	c := &Chunker{eng: e, b: e.newBoundary(), seq: e.NewStream(origin, emit), part: part, start: -1, lastEnd: -1}
	c.SetPartSize(DefaultPartSize)
	return c
}

// SetPartSize sets the buffered size at which Write cuts a Part (tests use
// tiny ones to cut everywhere).
func (c *Chunker) SetPartSize(n int) {
	c.target, c.min = max(n, 1), max(n/32, 1)
}

func (e *Engine) getPart() *Part {
	if p, ok := e.parts.Get().(*Part); ok {
		p.data, p.refs = p.data[:0], p.refs[:0]
		return p
	}
	return &Part{eng: e}
}

// Write buffers one physical line (without its newline; it may contain
// newlines of its own) with its input offsets (-1 when unknown).
func (c *Chunker) Write(line []byte, start, end int64, now time.Time) {
	if len(c.refs) == 0 {
		c.start = start
		if c.data == nil {
			p := c.eng.getPart()
			c.data, c.refs = p.data[:0], p.refs[:0]
			p.data, p.refs = nil, nil
			p.Release()
		}
	}
	c.data = append(c.data, line...)
	c.refs = append(c.refs, lineRef{pos: len(c.data), end: end})
	c.lastEnd, c.lastTime = end, now
	if len(c.data) >= c.target {
		c.dispatch(false)
	}
}

// Buffered returns the number of lines waiting in the Chunker.
func (c *Chunker) Buffered() int { return len(c.refs) }

// Cut hands on everything that can be decided now (call before a commit):
// complete records go out as Parts or inline records; the lines of a
// record that may continue stay buffered (see Watermark).
func (c *Chunker) Cut() {
	c.dispatch(false)
	c.seq.PublishStats()
}

// release gives the empty buffers back to the Engine's pool: an idle
// input holds none.
func (c *Chunker) release() {
	if len(c.refs) == 0 && cap(c.data) > 0 {
		(&Part{eng: c.eng, data: c.data[:0], refs: c.refs[:0]}).Release()
		c.data, c.refs = nil, nil
	}
}

// Flush hands on everything, ending every record (end of input).
func (c *Chunker) Flush(now time.Time) {
	if c.lastTime.Before(now) {
		c.lastTime = now
	}
	c.dispatch(true)
}

// FlushIdle ends the records that waited longer than the multiline flush
// timeout and returns when it should be called again (zero: nothing
// waits).
func (c *Chunker) FlushIdle(now time.Time) time.Time {
	if len(c.refs) > 0 {
		// Buffered lines are newer than anything seq holds (and may
		// continue it): everything is due when they are.
		if due := c.lastTime.Add(c.eng.cfg.Multiline.FlushTimeout); now.Before(due) {
			return due
		}
		c.dispatch(true)
		return time.Time{}
	}
	c.release() // called when the input is idle
	if !c.seqOpen {
		return time.Time{}
	}
	next := c.seq.FlushIdle(now)
	c.seqOpen = c.seq.Pending()
	return next
}

// Watermark returns the input offset below which every line's records
// were handed on (inline or in a Part); -1 when offsets are unknown.
func (c *Chunker) Watermark() int64 {
	switch {
	case len(c.refs) > 0:
		return c.start
	case c.seqOpen:
		return c.seq.Watermark()
	}
	return c.lastEnd
}

// dispatch hands buffered lines on; all ends every record.
func (c *Chunker) dispatch(all bool) {
	if len(c.refs) > 0 {
		c.hand(all)
	}
	if all && c.seqOpen {
		c.seq.Flush(c.lastTime)
		c.seqOpen = false
	}
}

func (c *Chunker) hand(all bool) {
	from := 0
	if c.seqOpen {
		// The first lines may continue seq's open record: they go to seq
		// up to the first line that certainly starts a new one.
		f := c.firstSafe()
		if f < 0 {
			c.inline(0, len(c.refs))
			c.reset(len(c.refs))
			return
		}
		c.inline(0, f)
		c.seq.Flush(c.lastTime)
		c.seqOpen = false
		from = f
	}
	if c.size(from, len(c.refs)) < c.min {
		// Too little to share: the sequential Stream keeps the state.
		c.inline(from, len(c.refs))
		c.reset(len(c.refs))
		return
	}
	cut := len(c.refs)
	if !all && !c.endsRecord() {
		cut = c.lastSafe(from)
		if cut < 0 {
			// No boundary in sight (container envelopes, unknown text):
			// sequential, so nothing waits and memory stays bounded.
			c.inline(from, len(c.refs))
			c.reset(len(c.refs))
			return
		}
	}
	c.take(from, cut)
}

// inline runs lines [i, j) through the sequential Stream.
func (c *Chunker) inline(i, j int) {
	if i >= j {
		return
	}
	prev, start := 0, c.start
	if i > 0 {
		prev, start = c.refs[i-1].pos, c.refs[i-1].end
	}
	c.seq.lineNo = c.lineNo
	for _, r := range c.refs[i:j] {
		c.seq.WriteAt(c.data[prev:r.pos], start, r.end, c.lastTime)
		prev, start = r.pos, r.end
	}
	c.lineNo += int64(j - i)
	c.seqOpen = c.seq.Pending()
}

// take hands lines [i, j) on as a Part and drops lines [0, j) from the
// buffer. With i == 0 the Part takes the buffer itself (no copy) and the
// lines after j move to the Part's old buffer.
func (c *Chunker) take(i, j int) {
	p := c.eng.getPart()
	p.line, p.now = c.lineNo, c.lastTime
	c.lineNo += int64(j - i)
	if i > 0 {
		prev := c.refs[i-1].pos
		p.start = c.refs[i-1].end
		p.data = append(p.data, c.data[prev:c.refs[j-1].pos]...)
		for _, r := range c.refs[i:j] {
			p.refs = append(p.refs, lineRef{pos: r.pos - prev, end: r.end})
		}
		c.reset(j)
		c.part(p)
		return
	}
	cut := c.refs[j-1].pos
	data, refs := c.data, c.refs
	p.start = c.start
	c.start = refs[j-1].end
	c.data = append(p.data[:0], data[cut:]...)
	c.refs = append(p.refs[:0], refs[j:]...)
	for k := range c.refs {
		c.refs[k].pos -= cut
	}
	p.data, p.refs = data[:cut], refs[:j]
	c.part(p)
}

// reset drops lines [0, n) from the buffer.
func (c *Chunker) reset(n int) {
	if n >= len(c.refs) {
		c.data, c.refs = c.data[:0], c.refs[:0]
		return
	}
	cut := c.refs[n-1].pos
	c.start = c.refs[n-1].end
	c.data = append(c.data[:0], c.data[cut:]...)
	k := copy(c.refs, c.refs[n:])
	c.refs = c.refs[:k]
	for i := range c.refs {
		c.refs[i].pos -= cut
	}
}

func (c *Chunker) line(i int) []byte {
	prev := 0
	if i > 0 {
		prev = c.refs[i-1].pos
	}
	return c.data[prev:c.refs[i].pos]
}

func (c *Chunker) size(i, j int) int {
	prev := 0
	if i > 0 {
		prev = c.refs[i-1].pos
	}
	return c.refs[j-1].pos - prev
}

// endsRecord reports whether the last buffered line is a complete record
// by itself: a safe line of a one-line format.
func (c *Chunker) endsRecord() bool {
	ln := c.line(len(c.refs) - 1)
	return c.b.safeLine(ln) && terminal[c.b.idx]
}

// firstSafe returns the index of the first safe line among the first
// scanLines, -1 if none.
func (c *Chunker) firstSafe() int {
	for i := 0; i < len(c.refs) && i < scanLines; i++ {
		if c.b.safeLine(c.line(i)) {
			return i
		}
	}
	return -1
}

// lastSafe returns the index (> from) of the last safe line among the last
// scanLines, -1 if none.
func (c *Chunker) lastSafe(from int) int {
	for i := len(c.refs) - 1; i > from && i >= len(c.refs)-scanLines; i-- {
		if c.b.safeLine(c.line(i)) {
			return i
		}
	}
	return -1
}
