package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/starmates/logshipd/internal/event"
	"github.com/starmates/logshipd/internal/ingest"
	"github.com/starmates/logshipd/internal/normalize"
	"github.com/starmates/logshipd/internal/sink"
)

// Stats are pipeline-wide counters.
type Stats struct {
	Committed atomic.Int64 // records handed to the sinks
	Skipped   atomic.Int64 // records a source's Keep filter left out
	Parts     atomic.Int64 // runs of lines normalized on the worker pool
}

// SourceSpec is one configured source with its own normalize settings.
type SourceSpec struct {
	Name      string
	Source    ingest.Source
	Normalize normalize.Config
	// Keep, when set, decides which normalized records are shipped
	// (replay --since/--until); the others are counted in Stats.Skipped.
	Keep func(*event.Record) bool
}

// SinkSpec is one configured sink.
type SinkSpec struct {
	Name  string
	Sink  sink.Sink
	Queue sink.QueueConfig
}

// Pipeline is a built, not yet running, graph.
type Pipeline struct {
	logger    *slog.Logger
	dataDir   string
	grace     time.Duration
	sources   []SourceSpec
	engines   []*normalize.Engine
	workers   []*sink.Worker
	dls       []*sink.DeadLetter
	stats     Stats
	NormStats normalize.Stats
	// norm feeds the normalization workers (Parts of busy lanes).
	norm    chan *output
	batches batchPool
}

// batchPool recycles the memory of batches every sink has finished with
// (sinks must not keep Buf or Items after their Ack.Done: see
// event.Batch). Reused big buffers spare the allocator, the page faults
// and the garbage collector a few hundred KiB per Part.
type batchPool struct {
	bufs  sync.Pool // *[]byte
	items sync.Pool // *[]event.Item
}

func (p *batchPool) get(bytes, items int) *event.Batch {
	b := &event.Batch{}
	if v, ok := p.bufs.Get().(*[]byte); ok && cap(*v) >= bytes {
		b.Buf = (*v)[:0]
	} else {
		b.Buf = make([]byte, 0, bytes)
	}
	if v, ok := p.items.Get().(*[]event.Item); ok && cap(*v) >= items {
		b.Items = (*v)[:0]
	} else {
		b.Items = make([]event.Item, 0, items)
	}
	return b
}

func (p *batchPool) put(bs []*event.Batch) {
	for _, b := range bs {
		if cap(b.Buf) >= 64<<10 {
			buf := b.Buf
			p.bufs.Put(&buf)
		}
		if cap(b.Items) >= 256 {
			items := b.Items
			p.items.Put(&items)
		}
		b.Buf, b.Items = nil, nil
	}
}

// New builds a pipeline. grace bounds the drain at shutdown.
func New(logger *slog.Logger, dataDir string, grace time.Duration, sources []SourceSpec, sinks []SinkSpec) (*Pipeline, error) {
	if len(sources) == 0 {
		return nil, errors.New("no sources configured")
	}
	if len(sinks) == 0 {
		return nil, errors.New("no sinks configured")
	}
	p := &Pipeline{logger: logger, dataDir: dataDir, grace: grace, sources: sources}
	for _, s := range sources {
		eng, err := normalize.New(s.Normalize, &p.NormStats)
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", s.Name, err)
		}
		p.engines = append(p.engines, eng)
	}
	for _, s := range sinks {
		dl, err := sink.OpenDeadLetter(dataDir, s.Name)
		if err != nil {
			p.closeDeadLetters()
			return nil, fmt.Errorf("sink %s: dead-letter file: %w", s.Name, err)
		}
		p.dls = append(p.dls, dl)
		w := sink.NewWorker(s.Name, s.Sink, s.Queue, dl, logger, nil)
		if s.Queue.Buffer == "disk" {
			db, err := sink.OpenDiskBuffer(filepath.Join(dataDir, "buffer", sink.SafePathPart(s.Name)), s.Queue.MaxDiskBytes, s.Queue.FsyncInterval)
			if err != nil {
				p.closeDeadLetters()
				return nil, fmt.Errorf("sink %s: disk buffer: %w", s.Name, err)
			}
			w.UseDiskBuffer(db)
		}
		p.workers = append(p.workers, w)
	}
	return p, nil
}

// Workers returns the sink workers (for metrics).
func (p *Pipeline) Workers() []*sink.Worker { return p.workers }

// Stats returns the pipeline counters.
func (p *Pipeline) Stats() *Stats { return &p.stats }

func (p *Pipeline) closeDeadLetters() {
	for _, d := range p.dls {
		d.Close()
	}
}

// Run runs until ctx is cancelled or every source reached its end of
// input, then drains and stops in order. It returns the first fatal source
// error, if any.
func (p *Pipeline) Run(ctx context.Context) error {
	sinkCtx, cancelSinks := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelSinks()
	var wwg sync.WaitGroup
	for _, w := range p.workers {
		wwg.Add(1)
		go func() {
			defer wwg.Done()
			w.Run(sinkCtx)
		}()
	}

	// Normalization workers: one per core. They never block on sinks, so
	// a committer waiting for a Part always sees it finish.
	nworkers := runtime.GOMAXPROCS(0)
	// Unbuffered: a Part waits in its lane until a worker is free, which
	// bounds the lines and records in flight (memory).
	p.norm = make(chan *output)
	var nwg sync.WaitGroup
	for range nworkers {
		nwg.Add(1)
		go func() {
			defer nwg.Done()
			for o := range p.norm {
				o.run()
			}
		}()
	}

	srcCtx, cancelSources := context.WithCancel(ctx)
	defer cancelSources()
	errc := make(chan error, len(p.sources))
	var swg sync.WaitGroup
	for i, s := range p.sources {
		swg.Add(1)
		go func() {
			defer swg.Done()
			ls := &lanes{p: p, source: s.Name, eng: p.engines[i], keep: s.Keep}
			err := s.Source.Run(srcCtx, ls)
			ls.closeAll() // every lane's last batches reach the sink queues
			switch {
			case err == nil, errors.Is(err, context.Canceled), errors.Is(err, ingest.ErrEndOfInput):
				p.logger.Info("source stopped", "source", s.Name)
			default:
				p.logger.Error("source failed", "source", s.Name, "err", err)
				errc <- fmt.Errorf("source %s: %w", s.Name, err)
				cancelSources() // a failed source stops the daemon: never run half-blind
			}
		}()
	}
	swg.Wait()
	close(p.norm)
	nwg.Wait()
	close(errc)
	var runErr error
	for err := range errc {
		runErr = errors.Join(runErr, err)
	}

	// Sources that keep state until their last acknowledgement (checkpoint
	// stores, the replay ledger) finalize after the sinks drained.
	defer func() {
		for _, s := range p.sources {
			if f, ok := s.Source.(interface{ Finalize() error }); ok {
				if err := f.Finalize(); err != nil {
					p.logger.Error("source finalize failed", "source", s.Name, "err", err)
				}
			}
		}
	}()
	// Drain: no more batches; let the workers finish within the grace period.
	for _, w := range p.workers {
		w.Close()
	}
	drained := make(chan struct{})
	go func() { wwg.Wait(); close(drained) }()
	timer := time.NewTimer(p.grace)
	select {
	case <-drained:
		timer.Stop()
	case <-timer.C:
		p.logger.Warn("grace period over, abandoning queued batches (they stay unacknowledged)", "grace", p.grace)
		cancelSinks()
		<-drained
	}
	closeCtx, cancelClose := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancelClose()
	for _, w := range p.workers {
		// Every acknowledged batch was already written or handed over; a close
		// error (a trace backend that is down, say) is reported, not fatal.
		if err := w.CloseSink(closeCtx); err != nil {
			p.logger.Error("sink close failed", "sink", w.Name(), "err", err)
		}
	}
	p.closeDeadLetters()
	return runErr
}
