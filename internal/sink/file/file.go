package file

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/starmates/logshipd/internal/event"
	"github.com/starmates/logshipd/internal/sink"
)

// Config configures the file sink.
type Config struct {
	Path         string `yaml:"path"`
	Fsync        bool   `yaml:"fsync"`
	MaxOpenFiles int    `yaml:"max_open_files"`
	RotateBytes  int64  `yaml:"rotate_bytes"`
	RotateKeep   int    `yaml:"rotate_keep"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config { return Config{Path: "-", MaxOpenFiles: 64, RotateKeep: 5} }

var placeholders = []string{"{service}", "{environment}", "{project}", "{source}", "{level}", "{date}"}

// Validate reports every problem, joined.
func (c *Config) Validate() error {
	var errs []error
	if c.Path == "" {
		errs = append(errs, errors.New("path: required (\"-\" for stdout)"))
	}
	rest := c.Path
	for _, p := range placeholders {
		rest = strings.ReplaceAll(rest, p, "")
	}
	if i := strings.IndexAny(rest, "{}"); i >= 0 {
		errs = append(errs, fmt.Errorf("path %q: unknown placeholder (known: %s)", c.Path, strings.Join(placeholders, ", ")))
	}
	if c.RotateBytes < 0 || (c.RotateBytes > 0 && c.RotateBytes < 4096) {
		errs = append(errs, fmt.Errorf("rotate_bytes %d: must be 0 (off) or >= 4096", c.RotateBytes))
	}
	if c.RotateKeep < 1 || c.RotateKeep > 1000 {
		errs = append(errs, fmt.Errorf("rotate_keep %d: must be 1..1000", c.RotateKeep))
	}
	if c.MaxOpenFiles < 1 {
		errs = append(errs, fmt.Errorf("max_open_files %d: must be >= 1", c.MaxOpenFiles))
	}
	return errors.Join(errs...)
}

// Sink writes NDJSON.
type Sink struct {
	cfg    Config
	stdout io.Writer

	mu    sync.Mutex
	files map[string]*handle
	tick  uint64
}

type handle struct {
	f    *os.File
	w    *bufio.Writer
	used uint64
	size int64
	path string
}

// New returns a file sink. stdout is used for path "-".
func New(cfg Config, stdout io.Writer) (*Sink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Sink{cfg: cfg, stdout: stdout, files: map[string]*handle{}}, nil
}

func (s *Sink) pathFor(it *event.Item) string {
	p := s.cfg.Path
	if !strings.Contains(p, "{") {
		return p
	}
	r := strings.NewReplacer(
		"{service}", sink.SafePathPart(it.Service),
		"{environment}", sink.SafePathPart(it.Environment),
		"{project}", sink.SafePathPart(it.Project),
		"{source}", sink.SafePathPart(it.Source),
		"{level}", it.Level.String(),
		"{date}", it.Time.UTC().Format("2006-01-02"),
	)
	return r.Replace(p)
}

// Send writes the batch. Write errors are retryable (disk full clears).
func (s *Sink) Send(_ context.Context, b *event.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.Path == "-" {
		if _, err := s.stdout.Write(b.Buf); err != nil {
			return err
		}
		return nil
	}
	if !strings.Contains(s.cfg.Path, "{") {
		return s.sendOne(b) // one file: the batch buffer is already NDJSON
	}
	touched := map[*handle]struct{}{}
	for i := range b.Items {
		h, err := s.open(s.pathFor(&b.Items[i]))
		if err != nil {
			return err
		}
		if s.cfg.RotateBytes > 0 && h.size > 0 && h.size+int64(b.Items[i].Len)+1 > s.cfg.RotateBytes {
			delete(touched, h)
			if h, err = s.rotate(h); err != nil {
				return err
			}
		}
		if _, err := h.w.Write(b.JSON(i)); err != nil {
			return err
		}
		h.w.WriteByte('\n')
		h.size += int64(b.Items[i].Len) + 1
		touched[h] = struct{}{}
	}
	for h := range touched {
		if err := h.w.Flush(); err != nil {
			return err
		}
		if s.cfg.Fsync {
			if err := h.f.Sync(); err != nil {
				return err
			}
		}
	}
	return nil
}

// sendOne writes a whole batch to the single configured file.
func (s *Sink) sendOne(b *event.Batch) error {
	h, err := s.open(s.cfg.Path)
	if err != nil {
		return err
	}
	if s.cfg.RotateBytes > 0 && h.size > 0 && h.size+int64(len(b.Buf)) > s.cfg.RotateBytes {
		if h, err = s.rotate(h); err != nil {
			return err
		}
	}
	if _, err := h.w.Write(b.Buf); err != nil {
		return err
	}
	h.size += int64(len(b.Buf))
	if err := h.w.Flush(); err != nil {
		return err
	}
	if s.cfg.Fsync {
		return h.f.Sync()
	}
	return nil
}

func (s *Sink) open(path string) (*handle, error) {
	s.tick++
	if h, ok := s.files[path]; ok {
		h.used = s.tick
		return h, nil
	}
	if len(s.files) >= s.cfg.MaxOpenFiles {
		var oldest string
		var ou uint64 = ^uint64(0)
		for p, h := range s.files {
			if h.used < ou {
				oldest, ou = p, h.used
			}
		}
		if err := s.closeHandle(oldest); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	h := &handle{f: f, w: bufio.NewWriterSize(f, 64<<10), used: s.tick, size: st.Size(), path: path}
	s.files[path] = h
	return h, nil
}

// rotate closes h's file, shifts path.N -> path.N+1 (dropping the oldest)
// and path -> path.1, and opens a fresh file.
func (s *Sink) rotate(h *handle) (*handle, error) {
	if err := s.closeHandle(h.path); err != nil {
		return nil, err
	}
	os.Remove(fmt.Sprintf("%s.%d", h.path, s.cfg.RotateKeep))
	for i := s.cfg.RotateKeep - 1; i >= 1; i-- {
		os.Rename(fmt.Sprintf("%s.%d", h.path, i), fmt.Sprintf("%s.%d", h.path, i+1))
	}
	if err := os.Rename(h.path, h.path+".1"); err != nil {
		return nil, err
	}
	return s.open(h.path)
}

func (s *Sink) closeHandle(path string) error {
	h := s.files[path]
	delete(s.files, path)
	err := h.w.Flush()
	if s.cfg.Fsync {
		err = errors.Join(err, h.f.Sync())
	}
	return errors.Join(err, h.f.Close())
}

// Close flushes and closes every file.
func (s *Sink) Close(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for p := range s.files {
		errs = append(errs, s.closeHandle(p))
	}
	return errors.Join(errs...)
}
