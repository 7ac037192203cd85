package stdin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/starmates/logshipd/internal/event"
	"github.com/starmates/logshipd/internal/ingest"
)

// finalCommitTimeout bounds the last commit at shutdown (a full sink
// queue would otherwise hold the shutdown up).
const finalCommitTimeout = 5 * time.Second

// Config configures the stdin source.
type Config struct {
	MaxLineBytes  int           `yaml:"max_line_bytes"`
	BatchMaxBytes int           `yaml:"batch_max_bytes"`
	BatchMaxWait  time.Duration `yaml:"batch_max_wait"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{MaxLineBytes: ingest.DefaultMaxLineBytes, BatchMaxBytes: 1 << 20, BatchMaxWait: 200 * time.Millisecond}
}

// Validate reports every problem, joined.
func (c *Config) Validate() error {
	var errs []error
	if c.MaxLineBytes < 1024 {
		errs = append(errs, fmt.Errorf("max_line_bytes %d: must be >= 1024", c.MaxLineBytes))
	}
	if c.BatchMaxBytes < 1024 {
		errs = append(errs, fmt.Errorf("batch_max_bytes %d: must be >= 1024", c.BatchMaxBytes))
	}
	if c.BatchMaxWait <= 0 {
		errs = append(errs, fmt.Errorf("batch_max_wait %s: must be > 0", c.BatchMaxWait))
	}
	return errors.Join(errs...)
}

// Stats are the stdin source's counters.
type Stats struct {
	Lines          atomic.Int64 // lines read
	Bytes          atomic.Int64 // bytes read
	LinesTruncated atomic.Int64 // lines cut at max_line_bytes
	ReadErrors     atomic.Int64
}

// Source reads one io.Reader (os.Stdin in the daemon).
type Source struct {
	name  string
	cfg   Config
	r     io.Reader
	stats Stats
}

// Stats returns the counters.
func (s *Source) Stats() *Stats { return &s.stats }

// New returns a stdin source reading r.
func New(name string, cfg Config, r io.Reader) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Source{name: name, cfg: cfg, r: r}, nil
}

// Name implements ingest.Source.
func (s *Source) Name() string { return s.name }

// Run implements ingest.Source.
func (s *Source) Run(ctx context.Context, lanes ingest.Lanes) error {
	lane := lanes.NewLane(event.Origin{Kind: "stdin"})
	defer lane.Close()
	// Relay: blocking reads; abandoned (not leaked past EOF) on cancel.
	relay := ingest.StartRelay(ctx, s.r, 256<<10, 4)
	framer := ingest.NewFramer(s.cfg.MaxLineBytes)
	var inflight sync.WaitGroup
	var failed error
	var mu sync.Mutex
	commitCtx := func(ctx context.Context) error {
		inflight.Add(1)
		return lane.Commit(ctx, func(st event.Status, _ int64) {
			if st == event.Failed {
				mu.Lock()
				failed = errors.New("a batch was not delivered")
				mu.Unlock()
			}
			inflight.Done()
		})
	}
	commit := func() error { return commitCtx(ctx) }
	pendingBytes := 0
	var now time.Time
	write := func(line []byte) {
		lane.Write(line, -1, -1, now)
		pendingBytes += len(line) + 1
		s.stats.Lines.Add(1)
	}
	feed := func(chunk []byte) {
		s.stats.Bytes.Add(int64(len(chunk)))
		framer.Feed(chunk, write)
		relay.Recycle(chunk)
		s.stats.LinesTruncated.Store(framer.Truncated())
	}
	// end hands on everything read: the last line even without its
	// newline, and the records the multiline joiner still holds (stdin
	// cannot be read again, so nothing may wait for "more input").
	end := func() {
		now = time.Now()
		framer.End(write)
		s.stats.LinesTruncated.Store(framer.Truncated())
		lane.FlushAll(now)
	}
	timer := time.NewTimer(s.cfg.BatchMaxWait)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			// Shutdown: what the relay already read is framed too, then
			// committed past the cancellation (bounded); the pipeline's
			// shutdown_grace delivers it.
			for drained := false; !drained; {
				select {
				case chunk, ok := <-relay.C:
					if !ok {
						drained = true
						break
					}
					now = time.Now()
					feed(chunk)
				default:
					drained = true
				}
			}
			end()
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finalCommitTimeout)
			defer cancel()
			if err := commitCtx(cctx); err != nil {
				return fmt.Errorf("stdin: final commit at shutdown: %w", err)
			}
			return ctx.Err()
		case <-timer.C:
			now = time.Now()
			next := lane.FlushIdle(now)
			if lane.Pending() > 0 {
				if err := commit(); err != nil {
					return err
				}
				pendingBytes = 0
			}
			wait := s.cfg.BatchMaxWait
			if !next.IsZero() && time.Until(next) < wait {
				wait = max(time.Until(next), time.Millisecond)
			}
			timer.Reset(wait)
		case chunk, ok := <-relay.C:
			if !ok {
				// End of input, or a read error: what was read is shipped
				// either way (and waited for) before Run returns.
				var readErr error
				if err := relay.Err(); err != nil {
					s.stats.ReadErrors.Add(1)
					readErr = fmt.Errorf("read stdin: %w", err)
				}
				end()
				if err := commit(); err != nil {
					return err
				}
				done := make(chan struct{})
				go func() { inflight.Wait(); close(done) }()
				select {
				case <-done:
				case <-ctx.Done():
					return ctx.Err()
				}
				if readErr != nil {
					return readErr
				}
				mu.Lock()
				defer mu.Unlock()
				if failed != nil {
					return failed
				}
				return ingest.ErrEndOfInput
			}
			now = time.Now()
			feed(chunk)
			if pendingBytes >= s.cfg.BatchMaxBytes {
				if err := commit(); err != nil {
					return err
				}
				pendingBytes = 0
			}
		}
	}
}
