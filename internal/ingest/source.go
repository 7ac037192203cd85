package ingest

import (
	"context"
	"errors"
	"time"

	"github.com/starmates/logshipd/internal/event"
)

// ErrEndOfInput is returned by Source.Run when the input is exhausted
// (stdin at EOF, replay done): the daemon then drains and exits 0.
var ErrEndOfInput = errors.New("end of input")

// Source is one configured input. Run returns when ctx is cancelled (nil
// or ctx.Err()), at end of input (ErrEndOfInput), or on a fatal error.
// Sources write through Lanes and never talk to sinks directly.
type Source interface {
	Name() string
	Run(ctx context.Context, lanes Lanes) error
}

// Lanes creates lanes; the pipeline implements it.
type Lanes interface {
	// NewLane starts a lane for one input (a file, a connection, stdin).
	NewLane(origin event.Origin) Lane
}

// Lane normalizes the lines of one input and hands them to the sinks in
// batches. A Lane is used by one goroutine.
type Lane interface {
	// Write normalizes one physical line (without '\n'). start and end are
	// the line's byte offsets in its input (end excludes the newline's
	// successor: the offset to resume after this line); use -1 when the
	// input has no offsets.
	Write(line []byte, start, end int64, now time.Time)
	// FlushIdle emits multiline records idle for longer than the flush
	// timeout and returns when it should be called again (zero: nothing
	// pending).
	FlushIdle(now time.Time) time.Time
	// FlushAll emits every pending record (end of input, file deleted).
	FlushAll(now time.Time)
	// Pending reports the number of records written since the last Commit.
	Pending() int
	// Commit hands every record normalized since the last Commit to the
	// sinks as one batch and returns once every sink queue took it: it
	// blocks while a queue is full (backpressure) or until ctx ends.
	// done runs once, when every sink has finished with the batch, with
	// the worst status and the watermark: the input offset below which
	// every line's records are in this batch or an earlier one (-1 when
	// the input has no offsets). A Commit with nothing pending still
	// calls done (in order) so sources can acknowledge empty chunks.
	Commit(ctx context.Context, done func(st event.Status, watermark int64)) error
	// Close releases the lane (after a final Commit).
	Close()
}
