package ingest

import (
	"bytes"
	"strconv"
)

// DefaultMaxLineBytes is the longest line passed on whole. Longer lines are
// cut, marked "[truncated N bytes]" and counted; the rest of the line is
// skipped so a file can never get stuck on one huge line.
const DefaultMaxLineBytes = 1 << 20

// Framer splits a byte stream into lines. It copies nothing for lines that
// lie inside one chunk; a line that spans chunks is assembled in an internal
// buffer. Lines passed to the callback are valid only during the call.
// A Framer is not safe for concurrent use.
type Framer struct {
	max       int
	carry     []byte
	skipped   int  // bytes dropped from the current over-long line
	skipping  bool // inside an over-long line, waiting for its newline
	truncated int64
	fed       int64 // bytes fed before the current chunk
	end       int64 // input offset just past the line being passed on
}

// NewFramer returns a Framer with the given max line size (bytes, without
// the newline); max <= 0 means DefaultMaxLineBytes.
func NewFramer(max int) *Framer {
	if max <= 0 {
		max = DefaultMaxLineBytes
	}
	return &Framer{max: max}
}

// Offset returns, during a callback, the input offset (bytes fed since the
// Framer was made) just past the line being passed on, newline included.
// For a cut line it covers everything skipped too, so it is the offset to
// resume from, whatever the callback was given.
func (f *Framer) Offset() int64 { return f.end }

// Truncated returns how many lines were cut at the max line size.
func (f *Framer) Truncated() int64 { return f.truncated }

// Feed splits chunk and calls fn for every complete line.
func (f *Framer) Feed(chunk []byte, fn func(line []byte)) {
	base, total := f.fed, len(chunk)
	f.fed += int64(total)
	for len(chunk) > 0 {
		nl := bytes.IndexByte(chunk, '\n')
		if nl >= 0 {
			f.end = base + int64(total-len(chunk)+nl) + 1
		}
		if f.skipping {
			if nl < 0 {
				f.skipped += len(chunk)
				return
			}
			f.skipped += nl
			f.emitTruncated(fn)
			chunk = chunk[nl+1:]
			continue
		}
		if nl < 0 {
			f.carry = append(f.carry, chunk...)
			if len(f.carry) > f.max {
				f.skipped = len(f.carry) - f.max
				f.carry = f.carry[:f.max]
				f.skipping = true
			}
			return
		}
		line := chunk[:nl]
		chunk = chunk[nl+1:]
		if len(f.carry) > 0 {
			f.carry = append(f.carry, line...)
			line = f.carry
		}
		if len(line) > f.max {
			f.skipped = len(line) - f.max
			f.carry = append(f.carry[:0], line[:f.max]...)
			f.emitTruncated(fn)
			continue
		}
		fn(line)
		f.carry = f.carry[:0]
	}
}

func (f *Framer) emitTruncated(fn func([]byte)) {
	f.carry = append(f.carry, " [truncated "...)
	f.carry = strconv.AppendInt(f.carry, int64(f.skipped), 10)
	f.carry = append(f.carry, " bytes]"...)
	f.truncated++
	fn(f.carry)
	f.carry = f.carry[:0]
	f.skipped = 0
	f.skipping = false
}

// End passes on a final line that had no newline (at end of input).
func (f *Framer) End(fn func(line []byte)) {
	f.end = f.fed
	if f.skipping {
		f.emitTruncated(fn)
		return
	}
	if len(f.carry) > 0 {
		fn(f.carry)
		f.carry = f.carry[:0]
	}
}
