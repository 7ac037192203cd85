package pipeline

import (
	"context"
	"sync"
	"time"

	"github.com/starmates/logshipd/internal/event"
	"github.com/starmates/logshipd/internal/ingest"
	"github.com/starmates/logshipd/internal/normalize"
)

// lanes implements ingest.Lanes for one source.
type lanes struct {
	p      *Pipeline
	source string
	eng    *normalize.Engine
	keep   func(*event.Record) bool
}

func (l *lanes) NewLane(origin event.Origin) ingest.Lane {
	ln := &lane{p: l.p, source: l.source, stream: origin.Path, keep: l.keep}
	ln.st = l.eng.NewStream(origin, ln.add)
	ln.batch = &event.Batch{}
	return ln
}

// lane normalizes one input and commits batches to every sink. Commit
// callbacks run in commit order, whatever order the sinks finish in, so
// a source's checkpoint only moves over a contiguous prefix.
type lane struct {
	p      *Pipeline
	source string
	stream string
	st     *normalize.Stream
	batch  *event.Batch
	keep   func(*event.Record) bool

	mu      sync.Mutex
	waiting []*commit // in commit order
	// dispatch serialises callback runs so that two finishing sinks can
	// never run callbacks out of order. Callbacks must not call Commit.
	dispatch sync.Mutex
}

type commit struct {
	done      func(event.Status, int64)
	watermark int64
	status    event.Status
	finished  bool
}

func (l *lane) add(r *event.Record) {
	if l.keep != nil && !l.keep(r) {
		l.p.stats.Skipped.Add(1)
		return
	}
	l.batch.Append(r, l.source, l.stream)
}

func (l *lane) Write(line []byte, start, end int64, now time.Time) {
	l.st.WriteAt(line, start, end, now)
}

func (l *lane) FlushIdle(now time.Time) time.Time { return l.st.FlushIdle(now) }
func (l *lane) FlushAll(now time.Time)            { l.st.Flush(now) }
func (l *lane) Pending() int                      { return len(l.batch.Items) }
func (l *lane) Close()                            {}

func (l *lane) Commit(ctx context.Context, done func(event.Status, int64)) error {
	b := l.batch
	l.batch = &event.Batch{Buf: make([]byte, 0, len(b.Buf)), Items: make([]event.Item, 0, len(b.Items))}
	c := &commit{done: done, watermark: l.st.Watermark()}
	l.mu.Lock()
	l.waiting = append(l.waiting, c)
	l.mu.Unlock()
	workers := l.p.workers
	if len(b.Items) == 0 || len(workers) == 0 {
		l.finish(c, event.Delivered)
		return nil
	}
	b.Ack = event.NewAck(func(st event.Status) { l.finish(c, st) })
	b.Ack.Add(len(workers))
	for i, w := range workers {
		if err := w.Enqueue(ctx, b); err != nil {
			for range workers[i:] {
				b.Ack.Done(event.Failed)
			}
			return err
		}
	}
	l.p.stats.Committed.Add(int64(len(b.Items)))
	return nil
}

// finish records c's status and runs every finished callback at the head of
// the queue, in order.
func (l *lane) finish(c *commit, st event.Status) {
	l.dispatch.Lock()
	defer l.dispatch.Unlock()
	l.mu.Lock()
	c.status, c.finished = st, true
	var ready []*commit
	for len(l.waiting) > 0 && l.waiting[0].finished {
		ready = append(ready, l.waiting[0])
		l.waiting = l.waiting[1:]
	}
	l.mu.Unlock()
	for _, r := range ready {
		if r.done != nil {
			r.done(r.status, r.watermark)
		}
	}
}
