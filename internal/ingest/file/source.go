package file

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/starmates/logshipd/internal/checkpoint"
	"github.com/starmates/logshipd/internal/ingest"
)

const (
	// forgetAfter: a checkpoint entry whose file is no longer followed is
	// dropped after this long (a file that comes back later is read again).
	forgetAfter = time.Hour
	// maxWatches bounds the directories watched with inotify; the rest
	// rely on polling.
	maxWatches = 4096
	// scanDebounce delays a rescan after a directory event, to batch the
	// events of one rotation.
	scanDebounce = 20 * time.Millisecond
)

// Source tails files. It implements ingest.Source.
type Source struct {
	name     string
	cfg      Config
	log      *slog.Logger
	stats    *Stats
	store    *checkpoint.Store
	patterns []pattern
	excludes []exclusion
	running  atomic.Bool
	cur      atomic.Pointer[manager] // the running manager (tests inspect it)
}

var _ ingest.Source = (*Source)(nil)

// New validates cfg and opens the source's checkpoints under dataDir
// (<dataDir>/checkpoints/<name>.json). A corrupt checkpoint file is an
// error: the daemon must not start and silently re-read everything.
// logger and stats may be nil.
func New(name string, cfg Config, dataDir string, logger *slog.Logger, stats *Stats) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if stats == nil {
		stats = &Stats{}
	}
	s := &Source{name: name, cfg: cfg, log: logger.With("component", "file", "source", name), stats: stats}
	for _, raw := range cfg.Include {
		p, err := compilePattern(raw)
		if err != nil {
			return nil, fmt.Errorf("include %q: %w", raw, err)
		}
		s.patterns = append(s.patterns, p)
	}
	for _, raw := range cfg.Exclude {
		e, err := compileExclude(raw)
		if err != nil {
			return nil, fmt.Errorf("exclude %q: %w", raw, err)
		}
		s.excludes = append(s.excludes, e)
	}
	st, err := checkpoint.Open(dataDir, name)
	if err != nil {
		return nil, err
	}
	s.store = st
	return s, nil
}

// Name implements ingest.Source.
func (s *Source) Name() string { return s.name }

// Stats returns the source's counters.
func (s *Source) Stats() *Stats { return s.stats }

// Run implements ingest.Source: it follows the files until ctx ends, then
// commits what was read (pending multiline records of live files are not
// flushed: they lie after the checkpoint and are read again), saves the
// checkpoints and returns nil. Acknowledgements that arrive after Run
// returned are still saved, by the goroutine that delivers them.
func (s *Source) Run(ctx context.Context, lanes ingest.Lanes) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("file source: Run called while already running")
	}
	defer s.running.Store(false)
	m := &manager{
		src: s, cfg: s.cfg, log: s.log, stats: s.stats, store: s.store, lanes: lanes, ctx: ctx, started: time.Now(),
		pool:     newFDPool(s.cfg.MaxOpenFiles),
		trackers: map[checkpoint.FileID]*tracker{},
		byPath:   map[string]*tracker{},
		pending:  map[checkpoint.FileID]*pendingFile{},
		owners:   map[checkpoint.FileID]*ckpt{},
		watched:  map[string]bool{},
		scanReq:  make(chan struct{}, 1),
		// Normalization runs on a pool of one worker per core; a few
		// more readers than cores keep it busy.
		readSlots: make(chan struct{}, runtime.GOMAXPROCS(0)+1),
	}
	size := s.cfg.ReadBufferBytes
	m.bufs.New = func() any { b := make([]byte, size); return &b }
	s.cur.Store(m)
	defer s.cur.Store(nil)
	return m.run()
}

// manager discovers files, starts one tracker goroutine per followed file,
// feeds fsnotify events to them and saves checkpoints.
type manager struct {
	src     *Source
	cfg     Config
	log     *slog.Logger
	stats   *Stats
	store   *checkpoint.Store
	lanes   ingest.Lanes
	ctx     context.Context
	started time.Time
	wg      sync.WaitGroup // trackers
	pool    *fdPool
	bufs    sync.Pool
	// readSlots bounds the files read at the same time (one batch each):
	// what is buffered and normalized in flight stays a few batches
	// however many files are busy. Slots are handed over after every
	// commit, in arrival order, so busy files take turns.
	readSlots chan struct{}

	mu       sync.Mutex // guards trackers, byPath, pending, scanning
	trackers map[checkpoint.FileID]*tracker
	byPath   map[string]*tracker
	pending  map[checkpoint.FileID]*pendingFile

	ckMu   sync.Mutex // guards every ckpt and owners
	owners map[checkpoint.FileID]*ckpt

	seq atomic.Uint64 // tracker creation order

	watcher *fsnotify.Watcher
	watched map[string]bool
	scanReq chan struct{}

	closed    atomic.Bool // Run returned: late acks save directly
	lateMu    sync.Mutex
	lateDirty atomic.Bool
	warned    sync.Map // one-time warnings
}

func (m *manager) run() error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		m.log.Warn("fsnotify unavailable: polling only", "err", err, "poll_interval", m.cfg.PollInterval)
	} else {
		m.watcher = w
	}
	var events chan fsnotify.Event
	var werrs chan error
	if m.watcher != nil {
		events, werrs = m.watcher.Events, m.watcher.Errors
		// Watch the base directories first, so nothing created during the
		// first scan is missed for long.
		m.updateWatches(m.baseDirs())
	}

	m.mu.Lock()
	dirs := m.scanLocked(true)
	m.mu.Unlock()
	m.updateWatches(dirs)

	var saver sync.WaitGroup
	saver.Go(m.saveLoop)

	rescan := time.NewTicker(m.cfg.RescanInterval)
	defer rescan.Stop()
	soon := time.NewTimer(time.Hour)
	soon.Stop()
	soonArmed := false
	arm := func() {
		if !soonArmed {
			soonArmed = true
			soon.Reset(scanDebounce)
		}
	}
	scan := func() {
		soonArmed = false
		soon.Stop()
		m.mu.Lock()
		dirs := m.scanLocked(false)
		m.mu.Unlock()
		m.updateWatches(dirs)
	}
loop:
	for {
		select {
		case <-m.ctx.Done():
			break loop
		case <-rescan.C:
			scan()
		case <-soon.C:
			scan()
		case <-m.scanReq:
			arm()
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			m.handleEvent(ev, arm)
		case err, ok := <-werrs:
			if !ok {
				werrs = nil
				continue
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				m.pokeAll()
				arm()
			}
			m.warnOnce("fsnotify", "fsnotify error: polling covers for missed events", "err", err)
		}
	}
	if m.watcher != nil {
		_ = m.watcher.Close()
	}
	m.wg.Wait()
	saver.Wait()
	m.closed.Store(true)
	m.save()
	return nil
}

func (m *manager) handleEvent(ev fsnotify.Event, arm func()) {
	if ev.Has(fsnotify.Create) || ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
		arm()
	}
	if ev.Has(fsnotify.Write) || ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
		m.mu.Lock()
		t := m.byPath[ev.Name]
		pending := false
		if t == nil && ev.Has(fsnotify.Write) {
			for _, p := range m.pending {
				if p.path == ev.Name && p.copyOf == nil {
					pending = true // an undecided file got data: decide soon
					break
				}
			}
		}
		m.mu.Unlock()
		if t != nil {
			t.poke()
		}
		if pending {
			arm()
		}
	}
}

func (m *manager) pokeAll() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, t := range m.trackers {
		t.poke()
	}
}

func (m *manager) requestScan() {
	select {
	case m.scanReq <- struct{}{}:
	default:
	}
}

func (m *manager) baseDirs() map[string]bool {
	out := map[string]bool{}
	for _, p := range m.src.patterns {
		out[p.base] = true
	}
	return out
}

// updateWatches makes the watched directories match dirs (plus the
// pattern bases). Failures (inotify watch limit, unsupported file system)
// leave those directories to polling.
func (m *manager) updateWatches(dirs map[string]bool) {
	if m.watcher == nil {
		return
	}
	for d := range m.baseDirs() {
		dirs[d] = true
	}
	for d := range dirs {
		if m.watched[d] {
			continue
		}
		if len(m.watched) >= maxWatches {
			m.warnOnce("watchlimit", "too many directories to watch: the rest are polled", "max", maxWatches)
			break
		}
		if err := m.watcher.Add(d); err != nil {
			if !errors.Is(err, fsnotify.ErrClosed) && isDir(d) {
				m.warnOnce("watch:"+d, "cannot watch directory: it is polled", "dir", d, "err", err)
			}
			continue
		}
		m.watched[d] = true
	}
	for d := range m.watched {
		if !dirs[d] {
			_ = m.watcher.Remove(d)
			delete(m.watched, d)
		}
	}
}

func (m *manager) warnOnce(key, msg string, args ...any) {
	if _, loaded := m.warned.LoadOrStore(key, true); !loaded {
		m.log.Warn(msg, args...)
	}
}

// saveLoop saves checkpoints every checkpoint_interval and updates the lag
// gauge.
func (m *manager) saveLoop() {
	t := time.NewTicker(m.cfg.CheckpointInterval)
	defer t.Stop()
	for {
		select {
		case <-m.ctx.Done():
			return
		case <-t.C:
			m.save()
			m.updateLag()
			m.prune(time.Now())
		}
	}
}

func (m *manager) save() {
	if !m.store.Dirty() {
		return
	}
	if err := m.store.Save(); err != nil {
		m.stats.CheckpointSaveErrors.Add(1)
		m.log.Error("checkpoint save failed (retrying; a crash now re-reads more)", "err", err)
		return
	}
	m.stats.CheckpointSaves.Add(1)
}

// lateSave persists acknowledgements that arrive after Run returned, in
// the acknowledging goroutine. Concurrent calls coalesce into one save
// at a time, and the last change is always saved.
func (m *manager) lateSave() {
	m.lateDirty.Store(true)
	for {
		if !m.lateMu.TryLock() {
			return
		}
		for m.lateDirty.Swap(false) {
			m.save()
		}
		m.lateMu.Unlock()
		if !m.lateDirty.Load() {
			return
		}
	}
}

func (m *manager) updateLag() {
	m.mu.Lock()
	ts := make([]*tracker, 0, len(m.trackers))
	for _, t := range m.trackers {
		ts = append(ts, t)
	}
	m.mu.Unlock()
	var lag int64
	for _, t := range ts {
		if c := t.ck.Load(); c != nil {
			if d := t.size.Load() - c.committedOffset(); d > 0 {
				lag += d
			}
		}
	}
	m.stats.CheckpointLagBytes.Store(lag)
}

// prune forgets entries of files no longer followed for forgetAfter (and
// not before the source ran that long: a directory mounted late must
// still find its checkpoints).
func (m *manager) prune(now time.Time) {
	if now.Sub(m.started) < forgetAfter {
		return
	}
	for _, e := range m.store.Entries() {
		if now.Sub(e.Updated) < forgetAfter {
			continue
		}
		m.ckMu.Lock()
		if m.owners[e.ID()] == nil {
			m.store.Forget(e.ID())
		}
		m.ckMu.Unlock()
	}
}

func (m *manager) getBuf() *[]byte  { return m.bufs.Get().(*[]byte) }
func (m *manager) putBuf(b *[]byte) { m.bufs.Put(b) }

func (m *manager) removeTracker(t *tracker) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.trackers[t.id] == t {
		delete(m.trackers, t.id)
	}
	for p, x := range m.byPath {
		if x == t {
			delete(m.byPath, p)
		}
	}
}
