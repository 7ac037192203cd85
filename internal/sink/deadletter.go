package sink

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/starmates/logshipd/internal/event"
	"github.com/starmates/logshipd/internal/jsonx"
)

// DeadLetter appends refused records to <data_dir>/dead-letter/<sink>.jsonl,
// one JSON object per line: {"time", "sink", "reason", "detail", "record"}
// where record is the canonical record as it was sent. Writes are synced
// before Write returns, so a dead-lettered record is durable before its
// batch is acknowledged.
type DeadLetter struct {
	mu   sync.Mutex
	sink string
	path string
	f    *os.File
	buf  []byte // the lines of one Write, written at once
	now  func() time.Time
}

// OpenDeadLetter opens (creating) the dead-letter file of one sink.
func OpenDeadLetter(dataDir, sinkName string) (*DeadLetter, error) {
	dir := filepath.Join(dataDir, "dead-letter")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, safeName(sinkName)+".jsonl")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
	if err != nil {
		return nil, err
	}
	return &DeadLetter{sink: sinkName, path: path, f: f, now: time.Now}, nil
}

// Path returns the file path.
func (d *DeadLetter) Path() string { return d.path }

// Entry is one refused record.
type Entry struct {
	Reason, Detail string
	Record         []byte // canonical JSON
}

// Write appends entries and syncs the file. The entries go out in one
// write(2) on an O_APPEND file, so lines of another process writing the
// same file (a replay next to the daemon) never interleave with them; a
// failed write is cut back, so the file never keeps half an entry, and
// the next Write starts clean (no sticky buffered error).
func (d *DeadLetter) Write(entries []Entry) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	ts := d.now().UTC().Format(time.RFC3339Nano)
	line := d.buf[:0]
	for _, e := range entries {
		line = append(line, `{"time":`...)
		line = jsonx.AppendStr(line, ts)
		line = append(line, `,"sink":`...)
		line = jsonx.AppendStr(line, d.sink)
		line = append(line, `,"reason":`...)
		line = jsonx.AppendStr(line, e.Reason)
		if e.Detail != "" {
			line = append(line, `,"detail":`...)
			line = jsonx.AppendStr(line, e.Detail)
		}
		line = append(line, `,"record":`...)
		line = append(line, e.Record...)
		line = append(line, "}\n"...)
	}
	if cap(line) <= 4<<20 {
		d.buf = line
	}
	before, err := d.f.Seek(0, io.SeekEnd)
	if err != nil {
		return fmt.Errorf("dead-letter %s: %w", d.path, err)
	}
	if err := WriteWhole(d.f, line, before); err != nil {
		return fmt.Errorf("dead-letter %s: %w", d.path, err)
	}
	return d.f.Sync()
}

// WriteWhole appends b to f, a file opened with O_APPEND whose size before
// the write is size, in one write(2). When the write fails after writing
// part of b, f is cut back to size: a file never keeps part of a batch, so
// a retry duplicates nothing.
func WriteWhole(f *os.File, b []byte, size int64) error {
	n, err := f.Write(b)
	if err != nil && n > 0 {
		err = errors.Join(err, f.Truncate(size))
	}
	return err
}

// Close closes the file.
func (d *DeadLetter) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.f.Close()
}

// BatchEntries builds dead-letter entries for every record of b.
func BatchEntries(b *event.Batch, reason, detail string) []Entry {
	out := make([]Entry, len(b.Items))
	for i := range b.Items {
		out[i] = Entry{Reason: reason, Detail: detail, Record: b.JSON(i)}
	}
	return out
}

// safeName maps a name to a file-name-safe form.
func safeName(s string) string { return string(AppendSafePathPart(nil, s)) }

// maxPathPart bounds one name made from a value (file systems refuse
// names over 255 bytes; templates may join several values).
const maxPathPart = 100

// AppendSafePathPart appends s made file-name safe: bytes outside
// [A-Za-z0-9._-] become '_', "", "." and ".." become "_", and a value
// longer than 100 bytes keeps its first 83 bytes plus "-" and 16 hex digits
// of its FNV-1a hash (distinct long values stay distinct). Record values in
// path templates go through it, so they never escape the configured
// directory nor make an impossible name.
func AppendSafePathPart(dst []byte, s string) []byte {
	if s == "" || s == "." || s == ".." {
		return append(dst, '_')
	}
	n := len(s)
	if n > maxPathPart {
		n = maxPathPart - 17
	}
	for i := 0; i < n; i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			c = '_'
		}
		dst = append(dst, c)
	}
	if n < len(s) {
		h := fnv.New64a()
		h.Write([]byte(s))
		dst = append(dst, '-')
		dst = fmt.Appendf(dst, "%016x", h.Sum64())
	}
	return dst
}

// SafePathPart is AppendSafePathPart as a string.
func SafePathPart(s string) string { return safeName(s) }
