package file

import (
	"errors"
	"fmt"
	"time"

	"github.com/starmates/logshipd/internal/ingest"
)

// Start positions for files present when the source starts.
const (
	StartBeginning = "beginning"
	StartEnd       = "end"
)

// Config configures the file source. See docs/sources/file.md.
type Config struct {
	// Include lists glob patterns of files to tail ('*', '?', '[...]' within
	// a path segment, '**' for any number of directories). Required.
	Include []string `yaml:"include"`
	// Exclude lists patterns of files to skip: a pattern without '/' is
	// matched against the file name, others against the whole path.
	Exclude []string `yaml:"exclude"`
	// StartAt is where files present at start without a checkpoint are
	// read from: beginning or end. Files found later always start at the
	// beginning.
	StartAt string `yaml:"start_at"`
	// PollInterval is how often open files are checked for growth,
	// truncation and deletion (fsnotify only makes it faster).
	PollInterval time.Duration `yaml:"poll_interval"`
	// RescanInterval is how often the include patterns are expanded again.
	RescanInterval time.Duration `yaml:"rescan_interval"`
	// MaxLineBytes is the longest line passed on whole; longer lines are
	// cut, marked "[truncated N bytes]" and counted.
	MaxLineBytes int `yaml:"max_line_bytes"`
	// MaxOpenFiles bounds the file handles held; above it the least
	// recently active handle is closed (its checkpoint is kept).
	MaxOpenFiles int `yaml:"max_open_files"`
	// ReadBufferBytes is the size of one read.
	ReadBufferBytes int `yaml:"read_buffer_bytes"`
	// FingerprintBytes is how many leading bytes identify a file's content.
	FingerprintBytes int `yaml:"fingerprint_bytes"`
	// CloseInactive closes the handle of a file that did not grow for this
	// long (it is reopened when it grows); a file renamed away from the
	// include patterns is finished after this long without growth, and a
	// copy of a followed file is held back (unread) at most this long.
	CloseInactive time.Duration `yaml:"close_inactive"`
	// CheckpointInterval is how often checkpoints are saved (they are also
	// saved on shutdown).
	CheckpointInterval time.Duration `yaml:"checkpoint_interval"`
	// BatchMaxBytes commits a batch after this many bytes of lines.
	BatchMaxBytes int `yaml:"batch_max_bytes"`
	// BatchMaxWait commits at least this often while data flows.
	BatchMaxWait time.Duration `yaml:"batch_max_wait"`
}

// DefaultConfig returns the defaults (Include must still be set).
func DefaultConfig() Config {
	return Config{
		StartAt:            StartBeginning,
		PollInterval:       250 * time.Millisecond,
		RescanInterval:     2 * time.Second,
		MaxLineBytes:       ingest.DefaultMaxLineBytes,
		MaxOpenFiles:       512,
		ReadBufferBytes:    256 << 10,
		FingerprintBytes:   1024,
		CloseInactive:      5 * time.Minute,
		CheckpointInterval: time.Second,
		BatchMaxBytes:      1 << 20,
		BatchMaxWait:       200 * time.Millisecond,
	}
}

// Limits checked by Validate.
const (
	minLineBytes        = 256
	minReadBuffer       = 4 << 10
	maxReadBuffer       = 64 << 20
	minFingerprintBytes = 16
	maxFingerprintBytes = 64 << 10
	minInterval         = 10 * time.Millisecond
)

// Validate reports every problem, joined.
func (c *Config) Validate() error {
	var errs []error
	if len(c.Include) == 0 {
		errs = append(errs, errors.New("include: at least one pattern is required"))
	}
	for i, p := range c.Include {
		if _, err := compilePattern(p); err != nil {
			errs = append(errs, fmt.Errorf("include[%d] %q: %w", i, p, err))
		}
	}
	for i, p := range c.Exclude {
		if _, err := compileExclude(p); err != nil {
			errs = append(errs, fmt.Errorf("exclude[%d] %q: %w", i, p, err))
		}
	}
	if c.StartAt != StartBeginning && c.StartAt != StartEnd {
		errs = append(errs, fmt.Errorf("start_at %q: must be %s or %s", c.StartAt, StartBeginning, StartEnd))
	}
	durations := []struct {
		key string
		d   time.Duration
	}{
		{"poll_interval", c.PollInterval}, {"rescan_interval", c.RescanInterval}, {"close_inactive", c.CloseInactive},
		{"checkpoint_interval", c.CheckpointInterval}, {"batch_max_wait", c.BatchMaxWait},
	}
	for _, d := range durations {
		if d.d < minInterval {
			errs = append(errs, fmt.Errorf("%s %s: must be >= %s", d.key, d.d, minInterval))
		}
	}
	if c.MaxLineBytes < minLineBytes {
		errs = append(errs, fmt.Errorf("max_line_bytes %d: must be >= %d", c.MaxLineBytes, minLineBytes))
	}
	if c.MaxOpenFiles < 1 {
		errs = append(errs, fmt.Errorf("max_open_files %d: must be >= 1", c.MaxOpenFiles))
	}
	if c.ReadBufferBytes < minReadBuffer || c.ReadBufferBytes > maxReadBuffer {
		errs = append(errs, fmt.Errorf("read_buffer_bytes %d: must be %d..%d", c.ReadBufferBytes, minReadBuffer, maxReadBuffer))
	}
	if c.FingerprintBytes < minFingerprintBytes || c.FingerprintBytes > maxFingerprintBytes {
		errs = append(errs, fmt.Errorf("fingerprint_bytes %d: must be %d..%d", c.FingerprintBytes, minFingerprintBytes, maxFingerprintBytes))
	}
	if c.BatchMaxBytes < 1024 {
		errs = append(errs, fmt.Errorf("batch_max_bytes %d: must be >= 1024", c.BatchMaxBytes))
	}
	return errors.Join(errs...)
}
