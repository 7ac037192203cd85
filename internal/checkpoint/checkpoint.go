package checkpoint

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Version is the format version written to the checkpoint file.
const Version = 1

// DirName is the sub-directory of the data directory holding checkpoints.
const DirName = "checkpoints"

// FileID identifies an inode.
type FileID struct {
	Device uint64
	Inode  uint64
}

func (id FileID) String() string { return fmt.Sprintf("%d:%d", id.Device, id.Inode) }

// Entry is the committed position of one file.
type Entry struct {
	Device uint64 `json:"device"`
	Inode  uint64 `json:"inode"`
	// Birth is the inode's creation time (statx btime) in Unix nanoseconds,
	// 0 when the filesystem does not report it.
	Birth int64 `json:"birth_ns,omitempty"`
	// Fingerprint is the hex SHA-256 of the file's first FingerprintLen
	// bytes (fewer than the configured fingerprint size while the file is
	// shorter than that).
	Fingerprint    string `json:"fingerprint"`
	FingerprintLen int    `json:"fingerprint_len"`
	// Generation counts how often this inode's content restarted
	// (copytruncate, inode reuse).
	Generation uint64 `json:"generation"`
	// Path is where the file was last seen (informational).
	Path string `json:"path"`
	// Offset is the byte offset below which everything was delivered.
	Offset  int64     `json:"offset"`
	Updated time.Time `json:"updated"`
}

// ID returns the entry's key.
func (e Entry) ID() FileID { return FileID{Device: e.Device, Inode: e.Inode} }

// Fingerprint returns the fingerprint of head as stored in Entry.Fingerprint.
func Fingerprint(head []byte) string {
	return hex.EncodeToString(sum(head))
}

func sum(b []byte) []byte {
	h := sha256.Sum256(b)
	return h[:]
}

// ErrCorrupt is matched (errors.Is) by the error Open returns for a
// checkpoint file that exists but cannot be parsed.
var ErrCorrupt = errors.New("checkpoint file is corrupt")

// CorruptError reports an unusable checkpoint file.
type CorruptError struct {
	Path string
	Err  error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("checkpoint %s: %v; refusing to start because without it files would be re-read or skipped: "+
		"restore the file from a backup, or move it away to start over (every file is then read again according to start_at)", e.Path, e.Err)
}

func (e *CorruptError) Unwrap() []error { return []error{ErrCorrupt, e.Err} }

type fileFormat struct {
	Version int       `json:"version"`
	Source  string    `json:"source"`
	Saved   time.Time `json:"saved"`
	Entries []Entry   `json:"entries"`
}

// Store holds the checkpoint entries of one source.
type Store struct {
	dir, name, path string

	mu      sync.Mutex
	entries map[FileID]Entry
	changes uint64 // incremented on every change
	saved   uint64 // value of changes at the last successful save

	saveMu sync.Mutex // serialises Save
	// writeHook replaces the write of the temporary file (tests inject
	// failures and torn writes).
	writeHook func(f *os.File, b []byte) error
}

// Open loads the checkpoints of source name from <dataDir>/checkpoints/.
// A missing file is an empty store; an unreadable or corrupt file is an
// error (see CorruptError). Open does not create anything: the directory is
// created by the first Save.
func Open(dataDir, name string) (*Store, error) {
	if err := validName(name); err != nil {
		return nil, err
	}
	if dataDir == "" {
		return nil, errors.New("checkpoint: data directory is empty (set data_dir)")
	}
	dir := filepath.Join(dataDir, DirName)
	s := &Store{dir: dir, name: name, path: filepath.Join(dir, name+".json"), entries: map[FileID]Entry{}}
	raw, err := os.ReadFile(s.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return s, nil
	case err != nil:
		return nil, fmt.Errorf("checkpoint %s: %w; refusing to start: fix its permissions (logshipd must be able to read and write %s)", s.path, err, dir)
	}
	var ff fileFormat
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ff); err != nil {
		return nil, &CorruptError{Path: s.path, Err: err}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, &CorruptError{Path: s.path, Err: errors.New("trailing data after the JSON document")}
	}
	if ff.Version != Version {
		return nil, &CorruptError{Path: s.path, Err: fmt.Errorf("version %d is not supported (this build reads version %d)", ff.Version, Version)}
	}
	var problems []error
	for i, e := range ff.Entries {
		if err := e.check(); err != nil {
			problems = append(problems, fmt.Errorf("entry %d (%s): %w", i, e.ID(), err))
			continue
		}
		s.entries[e.ID()] = e
	}
	if len(problems) > 0 {
		return nil, &CorruptError{Path: s.path, Err: errors.Join(problems...)}
	}
	return s, nil
}

func validName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\\\x00") || strings.HasPrefix(name, ".") {
		return fmt.Errorf("checkpoint: source name %q cannot name a file (use letters, digits, '-', '_' or '.', not leading '.')", name)
	}
	return nil
}

func (e Entry) check() error {
	switch {
	case e.Offset < 0:
		return fmt.Errorf("negative offset %d", e.Offset)
	case e.FingerprintLen < 0:
		return fmt.Errorf("negative fingerprint_len %d", e.FingerprintLen)
	case len(e.Fingerprint) != 64:
		return fmt.Errorf("fingerprint %q: want 64 hex digits", e.Fingerprint)
	}
	if _, err := hex.DecodeString(e.Fingerprint); err != nil {
		return fmt.Errorf("fingerprint %q: %w", e.Fingerprint, err)
	}
	return nil
}

// Path returns the checkpoint file's path.
func (s *Store) Path() string { return s.path }

// Get returns the entry of id.
func (s *Store) Get(id FileID) (Entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[id]
	return e, ok
}

// Set stores e under e.ID(), replacing any entry of that inode.
func (s *Store) Set(e Entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.entries[e.ID()]; ok && old == e {
		return
	}
	s.entries[e.ID()] = e
	s.changes++
}

// Forget removes the entry of id.
func (s *Store) Forget(id FileID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.entries[id]; ok {
		delete(s.entries, id)
		s.changes++
	}
}

// Entries returns a copy of every entry, ordered by device and inode.
func (s *Store) Entries() []Entry {
	s.mu.Lock()
	out := make([]Entry, 0, len(s.entries))
	for _, e := range s.entries {
		out = append(out, e)
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b Entry) int {
		if a.Device != b.Device {
			if a.Device < b.Device {
				return -1
			}
			return 1
		}
		switch {
		case a.Inode < b.Inode:
			return -1
		case a.Inode > b.Inode:
			return 1
		}
		return 0
	})
	return out
}

// Len returns the number of entries.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}

// Dirty reports whether there are changes not yet saved.
func (s *Store) Dirty() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changes != s.saved
}

// Save writes the entries atomically when they changed since the last
// successful Save (temporary file in the same directory, fsync, rename,
// fsync of the directory; mode 0600). After an error the old file is
// intact and the next Save tries again.
func (s *Store) Save() error {
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	s.mu.Lock()
	if s.changes == s.saved {
		s.mu.Unlock()
		return nil
	}
	gen := s.changes
	ff := fileFormat{Version: Version, Source: s.name, Saved: time.Now().UTC(), Entries: make([]Entry, 0, len(s.entries))}
	for _, e := range s.entries {
		ff.Entries = append(ff.Entries, e)
	}
	s.mu.Unlock()
	slices.SortFunc(ff.Entries, func(a, b Entry) int {
		return strings.Compare(a.Path+"\x00"+a.ID().String(), b.Path+"\x00"+b.ID().String())
	})
	raw, err := json.MarshalIndent(&ff, "", "  ")
	if err != nil {
		return fmt.Errorf("checkpoint %s: encode: %w", s.path, err)
	}
	raw = append(raw, '\n')
	if err := s.writeAtomic(raw); err != nil {
		return err
	}
	s.mu.Lock()
	if gen > s.saved {
		s.saved = gen
	}
	s.mu.Unlock()
	return nil
}

func (s *Store) writeAtomic(raw []byte) (err error) {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return fmt.Errorf("checkpoint: create %s: %w", s.dir, err)
	}
	s.removeStaleTemps()
	f, err := os.CreateTemp(s.dir, "."+s.name+".json.tmp-*")
	if err != nil {
		return fmt.Errorf("checkpoint %s: create temporary file: %w", s.path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("checkpoint %s: chmod: %w", tmp, err)
	}
	if s.writeHook != nil {
		err = s.writeHook(f, raw)
	} else {
		_, err = f.Write(raw)
	}
	if err != nil {
		return fmt.Errorf("checkpoint %s: write: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("checkpoint %s: fsync: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("checkpoint %s: close: %w", tmp, err)
	}
	if err := os.Rename(tmp, s.path); err != nil {
		return fmt.Errorf("checkpoint %s: rename: %w", s.path, err)
	}
	if err := syncDir(s.dir); err != nil {
		return fmt.Errorf("checkpoint %s: fsync directory: %w", s.dir, err)
	}
	return nil
}

// removeStaleTemps deletes temporary files left by a crash during Save.
// They are never read: only a completed rename publishes a checkpoint.
func (s *Store) removeStaleTemps() {
	matches, _ := filepath.Glob(filepath.Join(s.dir, "."+s.name+".json.tmp-*"))
	for _, m := range matches {
		_ = os.Remove(m)
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
