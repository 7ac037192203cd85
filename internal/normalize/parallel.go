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
	idx int // format of the last line safeLine parsed
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
		if bytes.HasPrefix(line, prefixLog) {
			return false // Docker json-file, most FireLens records
		}
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
	b.idx = idx
	return idx != plainIndex && !(idx == jsonIndex && b.f.Envelope)
}

// ParallelConfig tunes RunParallel.
type ParallelConfig struct {
	Workers   int // default GOMAXPROCS
	ChunkSize int // read size, default 256 KiB
	MaxLine   int // longest line kept whole (ingest.Framer rules)
}

// RunParallel normalizes r to w as NDJSON, using several cores while
// keeping input order (see Chunker). It returns at EOF after flushing
// everything. Lines longer than cfg.MaxLine are cut and marked as the
// sources do (ingest.Framer).
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
	// An output in input order: inline records (ready) or a Part's.
	type job struct {
		part *Part
		out  []byte
		done chan struct{}
	}
	ready := make(chan struct{})
	close(ready)
	jobs := make(chan *job)
	order := make(chan *job, cfg.Workers*4)
	// Output buffers go back to the pool once written: fresh big buffers
	// cost page faults and clearing.
	var bufs sync.Pool
	var wg sync.WaitGroup
	for range cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out []byte
			st := e.NewStream(origin, func(rec *event.Record) {
				if !rec.BelowLevel {
					out = append(append(out, rec.JSON...), '\n')
				}
			})
			for j := range jobs {
				if b, ok := bufs.Get().(*[]byte); ok {
					out = (*b)[:0]
				} else {
					out = make([]byte, 0, j.part.Bytes()*2)
				}
				j.part.Run(st)
				j.out = out
				j.part.Release()
				close(j.done)
			}
		}()
	}
	werr := make(chan error, 1)
	go func() {
		var err error
		for j := range order {
			<-j.done
			if err == nil && len(j.out) > 0 {
				_, err = w.Write(j.out)
			}
			b := j.out
			bufs.Put(&b)
		}
		werr <- err
	}()

	var inline []byte
	flushInline := func() {
		if len(inline) > 0 {
			order <- &job{out: inline, done: ready}
			inline = nil
			if b, ok := bufs.Get().(*[]byte); ok {
				inline = (*b)[:0]
			}
		}
	}
	ch := e.NewChunker(origin, func(rec *event.Record) {
		if !rec.BelowLevel {
			inline = append(append(inline, rec.JSON...), '\n')
		}
	}, func(p *Part) {
		flushInline()
		j := &job{part: p, done: make(chan struct{})}
		order <- j
		jobs <- j
	})
	ch.SetPartSize(cfg.ChunkSize)

	// Relay: a blocked Read cannot be cancelled, and the flush timeout must
	// fire while the input is idle.
	relay := ingest.StartRelay(ctx, r, cfg.ChunkSize, 4)
	fr := ingest.NewFramer(cfg.MaxLine)
	var now time.Time
	write := func(line []byte) { ch.Write(line, -1, -1, now) }
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
			if next := ch.FlushIdle(time.Now()); !next.IsZero() {
				timer.Reset(time.Until(next))
			}
		case data, ok := <-relay.C:
			if !ok {
				rerr = relay.Err()
				break loop
			}
			now = time.Now()
			fr.Feed(data, write)
			relay.Recycle(data)
			ch.Cut()
			if next := ch.FlushIdle(now); !next.IsZero() {
				timer.Reset(time.Until(next))
			}
		}
		flushInline()
	}
	now = time.Now()
	fr.End(write)
	ch.Flush(now)
	flushInline()
	close(jobs)
	wg.Wait()
	close(order)
	if err := <-werr; err != nil {
		return err
	}
	return rerr
}
