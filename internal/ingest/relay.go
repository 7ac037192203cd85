package ingest

import (
	"context"
	"errors"
	"io"
)

// Relay reads an io.Reader on its own goroutine, so that a blocked Read
// never holds up the select loop that frames the data (flush timers,
// cancellation). Reads land in a few buffers that circulate between the
// relay and its user: the user hands each chunk back with Recycle once it
// no longer refers to its bytes (Framer and the normalizer copy what they
// keep). A fresh buffer per read would be most of a fast reader's garbage.
type Relay struct {
	// C delivers chunks in input order. It is closed at end of input, after
	// a read error (see Err) or when the context is cancelled.
	C    <-chan []byte
	free chan []byte
	err  error // written before C is closed
}

// StartRelay starts reading r into bufs buffers of size bytes each. On
// cancel the relay stops at its next chunk; a Read blocked forever (a
// terminal, a pipe nobody closes) leaves the goroutine behind until the
// process exits, which is the only way out of a blocking Read.
func StartRelay(ctx context.Context, r io.Reader, size, bufs int) *Relay {
	bufs = max(bufs, 2)
	c := make(chan []byte, bufs)
	rl := &Relay{C: c, free: make(chan []byte, bufs)}
	for range bufs {
		rl.free <- make([]byte, size)
	}
	go func() {
		defer close(c)
		for {
			var buf []byte
			select {
			case buf = <-rl.free:
			case <-ctx.Done():
				return
			}
			n, err := io.ReadAtLeast(r, buf, 1)
			if n > 0 {
				c <- buf[:n] // never blocks: C holds every buffer
			}
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
					rl.err = err
				}
				return
			}
		}
	}()
	return rl
}

// Recycle hands a chunk received from C back for the next read. The caller
// must not use its bytes afterwards. Every chunk must come back: reading
// waits while all buffers are out, which is also the relay's backpressure.
func (r *Relay) Recycle(chunk []byte) {
	select {
	case r.free <- chunk[:cap(chunk)]:
	default:
	}
}

// Err returns the read error that ended the input, nil at end of input or
// on cancel. Valid once C is closed.
func (r *Relay) Err() error { return r.err }
