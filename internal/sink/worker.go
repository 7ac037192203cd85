package sink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/starmates/logshipd/internal/event"
)

// Sink is one destination. Send delivers one batch (see the package doc for
// the meaning of its error). Close flushes and releases resources; it is
// called once, after the last Send returned.
type Sink interface {
	Send(ctx context.Context, b *event.Batch) error
	Close(ctx context.Context) error
}

// AllLevels is implemented by sinks that want the records under the level
// filter too (derived metrics). Every other sink never sees them: the worker
// removes them before Send and counts them as filtered.
type AllLevels interface{ AllLevels() bool }

// AgeLimiter is implemented by sinks whose destination refuses records by
// age (CloudWatch: older than 14 days or the retention, more than 2 h in the
// future; Loki: older than its reject window). The worker dead-letters such
// records with the reason instead of sending them to be rejected.
type AgeLimiter interface {
	// AgeReason returns "" when t is acceptable at now, else a reason label
	// ("too_old", "too_new", "expired").
	AgeReason(t, now time.Time) string
}

// QueueConfig bounds a sink's queue and sets its retry policy.
type QueueConfig struct {
	// MaxBatches and MaxBytes bound the batches waiting for this sink.
	// MaxBytes counts the memory a batch holds: its records' JSON and
	// their per-record metadata (event.Batch.MemBytes).
	MaxBatches int `yaml:"max_batches"`
	MaxBytes   int `yaml:"max_bytes"`
	// WhenFull is "block" (default: backpressure on the sources) or
	// "drop_newest" (drop and count the batch that does not fit).
	WhenFull string `yaml:"when_full"`
	// Retry backoff: InitialBackoff doubling up to MaxBackoff, full jitter.
	InitialBackoff time.Duration `yaml:"initial_backoff"`
	MaxBackoff     time.Duration `yaml:"max_backoff"`
	// MaxRetryTime gives up on a batch after this long (0: retry until
	// shutdown). A batch given up on is dead-lettered with reason
	// "retries_exhausted".
	MaxRetryTime time.Duration `yaml:"max_retry_time"`
	// Buffer is "memory" (default: the bounded queue above) or "disk": a
	// crash-safe buffer in <data_dir>/buffer/<sink>/ bounded by
	// MaxDiskBytes. With "disk" a batch is acknowledged to its source once
	// it is written to the buffer, so outages do not hold sources back
	// until the buffer is full; after a restart the buffer is delivered
	// first.
	Buffer        string        `yaml:"buffer"`
	MaxDiskBytes  int64         `yaml:"max_disk_bytes"`
	FsyncInterval time.Duration `yaml:"fsync_interval"`
}

// DefaultQueueMaxBytes is the default memory queue bound: ~4 s of
// CloudWatch's per-stream throughput, well above what one sink request
// takes, and small enough that the daemon stays in a sidecar's memory
// budget (see docs/performance.md). Bursts beyond it hold the sources
// back; queue.buffer: disk absorbs outages.
const DefaultQueueMaxBytes = 16 << 20

// DefaultQueueConfig returns the defaults.
func DefaultQueueConfig() QueueConfig {
	return QueueConfig{MaxBatches: 256, MaxBytes: DefaultQueueMaxBytes, WhenFull: "block",
		InitialBackoff: 500 * time.Millisecond, MaxBackoff: 30 * time.Second,
		Buffer: "memory", MaxDiskBytes: 1 << 30, FsyncInterval: time.Second}
}

// Validate reports every problem, joined.
func (c *QueueConfig) Validate() error {
	var errs []error
	if c.MaxBatches < 1 {
		errs = append(errs, fmt.Errorf("queue.max_batches %d: must be >= 1", c.MaxBatches))
	}
	if c.MaxBytes < 1<<16 {
		errs = append(errs, fmt.Errorf("queue.max_bytes %d: must be >= 65536", c.MaxBytes))
	}
	if c.WhenFull != "block" && c.WhenFull != "drop_newest" {
		errs = append(errs, fmt.Errorf("queue.when_full %q: must be block or drop_newest", c.WhenFull))
	}
	if c.InitialBackoff <= 0 || c.MaxBackoff < c.InitialBackoff {
		errs = append(errs, fmt.Errorf("queue.initial_backoff %s / max_backoff %s: need 0 < initial <= max", c.InitialBackoff, c.MaxBackoff))
	}
	if c.Buffer != "memory" && c.Buffer != "disk" {
		errs = append(errs, fmt.Errorf("queue.buffer %q: must be memory or disk", c.Buffer))
	}
	if c.Buffer == "disk" && c.MaxDiskBytes < 1<<20 {
		errs = append(errs, fmt.Errorf("queue.max_disk_bytes %d: must be >= 1 MiB", c.MaxDiskBytes))
	}
	if c.FsyncInterval < 0 {
		errs = append(errs, fmt.Errorf("queue.fsync_interval %s: must be >= 0 (0 syncs every batch)", c.FsyncInterval))
	}
	if c.MaxRetryTime < 0 {
		errs = append(errs, fmt.Errorf("queue.max_retry_time %s: must be >= 0", c.MaxRetryTime))
	}
	return errors.Join(errs...)
}

// Stats are a worker's counters (exported for metrics).
type Stats struct {
	Received      atomic.Int64 // records enqueued
	Sent          atomic.Int64 // records delivered
	DeadLettered  atomic.Int64 // records refused for good (dead-lettered)
	Dropped       atomic.Int64 // records dropped by drop_newest
	Filtered      atomic.Int64 // records under the level filter, not sent
	Errors        atomic.Int64 // failed Send attempts
	Retries       atomic.Int64
	QueueBatches  atomic.Int64
	QueueBytes    atomic.Int64
	mu            sync.Mutex
	deadByReason  map[string]int64
	errorsByClass map[string]int64
}

func (s *Stats) countDead(reason string, n int64) {
	s.DeadLettered.Add(n)
	s.mu.Lock()
	if s.deadByReason == nil {
		s.deadByReason = map[string]int64{}
	}
	s.deadByReason[reason] += n
	s.mu.Unlock()
}

func (s *Stats) countErr(class string) {
	s.Errors.Add(1)
	s.mu.Lock()
	if s.errorsByClass == nil {
		s.errorsByClass = map[string]int64{}
	}
	s.errorsByClass[class]++
	s.mu.Unlock()
}

// DeadByReason returns dead-lettered records per reason.
func (s *Stats) DeadByReason() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int64, len(s.deadByReason))
	for k, v := range s.deadByReason {
		out[k] = v
	}
	return out
}

// ErrorsByClass returns failed attempts per class (retryable, throttled,
// permanent).
func (s *Stats) ErrorsByClass() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int64, len(s.errorsByClass))
	for k, v := range s.errorsByClass {
		out[k] = v
	}
	return out
}

// Worker runs one Sink behind a bounded queue with the retry layer.
type Worker struct {
	name   string
	sink   Sink
	cfg    QueueConfig
	dl     *DeadLetter
	logger *slog.Logger
	stats  *Stats

	mu     sync.Mutex
	cond   *sync.Cond
	queue  []*event.Batch
	bytes  int
	closed bool

	disk *DiskBuffer // nil: memory queue
	// closing is closed by Close. A disk-buffered worker that is failing
	// stops retrying then: its batches are durable and go out after the
	// restart, so waiting out shutdown_grace on a sink that is down buys
	// nothing.
	closing   chan struct{}
	closeOnce sync.Once
}

// UseDiskBuffer makes the worker buffer on disk (call before Run).
func (w *Worker) UseDiskBuffer(d *DiskBuffer) { w.disk = d }

// NewWorker wraps s. dl receives permanently refused records.
func NewWorker(name string, s Sink, cfg QueueConfig, dl *DeadLetter, logger *slog.Logger, stats *Stats) *Worker {
	if stats == nil {
		stats = &Stats{}
	}
	w := &Worker{name: name, sink: s, cfg: cfg, dl: dl, logger: logger.With("sink", name), stats: stats,
		closing: make(chan struct{})}
	w.cond = sync.NewCond(&w.mu)
	return w
}

// Name returns the sink name.
func (w *Worker) Name() string { return w.name }

// Stats returns the counters.
func (w *Worker) Stats() *Stats { return w.stats }

// QueueCapacity returns the bounds of the sink's queue: bytes (memory
// queue: MaxBytes; disk buffer: MaxDiskBytes) and batches (0 for a disk
// buffer, which is bounded by bytes only).
func (w *Worker) QueueCapacity() (bytes, batches int64) {
	if w.disk != nil {
		return w.cfg.MaxDiskBytes, 0
	}
	return int64(w.cfg.MaxBytes), int64(w.cfg.MaxBatches)
}

// Enqueue adds b (whose Ack already counts this worker). It blocks while
// the queue is full unless when_full is drop_newest; it returns ctx.Err()
// (without taking b) when ctx ends first, or an error after Close.
func (w *Worker) Enqueue(ctx context.Context, b *event.Batch) error {
	if w.disk != nil {
		return w.enqueueDisk(ctx, b)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return errors.New("sink " + w.name + " is closed")
	}
	full := func() bool {
		return len(w.queue) > 0 && (len(w.queue) >= w.cfg.MaxBatches || w.bytes+b.MemBytes() > w.cfg.MaxBytes)
	}
	if full() && w.cfg.WhenFull == "drop_newest" {
		w.stats.Dropped.Add(int64(len(b.Items)))
		b.Ack.Done(event.Dropped)
		return nil
	}
	if full() {
		stop := context.AfterFunc(ctx, func() {
			w.mu.Lock()
			w.cond.Broadcast()
			w.mu.Unlock()
		})
		defer stop()
		for full() && ctx.Err() == nil && !w.closed {
			w.cond.Wait()
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if w.closed {
			return errors.New("sink " + w.name + " is closed")
		}
	}
	w.queue = append(w.queue, b)
	w.bytes += b.MemBytes()
	w.stats.Received.Add(int64(len(b.Items)))
	w.stats.QueueBatches.Store(int64(len(w.queue)))
	w.stats.QueueBytes.Store(int64(w.bytes))
	w.cond.Broadcast()
	return nil
}

func (w *Worker) enqueueDisk(ctx context.Context, b *event.Batch) error {
	size := int64(b.Bytes() + len(b.Items)*64)
	if w.cfg.WhenFull == "drop_newest" {
		if w.disk.Bytes()+size > w.cfg.MaxDiskBytes && w.disk.Bytes() > 0 {
			w.stats.Dropped.Add(int64(len(b.Items)))
			b.Ack.Done(event.Dropped)
			return nil
		}
	} else if err := w.disk.WaitSpace(ctx, size); err != nil {
		return err
	}
	for {
		err := w.disk.Append(b)
		if errors.Is(err, ErrBufferFull) {
			if w.cfg.WhenFull == "drop_newest" {
				w.stats.Dropped.Add(int64(len(b.Items)))
				b.Ack.Done(event.Dropped)
				return nil
			}
			if err := w.disk.WaitSpace(ctx, size); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("sink %s: %w", w.name, err)
		}
		break
	}
	w.stats.Received.Add(int64(len(b.Items)))
	w.stats.QueueBytes.Store(w.disk.Bytes())
	b.Ack.Done(event.Delivered) // durable in the buffer
	return nil
}

func (w *Worker) runDisk(ctx context.Context) {
	br := w.disk.newReader()
	defer br.close()
	for {
		b, pos, err := w.disk.Next(ctx, br)
		if err != nil {
			if !errors.Is(err, context.Canceled) && !errors.Is(err, io.EOF) {
				w.logger.Error("disk buffer read failed: stopping delivery, data stays on disk", "err", err)
			}
			return
		}
		if st := w.deliver(ctx, b); st == event.Failed {
			return // not committed: delivered again after a restart
		}
		if err := w.disk.Commit(pos); err != nil {
			w.logger.Error("disk buffer commit failed", "err", err)
		}
		w.stats.QueueBytes.Store(w.disk.Bytes())
	}
}

// Run delivers queued batches until Close is called and the queue is
// empty, or ctx ends (then every remaining batch finishes as Failed; with
// a disk buffer it simply stays on disk).
func (w *Worker) Run(ctx context.Context) {
	if w.disk != nil {
		w.runDisk(ctx)
		return
	}
	stop := context.AfterFunc(ctx, func() {
		w.mu.Lock()
		w.cond.Broadcast()
		w.mu.Unlock()
	})
	defer stop()
	for {
		w.mu.Lock()
		for len(w.queue) == 0 && !w.closed && ctx.Err() == nil {
			w.cond.Wait()
		}
		if ctx.Err() != nil {
			rest := w.queue
			w.queue, w.bytes = nil, 0
			w.closed = true
			w.cond.Broadcast()
			w.mu.Unlock()
			for _, b := range rest {
				b.Ack.Done(event.Failed)
			}
			return
		}
		if len(w.queue) == 0 && w.closed {
			w.mu.Unlock()
			return
		}
		b := w.queue[0]
		w.mu.Unlock()

		st := w.deliver(ctx, b)

		w.mu.Lock()
		w.queue[0] = nil
		w.queue = w.queue[1:]
		w.bytes -= b.MemBytes()
		w.stats.QueueBatches.Store(int64(len(w.queue)))
		w.stats.QueueBytes.Store(int64(w.bytes))
		w.cond.Broadcast()
		w.mu.Unlock()
		b.Ack.Done(st)
	}
}

// Close stops accepting batches; Run returns once the queue is drained.
func (w *Worker) Close() {
	if w.disk != nil {
		w.disk.CloseWrites()
	}
	w.closeOnce.Do(func() { close(w.closing) })
	w.mu.Lock()
	w.closed = true
	w.cond.Broadcast()
	w.mu.Unlock()
}

// CloseSink closes the destination and the disk buffer (after Run returned).
func (w *Worker) CloseSink(ctx context.Context) error {
	err := w.sink.Close(ctx)
	if w.disk != nil {
		err = errors.Join(err, w.disk.Close())
	}
	return err
}

// deliver sends b with retries and returns its final status.
func (w *Worker) deliver(ctx context.Context, b *event.Batch) event.Status {
	start := time.Now()
	if al, ok := w.sink.(AllLevels); !ok || !al.AllLevels() {
		if b = w.dropBelowLevel(b); len(b.Items) == 0 {
			return event.Delivered
		}
	}
	var refused event.Status
	if al, ok := w.sink.(AgeLimiter); ok {
		var st event.Status
		b, st = w.filterAge(al, b, start)
		if st == event.Failed {
			return event.Failed
		}
		refused = st
		if len(b.Items) == 0 {
			return refused
		}
	}
	st := w.send(ctx, b, start)
	return max(st, refused)
}

// dropBelowLevel returns b without the records under the level filter.
func (w *Worker) dropBelowLevel(b *event.Batch) *event.Batch {
	n := 0
	for i := range b.Items {
		if b.Items[i].BelowLevel {
			n++
		}
	}
	if n == 0 {
		return b
	}
	w.stats.Filtered.Add(int64(n))
	return subBatch(b, func(it *event.Item) bool { return !it.BelowLevel })
}

// subBatch copies the items keep accepts into a new batch sharing b's Ack.
func subBatch(b *event.Batch, keep func(*event.Item) bool) *event.Batch {
	nb := &event.Batch{Ack: b.Ack}
	for i := range b.Items {
		if it := b.Items[i]; keep(&it) {
			off := len(nb.Buf)
			nb.Buf = append(nb.Buf, b.Buf[it.Off:it.Off+it.Len+1]...)
			it.Off = off
			nb.Items = append(nb.Items, it)
		}
	}
	return nb
}

// filterAge dead-letters the records al refuses by age and returns a batch
// of the rest (b itself when nothing was refused).
func (w *Worker) filterAge(al AgeLimiter, b *event.Batch, now time.Time) (*event.Batch, event.Status) {
	var entries []Entry
	var reasons []string
	keep := -1
	for i := range b.Items {
		if r := al.AgeReason(b.Items[i].Time, now); r != "" {
			if keep < 0 {
				keep = i
			}
			entries = append(entries, Entry{Reason: r, Detail: "outside the destination's accepted time window", Record: b.JSON(i)})
			reasons = append(reasons, r)
		}
	}
	if entries == nil {
		return b, event.Delivered
	}
	if !w.writeDead(entries) {
		return b, event.Failed
	}
	for _, r := range reasons {
		w.stats.countDead(r, 1)
	}
	return subBatch(b, func(it *event.Item) bool { return al.AgeReason(it.Time, now) == "" }), event.Rejected
}

func (w *Worker) send(ctx context.Context, b *event.Batch, start time.Time) event.Status {
	backoff := w.cfg.InitialBackoff
	for attempt := 0; ; attempt++ {
		err := w.sink.Send(ctx, b)
		if err == nil {
			w.stats.Sent.Add(int64(len(b.Items)))
			return event.Delivered
		}
		var partial *PartialError
		switch {
		case errors.As(err, &partial):
			return w.deadLetterItems(b, partial)
		case IsPermanent(err):
			w.stats.countErr("permanent")
			w.logger.Warn("batch refused for good, dead-lettering", "records", len(b.Items), "err", err)
			if !w.writeDead(BatchEntries(b, "refused", err.Error())) {
				return event.Failed
			}
			w.stats.countDead("refused", int64(len(b.Items)))
			return event.Rejected
		}
		delay := backoff
		var th *ThrottledError
		if errors.As(err, &th) {
			w.stats.countErr("throttled")
			if th.After > delay {
				delay = th.After
			}
		} else {
			w.stats.countErr("retryable")
		}
		delay = time.Duration(rand.Int64N(int64(delay)) + 1)
		if w.cfg.MaxRetryTime > 0 && time.Since(start)+delay > w.cfg.MaxRetryTime {
			w.logger.Error("giving up on batch after retries, dead-lettering", "records", len(b.Items), "attempts", attempt+1, "err", err)
			if !w.writeDead(BatchEntries(b, "retries_exhausted", err.Error())) {
				return event.Failed
			}
			w.stats.countDead("retries_exhausted", int64(len(b.Items)))
			return event.Rejected
		}
		var closing <-chan struct{} // nil (never ready) for a memory queue
		leave := func() event.Status {
			w.logger.Info("shutting down while the sink fails: batch left in the disk buffer for the next start", "records", len(b.Items), "err", err)
			return event.Failed
		}
		if w.disk != nil {
			closing = w.closing
			select {
			case <-closing:
				return leave()
			default:
			}
		}
		if attempt == 0 || attempt%10 == 0 {
			w.logger.Warn("send failed, retrying", "attempt", attempt+1, "backoff", delay, "err", err)
		}
		w.stats.Retries.Add(1)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return event.Failed
		case <-closing:
			t.Stop()
			return leave()
		case <-t.C:
		}
		backoff = min(backoff*2, w.cfg.MaxBackoff)
	}
}

func (w *Worker) deadLetterItems(b *event.Batch, p *PartialError) event.Status {
	entries := make([]Entry, 0, len(p.Items))
	for _, it := range p.Items {
		if it.Index < 0 || it.Index >= len(b.Items) {
			continue
		}
		entries = append(entries, Entry{Reason: it.Reason, Detail: it.Detail, Record: b.JSON(it.Index)})
	}
	if !w.writeDead(entries) {
		return event.Failed
	}
	for _, it := range p.Items {
		w.stats.countDead(it.Reason, 1)
	}
	w.stats.Sent.Add(int64(len(b.Items) - len(entries)))
	return event.Rejected
}

func (w *Worker) writeDead(entries []Entry) bool {
	if w.dl == nil {
		w.logger.Error("no dead-letter file: batch stays unacknowledged", "records", len(entries))
		return false
	}
	if err := w.dl.Write(entries); err != nil {
		w.logger.Error("dead-letter write failed: batch stays unacknowledged", "err", err)
		return false
	}
	return true
}
