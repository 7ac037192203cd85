package event

import (
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Status is how a sink finished with a batch. Larger is worse; fan-out
// reports the worst status of all sinks (Vector's rule).
type Status uint8

const (
	// Delivered: the destination accepted every record.
	Delivered Status = iota
	// Rejected: some records were refused for good and dead-lettered with a
	// reason (still final: the source may move on).
	Rejected
	// Dropped: records were dropped on purpose by an explicit opt-in
	// (drop_newest buffer policy), and counted.
	Dropped
	// Failed: the batch could not be delivered or dead-lettered (shutdown
	// before delivery). The source must not advance past it.
	Failed
)

func (s Status) String() string {
	switch s {
	case Delivered:
		return "delivered"
	case Rejected:
		return "rejected"
	case Dropped:
		return "dropped"
	}
	return "failed"
}

// Ack tracks one batch through fan-out. The pipeline calls Add(n) for n
// sinks; each sink calls Done exactly once. When the count reaches zero the
// callback runs once with the worst status.
type Ack struct {
	pending atomic.Int32
	worst   atomic.Uint32
	once    sync.Once
	done    func(Status)
}

// NewAck returns an Ack that calls done when finished.
func NewAck(done func(Status)) *Ack { return &Ack{done: done} }

// Add registers n more parties that must call Done.
func (a *Ack) Add(n int) { a.pending.Add(int32(n)) }

// Done finishes one party with status s.
func (a *Ack) Done(s Status) {
	for {
		old := a.worst.Load()
		if uint32(s) <= old || a.worst.CompareAndSwap(old, uint32(s)) {
			break
		}
	}
	if a.pending.Add(-1) == 0 {
		a.once.Do(func() {
			if a.done != nil {
				a.done(Status(a.worst.Load()))
			}
		})
	}
}

// Item is one record inside a Batch: its JSON is Batch.Buf[Off:Off+Len].
type Item struct {
	Off, Len    int
	Time        time.Time
	Level       Level
	Service     string
	Environment string
	Project     string
	TrackingID  string
	TraceID     [16]byte
	SpanID      [8]byte
	HasTrace    bool
	HasSpan     bool
	// Source names the source the record came from (for templates and
	// metrics); Stream is the container stream or file path.
	Source string
	Stream string
	// BelowLevel: see Record.BelowLevel.
	BelowLevel bool
}

// Batch is a run of records from one source lane, owned by the batch (copied
// at the lane boundary) and shared read-only by every sink. Buf is NDJSON:
// each record's JSON followed by '\n'. A sink must not keep Buf, Items or
// slices and unsafe strings of them after its Ack.Done: the pipeline reuses
// that memory once every sink is done (copy what must outlive the call).
type Batch struct {
	Buf   []byte
	Items []Item
	Ack   *Ack
	// ids holds the bytes of the Items' TrackingID strings (one allocation
	// per batch instead of one per record). Only ever appended to: a string
	// made from it stays valid and unchanged when it grows.
	ids []byte
}

// JSON returns the canonical record of item i.
func (b *Batch) JSON(i int) []byte {
	it := &b.Items[i]
	return b.Buf[it.Off : it.Off+it.Len : it.Off+it.Len]
}

// Bytes returns the total JSON bytes in the batch.
func (b *Batch) Bytes() int { return len(b.Buf) }

// itemSize is the memory one Item takes in Items.
const itemSize = int(unsafe.Sizeof(Item{}))

// MemBytes returns the memory the batch holds: JSON and per-record
// metadata (what queue bounds count).
func (b *Batch) MemBytes() int { return len(b.Buf) + len(b.Items)*itemSize + len(b.ids) }

// Append copies r into the batch.
func (b *Batch) Append(r *Record, source, stream string) {
	off := len(b.Buf)
	b.Buf = append(b.Buf, r.JSON...)
	b.Buf = append(b.Buf, '\n')
	b.Items = append(b.Items, Item{
		Off: off, Len: len(r.JSON), Time: r.Time, Level: r.Level, Service: r.Service,
		Environment: r.Environment, Project: r.Project, TrackingID: b.trackingID(r),
		TraceID: r.TraceID, SpanID: r.SpanID, HasTrace: r.HasTrace, HasSpan: r.HasSpan,
		Source: source, Stream: stream, BelowLevel: r.BelowLevel,
	})
}

// trackingID returns r's tracking id as a string in b.ids. Strings kept
// beyond the batch's life should be cloned (they keep ids alive).
func (b *Batch) trackingID(r *Record) string {
	n := int(r.TrackingIDLen)
	if n == 0 {
		return ""
	}
	if cap(b.ids)-len(b.ids) < n {
		// A new array: strings into the old one stay valid (it is never
		// written again).
		b.ids = make([]byte, 0, max(2*cap(b.ids), 64*n))
	}
	start := len(b.ids)
	b.ids = append(b.ids, r.TrackingID[:n]...)
	return unsafe.String(&b.ids[start], n)
}

// AppendBatch copies o's records (not its Ack) to the end of b.
func (b *Batch) AppendBatch(o *Batch) {
	off := len(b.Buf)
	b.Buf = append(b.Buf, o.Buf...)
	n := len(b.Items)
	b.Items = append(b.Items, o.Items...)
	for i := n; i < len(b.Items); i++ {
		b.Items[i].Off += off
	}
}
