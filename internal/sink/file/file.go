package file

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

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
	used uint64
	size int64
	path string
}

// New returns a file sink. stdout is used for path "-".
func New(cfg Config, stdout io.Writer) (*Sink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Path != "-" && !strings.Contains(cfg.Path, "{") {
		if st, err := os.Stat(cfg.Path); err == nil && st.IsDir() {
			return nil, fmt.Errorf("path %s: is a directory", cfg.Path)
		}
	}
	return &Sink{cfg: cfg, stdout: stdout, files: map[string]*handle{}}, nil
}

// appendPath appends the path of it's file (the template filled in).
func (s *Sink) appendPath(dst []byte, it *event.Item) []byte {
	p := s.cfg.Path
	for {
		i := strings.IndexByte(p, '{')
		if i < 0 {
			return append(dst, p...)
		}
		dst = append(dst, p[:i]...)
		j := strings.IndexByte(p[i:], '}') + i // Validate: every '{' closes a known placeholder
		switch p[i : j+1] {
		case "{service}":
			dst = sink.AppendSafePathPart(dst, it.Service)
		case "{environment}":
			dst = sink.AppendSafePathPart(dst, it.Environment)
		case "{project}":
			dst = sink.AppendSafePathPart(dst, it.Project)
		case "{source}":
			dst = sink.AppendSafePathPart(dst, it.Source)
		case "{level}":
			dst = sink.AppendSafePathPart(dst, it.Level.String())
		case "{date}":
			dst = it.Time.UTC().AppendFormat(dst, "2006-01-02")
		}
		p = p[j+1:]
	}
}

// part is what one batch writes to one file.
type part struct {
	path  string
	buf   []byte
	items []int // indexes into Batch.Items (templates only)
}

// impossiblePath reports errors no retry can fix for this path: the
// records that chose it are refused (dead-lettered), the others written.
func impossiblePath(err error) bool {
	return errors.Is(err, syscall.ENAMETOOLONG) || errors.Is(err, syscall.EISDIR) ||
		errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ELOOP)
}

// written is a file a batch already wrote to, and its size before.
type written struct {
	path string
	size int64
}

// Send writes the batch: each file's share in one write, in batch order.
// A batch is all or nothing: when a write fails, the files it already
// wrote are cut back to their size before the batch, so the worker's retry
// (write errors are retryable: a full disk clears) duplicates nothing.
func (s *Sink) Send(_ context.Context, b *event.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.Path == "-" {
		_, err := s.stdout.Write(b.Buf)
		return err
	}
	var parts []part
	if !strings.Contains(s.cfg.Path, "{") {
		parts = []part{{path: s.cfg.Path, buf: b.Buf}} // the batch buffer is already NDJSON
	} else {
		idx := map[string]int{}
		var key []byte
		for i := range b.Items {
			key = s.appendPath(key[:0], &b.Items[i])
			k, ok := idx[string(key)]
			if !ok {
				k = len(parts)
				idx[string(key)] = k
				parts = append(parts, part{path: string(key)})
			}
			parts[k].buf = append(append(parts[k].buf, b.JSON(i)...), '\n')
			parts[k].items = append(parts[k].items, i)
		}
	}
	done := make([]written, 0, len(parts))
	var refused []sink.ItemError
	for _, p := range parts {
		size, err := s.write(p)
		if err != nil && p.items != nil && impossiblePath(err) {
			for _, i := range p.items {
				refused = append(refused, sink.ItemError{Index: i, Reason: "bad_path", Detail: err.Error()})
			}
			continue
		}
		if err != nil {
			return errors.Join(err, s.rollback(done))
		}
		done = append(done, written{path: p.path, size: size})
	}
	if s.cfg.Fsync {
		for _, w := range done {
			if h := s.files[w.path]; h != nil {
				if err := h.f.Sync(); err != nil {
					s.drop(h)
					return errors.Join(err, s.rollback(done))
				}
			}
		}
	}
	if refused != nil {
		return &sink.PartialError{Items: refused}
	}
	return nil
}

// write appends p to its file (rotating first when due) and returns the
// file's size before. A file that failed is closed and cut back.
func (s *Sink) write(p part) (int64, error) {
	h, err := s.open(p.path)
	if err != nil {
		return 0, err
	}
	// The real end of the file: another process may have truncated it
	// (copytruncate) since the last write.
	if h.size, err = h.f.Seek(0, io.SeekEnd); err != nil {
		s.drop(h)
		return 0, err
	}
	if s.cfg.RotateBytes > 0 && h.size > 0 && h.size+int64(len(p.buf)) > s.cfg.RotateBytes {
		if h, err = s.rotate(h); err != nil {
			return 0, err
		}
	}
	before := h.size
	if err := sink.WriteWhole(h.f, p.buf, before); err != nil {
		s.drop(h)
		return 0, err
	}
	h.size += int64(len(p.buf))
	return before, nil
}

// rollback cuts the files of a failed batch back to their size before it.
func (s *Sink) rollback(done []written) error {
	var errs []error
	for _, w := range done {
		if err := os.Truncate(w.path, w.size); err != nil {
			errs = append(errs, fmt.Errorf("undo partial batch in %s (records may be written twice): %w", w.path, err))
		}
		if h := s.files[w.path]; h != nil {
			h.size = w.size
		}
	}
	return errors.Join(errs...)
}

// drop forgets a handle after an error: the next write reopens the file.
func (s *Sink) drop(h *handle) {
	delete(s.files, h.path)
	h.f.Close()
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
	if s.cfg.Fsync && st.Size() == 0 {
		// A new (or rotated-to) file: its directory entry must survive a
		// power loss too.
		if d, err := os.Open(filepath.Dir(path)); err == nil {
			d.Sync()
			d.Close()
		}
	}
	h := &handle{f: f, used: s.tick, size: st.Size(), path: path}
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
	var err error
	if s.cfg.Fsync {
		err = h.f.Sync()
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
