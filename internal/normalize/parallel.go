package normalize

import (
	"bytes"
	"context"
	"io"
	"runtime"
	"sync"
	"time"

	"github.com/starmates/logshipd/internal/event"
	"github.com/starmates/logshipd/internal/ingest"
	"github.com/starmates/logshipd/internal/normalize/parse"
)

// Parallel normalization of one ordered input across cores.
//
// The input is cut into chunks at "safe boundaries": lines at which a new
// record starts whatever came before. A line is safe when it is not
// indented, not blank, not a container envelope (envelopes carry per-key
// multiline and partial state), and is recognised by a parser other than
// plain: such a line is always a record header in the joiner (see
// Stream.line), so no multiline record spans a safe boundary. Each chunk is
// normalized by its own Stream and flushed at its end; outputs are written
// in input order. The tail after the last safe boundary waits for more
// input, or for the multiline flush timeout — exactly the sequential
// semantics.

// boundary finds safe boundaries. Not safe for concurrent use.
type boundary struct {
	det *detector
	f   parse.Fields
}

func (e *Engine) newBoundary() *boundary {
	return &boundary{det: newDetector(e.cfg.Format)}
}

// safeLine reports whether a record certainly starts at line.
func (b *boundary) safeLine(line []byte) bool {
	if len(line) == 0 || line[0] == ' ' || line[0] == '\t' || line[0] == '\r' || line[0] == 0x1b {
		return false
	}
	switch c := line[0]; {
	case c == '{':
		// JSON: safe unless the parser sees a container envelope below.
	case c >= '0' && c <= '9':
		var u unwrapped
		if unwrapCRI(line, &u) {
			return false
		}
	default:
		var u unwrapped
		if unwrapCompose(line, &u) {
			return false
		}
	}
	idx := b.det.parse(line, &b.f)
	return idx != plainIndex && !(idx == jsonIndex && b.f.Envelope)
}

// lastSafe returns the start offset of the last safe line in buf (which
// holds complete lines), searching back at most maxScan bytes; -1 if none.
// Offset 0 is never returned (a boundary must leave a non-empty prefix).
func (b *boundary) lastSafe(buf []byte, maxScan int) int {
	end := len(buf)
	limit := max(0, len(buf)-maxScan)
	for end > limit {
		// line is buf[start:end-1] (end-1 is its '\n')
		start := bytes.LastIndexByte(buf[:end-1], '\n') + 1
		if start == 0 {
			return -1
		}
		if b.safeLine(buf[start : end-1]) {
			return start
		}
		end = start
	}
	return -1
}

// ParallelConfig tunes RunParallel.
type ParallelConfig struct {
	Workers   int // default GOMAXPROCS
	ChunkSize int // read size, default 256 KiB
	MaxLine   int // longest line kept whole (ingest.Framer rules)
}

// RunParallel normalizes r to w as NDJSON, using several cores while
// keeping input order. It returns at EOF after flushing everything.
// Lines longer than cfg.MaxLine are cut by the caller's framing rules:
// here they are passed through Stream.Write as they are found.
func (e *Engine) RunParallel(ctx context.Context, r io.Reader, w io.Writer, origin event.Origin, cfg ParallelConfig) error {
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if cfg.MaxLine <= 0 {
		cfg.MaxLine = ingest.DefaultMaxLineBytes
	}
	if cfg.ChunkSize <= 0 {
		cfg.ChunkSize = 256 << 10
	}
	type job struct {
		seq   int
		data  []byte
		now   time.Time
		out   chan []byte
		flush bool // sequential lane: flush pending records after data
	}
	jobs := make(chan *job, cfg.Workers*2)
	// The sequential lane takes input without safe boundaries (container
	// envelopes, whose multiline state is per container and stream): one
	// persistent Stream keeps that state across chunks, so memory stays
	// bounded by the chunk size instead of growing until a boundary shows.
	seqJobs := make(chan *job, 2)
	order := make(chan *job, cfg.Workers*4)
	outPool := sync.Pool{New: func() any { b := make([]byte, 0, 2*cfg.ChunkSize); return &b }}
	var wg sync.WaitGroup
	for range cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out *[]byte
			st := e.NewStream(origin, func(rec *event.Record) {
				if rec.BelowLevel {
					return
				}
				*out = append(*out, rec.JSON...)
				*out = append(*out, '\n')
			})
			for j := range jobs {
				out = outPool.Get().(*[]byte)
				*out = (*out)[:0]
				fr := ingest.NewFramer(cfg.MaxLine)
				fr.Feed(j.data, func(line []byte) { st.Write(line, j.now) })
				fr.End(func(line []byte) { st.Write(line, j.now) })
				st.Flush(j.now)
				j.out <- *out
				out = nil
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		var out *[]byte
		st := e.NewStream(origin, func(rec *event.Record) {
			if rec.BelowLevel {
				return
			}
			*out = append(*out, rec.JSON...)
			*out = append(*out, '\n')
		})
		fr := ingest.NewFramer(cfg.MaxLine)
		for j := range seqJobs {
			out = outPool.Get().(*[]byte)
			*out = (*out)[:0]
			fr.Feed(j.data, func(line []byte) { st.Write(line, j.now) })
			if j.flush {
				fr.End(func(line []byte) { st.Write(line, j.now) })
				st.Flush(j.now)
			}
			j.out <- *out
			out = nil
		}
	}()
	// Writer: outputs in order.
	werr := make(chan error, 1)
	go func() {
		var err error
		for j := range order {
			buf := <-j.out
			if err == nil && len(buf) > 0 {
				_, err = w.Write(buf)
			}
			buf = buf[:0]
			outPool.Put(&buf)
		}
		werr <- err
	}()

	b := e.newBoundary()
	seq := 0
	var carry []byte
	seqOpen := false // the sequential lane holds state that must be flushed first
	send := func(data []byte, now time.Time, sequential, flush bool) {
		j := &job{seq: seq, data: data, now: now, out: make(chan []byte, 1), flush: flush}
		seq++
		order <- j
		if sequential {
			seqJobs <- j
		} else {
			jobs <- j
		}
	}
	// dispatch sends a chunk that ends at a safe boundary (or at the end of
	// the input). If the sequential lane holds state, the chunk continues it
	// and goes there (flushed at its end: the next line starts a record);
	// otherwise the chunk also starts at a boundary and any worker takes it.
	dispatch := func(data []byte, now time.Time) {
		if seqOpen {
			send(data, now, true, true)
			seqOpen = false
			return
		}
		send(data, now, false, false)
	}
	// Relay: a blocked Read cannot be cancelled, and the flush timeout must
	// fire while the input is idle.
	chunks := make(chan []byte, 2)
	rerrc := make(chan error, 1)
	go func() {
		defer close(chunks)
		for {
			buf := make([]byte, cfg.ChunkSize)
			n, err := io.ReadAtLeast(r, buf, 1)
			if n > 0 {
				select {
				case chunks <- buf[:n]:
				case <-ctx.Done():
					return
				}
			}
			if err != nil {
				if err != io.EOF && err != io.ErrUnexpectedEOF {
					rerrc <- err
				}
				return
			}
		}
	}()
	timeout := e.cfg.Multiline.FlushTimeout
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var rerr error
loop:
	for {
		select {
		case <-ctx.Done():
			rerr = ctx.Err()
			break loop
		case <-timer.C:
			// Idle input: what is carried is complete up to its last newline.
			if complete := bytes.LastIndexByte(carry, '\n') + 1; complete > 0 {
				chunk := append([]byte(nil), carry[:complete]...)
				if seqOpen {
					send(chunk, time.Now(), true, true) // the flush timeout passed
					seqOpen = false
				} else {
					dispatch(chunk, time.Now())
				}
				carry = append(carry[:0], carry[complete:]...)
			}
		case data, ok := <-chunks:
			if !ok {
				select {
				case rerr = <-rerrc:
				default:
				}
				break loop
			}
			now := time.Now()
			carry = append(carry, data...)
			complete := bytes.LastIndexByte(carry, '\n') + 1
			if complete > 0 {
				if cut := b.lastSafe(carry[:complete], 64<<10); cut > 0 {
					chunk := make([]byte, cut)
					copy(chunk, carry[:cut])
					dispatch(chunk, now)
					carry = append(carry[:0], carry[cut:]...)
				}
			}
			if complete = bytes.LastIndexByte(carry, '\n') + 1; complete > 4*cfg.ChunkSize {
				// No safe boundary for a while (container envelopes): hand the
				// complete lines to the sequential lane, which keeps state.
				send(append([]byte(nil), carry[:complete]...), now, true, false)
				seqOpen = true
				carry = append(carry[:0], carry[complete:]...)
			}
			if len(carry) > cfg.MaxLine+cfg.ChunkSize && complete == 0 {
				// One line longer than max_line: pass it on (the worker's
				// framer cuts and marks it) rather than growing without bound.
				dispatch(append([]byte(nil), carry...), now)
				carry = carry[:0]
			}
			if len(carry) > 0 {
				timer.Reset(timeout)
			}
		}
	}
	if seqOpen {
		send(carry, time.Now(), true, true)
	} else if len(carry) > 0 {
		dispatch(carry, time.Now())
	}
	close(jobs)
	close(seqJobs)
	wg.Wait()
	close(order)
	if err := <-werr; err != nil {
		return err
	}
	return rerr
}
