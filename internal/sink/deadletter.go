package sink

import (
	"bufio"
	"fmt"
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
	w    *bufio.Writer
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
	return &DeadLetter{sink: sinkName, path: path, f: f, w: bufio.NewWriter(f), now: time.Now}, nil
}

// Path returns the file path.
func (d *DeadLetter) Path() string { return d.path }

// Entry is one refused record.
type Entry struct {
	Reason, Detail string
	Record         []byte // canonical JSON
}

// Write appends entries and syncs the file.
func (d *DeadLetter) Write(entries []Entry) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	ts := d.now().UTC().Format(time.RFC3339Nano)
	var line []byte
	for _, e := range entries {
		line = line[:0]
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
		if _, err := d.w.Write(line); err != nil {
			return fmt.Errorf("dead-letter %s: %w", d.path, err)
		}
	}
	if err := d.w.Flush(); err != nil {
		return fmt.Errorf("dead-letter %s: %w", d.path, err)
	}
	return d.f.Sync()
}

// Close closes the file.
func (d *DeadLetter) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.w.Flush(); err != nil {
		d.f.Close()
		return err
	}
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
func safeName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			b[i] = '_'
		}
	}
	if len(b) == 0 || string(b) == "." || string(b) == ".." {
		return "_"
	}
	return string(b)
}

// SafePathPart is safeName for use in path templates: record values never
// escape the configured directory.
func SafePathPart(s string) string { return safeName(s) }
