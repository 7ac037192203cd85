package replay

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/starmates/logshipd/internal/event"
	"github.com/starmates/logshipd/internal/ingest"
)

// Config configures a replay.
type Config struct {
	Paths        []string
	Force        bool
	Rate         float64 // lines per second, 0 = unlimited
	MaxLineBytes int
	BatchBytes   int
	DataDir      string
	// SaveInterval is how often the ledger is saved while a replay runs
	// (default 5s), so a crash re-ships at most that much; it is also
	// saved at the end.
	SaveInterval time.Duration
}

// Progress is read by the CLI's progress display.
type Progress struct {
	TotalBytes atomic.Int64 // sum of file sizes (compressed size for .gz)
	ReadBytes  atomic.Int64 // bytes read (compressed for .gz)
	Lines      atomic.Int64
	Skipped    atomic.Int64 // files skipped: already replayed
	Files      atomic.Int64
}

// Source replays files.
type Source struct {
	name   string
	cfg    Config
	logger *slog.Logger
	prog   *Progress
	ledger *Ledger
}

// New checks the paths and opens the ledger.
func New(name string, cfg Config, logger *slog.Logger, prog *Progress) (*Source, error) {
	if len(cfg.Paths) == 0 {
		return nil, errors.New("replay: no files")
	}
	if cfg.MaxLineBytes <= 0 {
		cfg.MaxLineBytes = ingest.DefaultMaxLineBytes
	}
	if cfg.BatchBytes <= 0 {
		cfg.BatchBytes = 1 << 20
	}
	if cfg.SaveInterval <= 0 {
		cfg.SaveInterval = 5 * time.Second
	}
	for _, p := range cfg.Paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.Mode().IsRegular() {
			return nil, fmt.Errorf("replay %s: not a regular file", p)
		}
		prog.TotalBytes.Add(st.Size())
	}
	l, err := OpenLedger(filepath.Join(cfg.DataDir, "replay"))
	if err != nil {
		return nil, err
	}
	return &Source{name: name, cfg: cfg, logger: logger, prog: prog, ledger: l}, nil
}

// Name implements ingest.Source.
func (s *Source) Name() string { return s.name }

// Run implements ingest.Source.
func (s *Source) Run(ctx context.Context, lanes ingest.Lanes) error {
	var failed atomic.Bool
	var inflight sync.WaitGroup
	stopSaving := make(chan struct{})
	saved := make(chan struct{})
	go func() { // a crash re-ships at most SaveInterval of acknowledged data
		defer close(saved)
		t := time.NewTicker(s.cfg.SaveInterval)
		defer t.Stop()
		for {
			select {
			case <-stopSaving:
				return
			case <-t.C:
				if err := s.ledger.SaveIfChanged(); err != nil {
					s.logger.Error("replay ledger save failed", "err", err)
				}
			}
		}
	}()
	defer func() {
		close(stopSaving)
		<-saved
		if err := s.ledger.Save(); err != nil {
			s.logger.Error("replay ledger save failed", "err", err)
		}
	}()
	for _, p := range s.cfg.Paths {
		if err := s.replayFile(ctx, lanes, p, &inflight, &failed); err != nil {
			return err
		}
	}
	done := make(chan struct{})
	go func() { inflight.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	if failed.Load() {
		return errors.New("some batches were not delivered: run replay again to resume")
	}
	return ingest.ErrEndOfInput
}

func (s *Source) replayFile(ctx context.Context, lanes ingest.Lanes, path string, inflight *sync.WaitGroup, failed *atomic.Bool) error {
	id, err := fileID(path)
	if err != nil {
		return err
	}
	if s.cfg.Force {
		s.ledger.Reset(id)
	}
	entry := s.ledger.Get(id)
	if entry.Done {
		s.logger.Info("already replayed, skipping (use --force to replay again)", "path", path)
		s.prog.Skipped.Add(1)
		if st, err := os.Stat(path); err == nil {
			s.prog.ReadBytes.Add(st.Size())
		}
		return nil
	}
	s.prog.Files.Add(1)
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	cr := &countingReader{r: f, n: &s.prog.ReadBytes}
	var r io.Reader = bufio.NewReaderSize(cr, 256<<10)
	if isGzip(path, f) {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return fmt.Errorf("replay %s: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	// Skip what an earlier run already shipped.
	if entry.Offset > 0 {
		if _, err := io.CopyN(io.Discard, r, entry.Offset); err != nil {
			return fmt.Errorf("replay %s: resume at %d: %w", path, entry.Offset, err)
		}
		s.logger.Info("resuming replay", "path", path, "offset", entry.Offset)
	}
	lane := lanes.NewLane(event.Origin{Kind: "replay", Path: path})
	defer lane.Close()
	// Callbacks come in commit order; after a failed batch this file's
	// ledger entry never moves again in this run (a later batch's watermark
	// lies past the undelivered records).
	var frozen atomic.Bool
	commit := func(final bool) error {
		inflight.Add(1)
		return lane.Commit(ctx, func(st event.Status, wm int64) {
			defer inflight.Done()
			if st == event.Failed {
				failed.Store(true)
				frozen.Store(true)
				return
			}
			if !frozen.Load() {
				s.ledger.Advance(id, path, wm, final)
			}
		})
	}
	framer := ingest.NewFramer(s.cfg.MaxLineBytes)
	off := entry.Offset
	buf := make([]byte, 256<<10)
	pending := 0
	var limiter *rateLimiter
	if s.cfg.Rate > 0 {
		limiter = newRateLimiter(s.cfg.Rate)
	}
	lastCommit := time.Now()
	var commitErr error
	for {
		n, rerr := r.Read(buf)
		now := time.Now()
		framer.Feed(buf[:n], func(line []byte) {
			start := off
			off = entry.Offset + framer.Offset() // a cut line's skipped bytes included
			lane.Write(line, start, off, now)
			pending += len(line) + 1
			s.prog.Lines.Add(1)
			if limiter != nil {
				limiter.wait(ctx)
				// Paced: records go out (and the ledger moves) at least
				// every second, not in BatchBytes bursts.
				if now = time.Now(); now.Sub(lastCommit) >= time.Second && commitErr == nil && ctx.Err() == nil {
					commitErr = commit(false)
					pending, lastCommit = 0, now
				}
			}
		})
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if commitErr != nil {
			return commitErr
		}
		if pending >= s.cfg.BatchBytes {
			if err := commit(false); err != nil {
				return err
			}
			pending, lastCommit = 0, time.Now()
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return fmt.Errorf("replay %s: %w", path, rerr)
		}
	}
	framer.End(func(line []byte) {
		start := off
		off = entry.Offset + framer.Offset()
		lane.Write(line, start, off, time.Now())
	})
	lane.FlushAll(time.Now())
	return commit(true)
}

// Finalize saves the ledger after the pipeline drained (late acks).
func (s *Source) Finalize() error { return s.ledger.Save() }

type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// isGzip sniffs the gzip magic (and rewinds).
func isGzip(path string, f *os.File) bool {
	var magic [2]byte
	n, _ := f.ReadAt(magic[:], 0)
	return n == 2 && magic[0] == 0x1f && magic[1] == 0x8b || strings.HasSuffix(path, ".gz") && n < 2
}

// fileID identifies a file by content: size and SHA-256 of the first MiB.
func fileID(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	if _, err := io.CopyN(h, f, 1<<20); err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strconv.FormatInt(st.Size(), 10) + "-" + hex.EncodeToString(h.Sum(nil)[:16]), nil
}

type rateLimiter struct {
	interval time.Duration
	next     time.Time
}

func newRateLimiter(perSec float64) *rateLimiter {
	return &rateLimiter{interval: time.Duration(float64(time.Second) / perSec), next: time.Now()}
}

func (r *rateLimiter) wait(ctx context.Context) {
	r.next = r.next.Add(r.interval)
	if d := time.Until(r.next); d > time.Millisecond {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
}

// Ledger remembers what replays shipped.
type Ledger struct {
	mu      sync.Mutex
	saveMu  sync.Mutex // one Save at a time: the last one holds the newest state
	changed bool       // since the last Save
	path    string
	Entries map[string]*Entry `json:"entries"`
	Version int               `json:"version"`
}

// Entry is one file's replay state.
type Entry struct {
	Path    string    `json:"path"`
	Offset  int64     `json:"offset"`
	Done    bool      `json:"done"`
	Updated time.Time `json:"updated"`
}

// OpenLedger loads (or creates) the ledger in dir. A corrupt ledger is an
// error: replaying blindly could ship everything twice.
func OpenLedger(dir string) (*Ledger, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	// Temporary files of a save a crash interrupted (never renamed).
	if stale, err := filepath.Glob(filepath.Join(dir, ".ledger-*")); err == nil {
		for _, p := range stale {
			os.Remove(p)
		}
	}
	l := &Ledger{path: filepath.Join(dir, "ledger.json"), Entries: map[string]*Entry{}, Version: 1}
	b, err := os.ReadFile(l.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return l, nil
	case err != nil:
		return nil, err
	}
	if err := json.Unmarshal(b, l); err != nil {
		return nil, fmt.Errorf("replay ledger %s is corrupt (%v): fix or remove it, knowing that removing it replays everything again", l.path, err)
	}
	if l.Entries == nil {
		l.Entries = map[string]*Entry{}
	}
	return l, nil
}

// Get returns a copy of the entry of id.
func (l *Ledger) Get(id string) Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.Entries[id]; ok {
		return *e
	}
	return Entry{}
}

// Reset forgets id.
func (l *Ledger) Reset(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.Entries, id)
	l.changed = true
}

// Advance moves id's offset forward (never back) and marks it done.
func (l *Ledger) Advance(id, path string, offset int64, done bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.Entries[id]
	if !ok {
		e = &Entry{}
		l.Entries[id] = e
	}
	e.Path = path
	if offset > e.Offset {
		e.Offset = offset
	}
	if done {
		e.Done = true
	}
	e.Updated = time.Now().UTC()
	l.changed = true
}

// SaveIfChanged saves the ledger if an entry changed since the last Save.
func (l *Ledger) SaveIfChanged() error {
	l.mu.Lock()
	changed := l.changed
	l.mu.Unlock()
	if !changed {
		return nil
	}
	return l.Save()
}

// Save writes the ledger atomically (temp file, fsync, rename, dir fsync).
func (l *Ledger) Save() error {
	l.saveMu.Lock()
	defer l.saveMu.Unlock()
	l.mu.Lock()
	b, err := json.MarshalIndent(l, "", "  ")
	l.changed = false
	l.mu.Unlock()
	if err == nil {
		err = l.write(b)
	}
	if err != nil {
		l.mu.Lock()
		l.changed = true // try again at the next save
		l.mu.Unlock()
	}
	return err
}

func (l *Ledger) write(b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(l.path), ".ledger-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), l.path); err != nil {
		return err
	}
	if d, err := os.Open(filepath.Dir(l.path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
