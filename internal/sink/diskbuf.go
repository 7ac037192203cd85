package sink

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/starmates/logshipd/internal/event"
)

// DiskBuffer is a crash-safe, size-bounded FIFO of batches on disk: one per
// sink, in <data_dir>/buffer/<sink>/. Batches are appended to segment files
// as CRC-checked frames; a read position (segment, offset) is kept in
// read.pos and advanced after each delivered batch. On open, a torn frame
// at the end of the last segment (a crash mid-write) is cut off; everything
// before the read position was delivered, everything after is delivered
// again (at-least-once: a batch delivered but not yet committed when the
// process died is sent twice).
//
// Writes reach the kernel before Append returns, so a kill -9 loses
// nothing; FsyncInterval bounds what a power loss can lose.
type DiskBuffer struct {
	dir      string
	maxBytes int64
	segBytes int64
	fsync    time.Duration

	mu       sync.Mutex
	cond     *sync.Cond
	segs     []uint64 // segment numbers present, ascending
	w        *os.File
	bw       *bufio.Writer
	wSeg     uint64
	wOff     int64
	rSeg     uint64 // committed read position
	rOff     int64
	pending  int64 // bytes in frames after the read position
	frames   int64 // frames after the read position
	lastSync time.Time
	closed   bool
	crcTable *crc32.Table
	enc      []byte // Append's encoding buffer, reused (guarded by mu)
}

const (
	frameHeader   = 8 // u32 length + u32 CRC-32C
	maxFrame      = 256 << 20
	maxKeptEncode = 8 << 20 // a larger encoding buffer is not kept for the next batch
)

// ErrBufferFull is returned by Append when the buffer holds max bytes.
var ErrBufferFull = errors.New("disk buffer full")

// OpenDiskBuffer opens or creates the buffer in dir.
func OpenDiskBuffer(dir string, maxBytes int64, fsyncInterval time.Duration) (*DiskBuffer, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	d := &DiskBuffer{dir: dir, maxBytes: maxBytes, segBytes: min(maxBytes/4+1, 64<<20), fsync: fsyncInterval,
		crcTable: crc32.MakeTable(crc32.Castagnoli)}
	d.cond = sync.NewCond(&d.mu)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".seg"); ok {
			if v, err := strconv.ParseUint(n, 10, 64); err == nil {
				d.segs = append(d.segs, v)
			}
		}
	}
	sort.Slice(d.segs, func(i, j int) bool { return d.segs[i] < d.segs[j] })
	if err := d.loadReadPos(); err != nil {
		return nil, err
	}
	// Drop segments before the read position; scan the rest to count what is
	// pending and to cut a torn tail.
	var keep []uint64
	for _, s := range d.segs {
		if s < d.rSeg {
			os.Remove(d.segPath(s))
			continue
		}
		keep = append(keep, s)
	}
	d.segs = keep
	for i, s := range d.segs {
		start := int64(0)
		if s == d.rSeg {
			start = d.rOff
		}
		good, frames, bytes, err := d.scan(s, start)
		if err != nil {
			return nil, err
		}
		d.pending += bytes
		d.frames += frames
		if i == len(d.segs)-1 {
			if err := os.Truncate(d.segPath(s), good); err != nil {
				return nil, err
			}
			d.wSeg, d.wOff = s, good
		}
	}
	if len(d.segs) == 0 {
		d.wSeg = max(d.rSeg, 1)
		d.rSeg, d.rOff = d.wSeg, 0
		d.segs = []uint64{d.wSeg}
	}
	if err := d.openWriter(); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *DiskBuffer) segPath(s uint64) string {
	return filepath.Join(d.dir, fmt.Sprintf("%020d.seg", s))
}

type readPos struct {
	Segment uint64 `json:"segment"`
	Offset  int64  `json:"offset"`
}

func (d *DiskBuffer) loadReadPos() error {
	b, err := os.ReadFile(filepath.Join(d.dir, "read.pos"))
	if errors.Is(err, os.ErrNotExist) {
		if len(d.segs) > 0 {
			d.rSeg = d.segs[0]
		}
		return nil
	}
	if err != nil {
		return err
	}
	var p readPos
	if err := json.Unmarshal(b, &p); err != nil {
		return fmt.Errorf("disk buffer %s: read.pos is corrupt (%v): remove it to re-send the whole buffer", d.dir, err)
	}
	d.rSeg, d.rOff = p.Segment, p.Offset
	return nil
}

func (d *DiskBuffer) saveReadPos() error {
	b, _ := json.Marshal(readPos{Segment: d.rSeg, Offset: d.rOff})
	tmp := filepath.Join(d.dir, "read.pos.tmp")
	if err := os.WriteFile(tmp, b, 0o640); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(d.dir, "read.pos"))
}

// scan walks the frames of segment s from start; it returns the offset
// after the last intact frame, the frames and bytes after start.
func (d *DiskBuffer) scan(s uint64, start int64) (good, frames, bytes int64, err error) {
	f, err := os.Open(d.segPath(s))
	if err != nil {
		return 0, 0, 0, err
	}
	defer f.Close()
	if _, err := f.Seek(start, io.SeekStart); err != nil {
		return 0, 0, 0, err
	}
	r := bufio.NewReader(f)
	off := start
	for {
		payload, err := d.readFrame(r)
		if err != nil {
			return off, frames, bytes, nil // EOF or a torn/corrupt tail
		}
		n := int64(frameHeader + len(payload))
		off += n
		bytes += n
		frames++
	}
}

func (d *DiskBuffer) readFrame(r *bufio.Reader) ([]byte, error) {
	var hdr [frameHeader]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.LittleEndian.Uint32(hdr[:4])
	if n == 0 || n > maxFrame {
		return nil, errors.New("bad frame length")
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		return nil, err
	}
	if crc32.Checksum(payload, d.crcTable) != binary.LittleEndian.Uint32(hdr[4:]) {
		return nil, errors.New("bad frame checksum")
	}
	return payload, nil
}

func (d *DiskBuffer) openWriter() error {
	f, err := os.OpenFile(d.segPath(d.wSeg), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return err
	}
	d.w, d.bw = f, bufio.NewWriterSize(f, 256<<10)
	return nil
}

// Bytes returns the bytes waiting to be delivered.
func (d *DiskBuffer) Bytes() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.pending
}

// Append writes b. It returns ErrBufferFull when b does not fit.
func (d *DiskBuffer) Append(b *event.Batch) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return errors.New("disk buffer closed")
	}
	// Encoded into one reused buffer (the writes are serialized anyway): a
	// fresh buffer per batch was most of an outage's garbage.
	payload := encodeBatch(d.enc[:0], b)
	if cap(payload) <= maxKeptEncode {
		d.enc = payload
	}
	n := int64(frameHeader + len(payload))
	if d.pending > 0 && d.pending+n > d.maxBytes {
		return ErrBufferFull
	}
	if d.wOff > 0 && d.wOff+n > d.segBytes {
		if err := d.rotate(); err != nil {
			return err
		}
	}
	var hdr [frameHeader]byte
	binary.LittleEndian.PutUint32(hdr[:4], uint32(len(payload)))
	binary.LittleEndian.PutUint32(hdr[4:], crc32.Checksum(payload, d.crcTable))
	d.bw.Write(hdr[:])
	d.bw.Write(payload)
	if err := d.bw.Flush(); err != nil { // into the kernel: survives kill -9
		return fmt.Errorf("disk buffer write: %w", err)
	}
	if d.fsync == 0 || time.Since(d.lastSync) >= d.fsync {
		if err := d.w.Sync(); err != nil {
			return fmt.Errorf("disk buffer sync: %w", err)
		}
		d.lastSync = time.Now()
	}
	d.wOff += n
	d.pending += n
	d.frames++
	d.cond.Broadcast()
	return nil
}

func (d *DiskBuffer) rotate() error {
	if err := d.bw.Flush(); err != nil {
		return err
	}
	if err := d.w.Sync(); err != nil {
		return err
	}
	d.w.Close()
	d.wSeg++
	d.wOff = 0
	d.segs = append(d.segs, d.wSeg)
	return d.openWriter()
}

// Pos is a position after a frame.
type Pos struct {
	seg uint64
	off int64
	n   int64
}

// reader state for Next: the position of the next unread frame (may be
// ahead of the committed read position while a batch is in delivery).
type bufReader struct {
	seg uint64
	off int64
	f   *os.File
	r   *bufio.Reader
}

// newReader starts reading at the committed position.
func (d *DiskBuffer) newReader() *bufReader {
	d.mu.Lock()
	defer d.mu.Unlock()
	return &bufReader{seg: d.rSeg, off: d.rOff}
}

func (br *bufReader) close() {
	if br.f != nil {
		br.f.Close()
		br.f = nil
	}
}

// Next blocks until a batch is available (or ctx ends / the buffer is
// closed and empty: io.EOF) and returns it with its position for Commit.
func (d *DiskBuffer) Next(ctx context.Context, br *bufReader) (*event.Batch, Pos, error) {
	stop := context.AfterFunc(ctx, func() {
		d.mu.Lock()
		d.cond.Broadcast()
		d.mu.Unlock()
	})
	defer stop()
	for {
		d.mu.Lock()
		for br.seg == d.wSeg && br.off >= d.wOff && !d.closed && ctx.Err() == nil {
			d.cond.Wait()
		}
		if ctx.Err() != nil {
			d.mu.Unlock()
			return nil, Pos{}, ctx.Err()
		}
		if br.seg == d.wSeg && br.off >= d.wOff && d.closed {
			d.mu.Unlock()
			return nil, Pos{}, io.EOF
		}
		wSeg, wOff := d.wSeg, d.wOff
		d.mu.Unlock()

		if br.f == nil {
			f, err := os.Open(d.segPath(br.seg))
			if err != nil {
				return nil, Pos{}, err
			}
			if _, err := f.Seek(br.off, io.SeekStart); err != nil {
				f.Close()
				return nil, Pos{}, err
			}
			br.f, br.r = f, bufio.NewReaderSize(f, 256<<10)
		}
		if br.seg < wSeg || br.off < wOff {
			payload, err := d.readFrame(br.r)
			if err != nil {
				if br.seg < wSeg { // end of a finished segment: next one
					br.f.Close()
					br.f = nil
					br.seg++
					br.off = 0
					continue
				}
				return nil, Pos{}, fmt.Errorf("disk buffer read %s@%d: %w", d.segPath(br.seg), br.off, err)
			}
			n := int64(frameHeader + len(payload))
			br.off += n
			b, err := decodeBatch(payload)
			if err != nil {
				return nil, Pos{}, err
			}
			return b, Pos{seg: br.seg, off: br.off, n: n}, nil
		}
	}
}

// Commit marks everything up to p delivered.
func (d *DiskBuffer) Commit(p Pos) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.rSeg, d.rOff = p.seg, p.off
	d.pending -= p.n
	d.frames--
	for len(d.segs) > 1 && d.segs[0] < d.rSeg {
		os.Remove(d.segPath(d.segs[0]))
		d.segs = d.segs[1:]
	}
	d.cond.Broadcast()
	return d.saveReadPos()
}

// WaitSpace blocks until n more bytes fit (or ctx ends).
func (d *DiskBuffer) WaitSpace(ctx context.Context, n int64) error {
	stop := context.AfterFunc(ctx, func() {
		d.mu.Lock()
		d.cond.Broadcast()
		d.mu.Unlock()
	})
	defer stop()
	d.mu.Lock()
	defer d.mu.Unlock()
	for d.pending > 0 && d.pending+n > d.maxBytes && ctx.Err() == nil && !d.closed {
		d.cond.Wait()
	}
	return ctx.Err()
}

// CloseWrites stops appends; readers drain what is left and then see EOF.
func (d *DiskBuffer) CloseWrites() {
	d.mu.Lock()
	d.closed = true
	d.cond.Broadcast()
	d.mu.Unlock()
}

// Close flushes and closes the files.
func (d *DiskBuffer) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	d.cond.Broadcast()
	err := d.bw.Flush()
	err = errors.Join(err, d.w.Sync(), d.w.Close())
	return err
}

// encodeBatch serialises a batch (items and JSON).
func encodeBatch(out []byte, b *event.Batch) []byte {
	out = slices.Grow(out, len(b.Buf)+len(b.Items)*96+16)
	out = append(out, 'L', 'S', 'B', '1')
	out = binary.AppendUvarint(out, uint64(len(b.Items)))
	str := func(s string) {
		out = binary.AppendUvarint(out, uint64(len(s)))
		out = append(out, s...)
	}
	for i := range b.Items {
		it := &b.Items[i]
		out = binary.AppendVarint(out, it.Time.UnixNano())
		out = append(out, byte(it.Level))
		var flags byte
		if it.HasTrace {
			flags |= 1
		}
		if it.HasSpan {
			flags |= 2
		}
		if it.BelowLevel {
			flags |= 4
		}
		out = append(out, flags)
		str(it.Service)
		str(it.Environment)
		str(it.Project)
		str(it.TrackingID)
		str(it.Source)
		str(it.Stream)
		if it.HasTrace {
			out = append(out, it.TraceID[:]...)
		}
		if it.HasSpan {
			out = append(out, it.SpanID[:]...)
		}
		j := b.JSON(i)
		out = binary.AppendUvarint(out, uint64(len(j)))
		out = append(out, j...)
	}
	return out
}

var errCorruptBatch = errors.New("disk buffer: corrupt batch frame")

func decodeBatch(p []byte) (*event.Batch, error) {
	if len(p) < 4 || string(p[:4]) != "LSB1" {
		return nil, errCorruptBatch
	}
	p = p[4:]
	n, k := binary.Uvarint(p)
	if k <= 0 || n > uint64(len(p)) {
		return nil, errCorruptBatch
	}
	p = p[k:]
	b := &event.Batch{Items: make([]event.Item, 0, n)}
	str := func() (string, bool) {
		l, k := binary.Uvarint(p)
		if k <= 0 || l > uint64(len(p)-k) {
			return "", false
		}
		s := string(p[k : k+int(l)])
		p = p[k+int(l):]
		return s, true
	}
	for range n {
		var it event.Item
		ts, k := binary.Varint(p)
		if k <= 0 || len(p) < k+2 {
			return nil, errCorruptBatch
		}
		it.Time = time.Unix(0, ts).UTC()
		it.Level = event.Level(p[k])
		flags := p[k+1]
		it.BelowLevel = flags&4 != 0
		p = p[k+2:]
		var ok bool
		for _, dst := range []*string{&it.Service, &it.Environment, &it.Project, &it.TrackingID, &it.Source, &it.Stream} {
			if *dst, ok = str(); !ok {
				return nil, errCorruptBatch
			}
		}
		if flags&1 != 0 {
			if len(p) < 16 {
				return nil, errCorruptBatch
			}
			copy(it.TraceID[:], p[:16])
			it.HasTrace = true
			p = p[16:]
		}
		if flags&2 != 0 {
			if len(p) < 8 {
				return nil, errCorruptBatch
			}
			copy(it.SpanID[:], p[:8])
			it.HasSpan = true
			p = p[8:]
		}
		l, k := binary.Uvarint(p)
		if k <= 0 || l > uint64(len(p)-k) {
			return nil, errCorruptBatch
		}
		it.Off = len(b.Buf)
		it.Len = int(l)
		b.Buf = append(b.Buf, p[k:k+int(l)]...)
		b.Buf = append(b.Buf, '\n')
		p = p[k+int(l):]
		b.Items = append(b.Items, it)
	}
	return b, nil
}
