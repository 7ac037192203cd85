package pipeline

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
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

	mu   sync.Mutex
	open map[*lane]struct{}

	// Streams that ran Parts, shared by the source's lanes (SetOrigin):
	// at most one per worker is kept, however many inputs the source has.
	smu  sync.Mutex
	free []*partStream
}

func (l *lanes) NewLane(origin event.Origin) ingest.Lane {
	ln := &lane{p: l.p, set: l, origin: origin}
	ln.ch = l.eng.NewChunker(origin, ln.addInline, ln.addPart)
	l.mu.Lock()
	if l.open == nil {
		l.open = make(map[*lane]struct{})
	}
	l.open[ln] = struct{}{}
	l.mu.Unlock()
	return ln
}

// closeAll closes the lanes a source left open (their batches still reach
// the sinks before the sink queues close).
func (l *lanes) closeAll() {
	l.mu.Lock()
	open := make([]*lane, 0, len(l.open))
	for ln := range l.open {
		open = append(open, ln)
	}
	l.mu.Unlock()
	for _, ln := range open {
		ln.Close()
	}
}

// lane normalizes one input and commits batches to every sink.
//
// Lines go into a normalize.Chunker. Large runs of lines come out as Parts,
// normalized on the pipeline's worker pool (all cores); the rest is
// normalized inline on the source's goroutine. The outputs of a commit —
// inline batches and Parts, in input order — form a group; the lane's
// committer goroutine hands them to every sink queue in order as they are
// ready, group after group, under one Ack per group. Commit callbacks run
// in commit order, whatever order the sinks finish in, so a source's
// checkpoint only moves over a contiguous prefix.
type lane struct {
	p      *Pipeline
	set    *lanes // the source: name, engine, Keep filter
	origin event.Origin
	ch     *normalize.Chunker

	cur *event.Batch // inline records since the last part (nil: none)
	// Size of the next inline batch (the last one's).
	curHint, curHintN int
	outs              []*output // this commit's outputs so far, in order
	pending           int       // records and parts since the last commit

	groups    chan *group // to the committer
	committed chan struct{}
	closeOnce sync.Once

	// ratio is the output bytes per input byte of the last Part, x1024.
	ratio atomic.Int64

	mu      sync.Mutex
	waiting []*commit // in commit order
	// dispatch serialises callback runs so that two finishing sinks can
	// never run callbacks out of order. Callbacks must not call Commit.
	dispatch sync.Mutex
}

// output is one piece of a commit: an inline batch (ready) or a Part's
// batch (ready once done is closed).
type output struct {
	b    *event.Batch
	part *normalize.Part
	l    *lane
	done chan struct{}
}

type group struct {
	ctx  context.Context
	outs []*output
	c    *commit
}

type commit struct {
	done      func(event.Status, int64)
	watermark int64
	status    event.Status
	finished  bool
}

// partStream is a Stream that writes into the batch of the Part it runs.
type partStream struct {
	l   *lane
	st  *normalize.Stream
	out *event.Batch
}

func (ps *partStream) add(r *event.Record) { ps.l.appendTo(ps.out, r) }

func (l *lane) addInline(r *event.Record) {
	if l.cur == nil {
		// Allocated on the first record: an idle lane holds no batch.
		l.cur = l.p.batches.get(l.curHint, l.curHintN)
	}
	if l.appendTo(l.cur, r) {
		l.pending++
	}
}

// appendTo adds r to b unless the source's Keep filter leaves it out
// (counted), and reports whether it did.
func (l *lane) appendTo(b *event.Batch, r *event.Record) bool {
	if keep := l.set.keep; keep != nil && !keep(r) {
		l.p.stats.Skipped.Add(1)
		return false
	}
	b.Append(r, l.set.source, l.origin.Path)
	return true
}

// addPart queues a Part on the worker pool; its output takes the next
// place in the commit.
func (l *lane) addPart(p *normalize.Part) {
	l.closeInline()
	o := &output{part: p, l: l, done: make(chan struct{})}
	l.outs = append(l.outs, o)
	l.pending++
	l.p.norm <- o
}

func (l *lane) closeInline() {
	if l.cur != nil && len(l.cur.Items) > 0 {
		n := len(l.cur.Items)
		l.outs = append(l.outs, &output{b: l.cur})
		// The next one is sized like this one: busy sequential lanes
		// (container envelopes) fill a similar batch per commit without
		// regrowing.
		l.curHint, l.curHintN = len(l.cur.Buf)+len(l.cur.Buf)/8, n+n/8
		l.cur = nil
	}
}

// run normalizes o's Part (on a pool worker).
func (o *output) run() {
	l := o.l
	set := l.set
	set.smu.Lock()
	var ps *partStream
	if n := len(set.free); n > 0 {
		ps, set.free = set.free[n-1], set.free[:n-1]
	}
	set.smu.Unlock()
	if ps == nil {
		ps = &partStream{}
		ps.st = l.set.eng.NewStream(l.origin, ps.add)
	}
	ps.l = l
	ps.st.SetOrigin(l.origin, time.Now())
	// Size the batch from what this lane's records weigh (JSON per input
	// byte) so that it is allocated once.
	ratio := l.ratio.Load()
	if ratio == 0 {
		ratio = 2 << 10
	}
	in := o.part.Bytes()
	ps.out = l.p.batches.get(in*int(ratio)>>10+4096, o.part.Lines())
	o.part.Run(ps.st)
	l.p.stats.Parts.Add(1)
	if in > 0 {
		l.ratio.Store(int64(len(ps.out.Buf)<<10/in) + 32)
	}
	o.b, ps.out = ps.out, nil
	o.part.Release()
	o.part = nil
	ps.l = nil
	set.smu.Lock()
	if len(set.free) < cap(l.p.norm)+runtime.GOMAXPROCS(0) {
		set.free = append(set.free, ps)
	}
	set.smu.Unlock()
	close(o.done)
}

func (l *lane) Write(line []byte, start, end int64, now time.Time) {
	l.ch.Write(line, start, end, now)
}

func (l *lane) FlushIdle(now time.Time) time.Time { return l.ch.FlushIdle(now) }
func (l *lane) FlushAll(now time.Time)            { l.ch.Flush(now) }
func (l *lane) Pending() int                      { return l.pending + l.ch.Buffered() }

// Close hands the last groups to the sinks and stops the committer.
func (l *lane) Close() {
	l.closeOnce.Do(func() {
		if l.groups != nil {
			close(l.groups)
			<-l.committed
		}
		l.set.mu.Lock()
		delete(l.set.open, l)
		l.set.mu.Unlock()
	})
}

func (l *lane) Commit(ctx context.Context, done func(event.Status, int64)) error {
	l.ch.Cut()
	l.closeInline()
	g := &group{ctx: ctx, outs: l.outs, c: &commit{done: done, watermark: l.ch.Watermark()}}
	l.outs, l.pending = nil, 0
	l.mu.Lock()
	l.waiting = append(l.waiting, g.c)
	l.mu.Unlock()
	if l.groups == nil {
		l.groups = make(chan *group) // one group merging, one building: bounded memory
		l.committed = make(chan struct{})
		go l.committer()
	}
	select {
	case l.groups <- g:
		return nil
	case <-ctx.Done():
		l.finish(g.c, event.Failed)
		return ctx.Err()
	}
}

// minSend: outputs smaller than this are merged with their neighbour
// rather than sent as a batch of their own (fewer, fuller sink requests).
const minSend = 64 << 10

// committer hands groups to the sinks in order. A group's outputs go out
// as they are ready (one batch per Part, small ones merged), all under one
// Ack: the commit's callback runs once every sink finished every batch.
func (l *lane) committer() {
	defer close(l.committed)
	for g := range l.groups {
		// Every batch of the group, sent or merged away: their memory is
		// reused once every sink finished with the group.
		var used []*event.Batch
		ack := event.NewAck(func(st event.Status) {
			l.finish(g.c, st)
			l.p.batches.put(used)
		})
		ack.Add(1) // held until every batch of the group is queued
		var pend *event.Batch
		var err error
		send := func(b *event.Batch) {
			if err == nil {
				err = l.enqueue(g.ctx, b, ack)
			}
		}
		for _, o := range g.outs {
			if o.done != nil {
				<-o.done
			}
			b := o.b
			used = append(used, b)
			switch {
			case len(b.Items) == 0:
			case pend == nil:
				pend = b
			case len(pend.Buf) >= minSend && len(b.Buf) >= minSend:
				send(pend)
				pend = b
			default:
				pend.AppendBatch(b)
			}
		}
		if pend != nil {
			send(pend)
		}
		if err != nil {
			if g.ctx.Err() == nil {
				l.p.logger.Warn("commit failed: the data is not acknowledged", "source", l.set.source, "stream", l.origin.Path, "err", err)
			}
			ack.Done(event.Failed)
		} else {
			ack.Done(event.Delivered)
		}
	}
}

// enqueue hands b to every sink queue under ack.
func (l *lane) enqueue(ctx context.Context, b *event.Batch, ack *event.Ack) error {
	workers := l.p.workers
	b.Ack = ack
	ack.Add(len(workers))
	for i, w := range workers {
		if err := w.Enqueue(ctx, b); err != nil {
			for range workers[i:] {
				ack.Done(event.Failed)
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
