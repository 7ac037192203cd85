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
}

// NewFramer returns a Framer with the given max line size (bytes, without
// the newline); max <= 0 means DefaultMaxLineBytes.
func NewFramer(max int) *Framer {
	if max <= 0 {
		max = DefaultMaxLineBytes
	}
	return &Framer{max: max}
}

// Truncated returns how many lines were cut at the max line size.
func (f *Framer) Truncated() int64 { return f.truncated }

// Feed splits chunk and calls fn for every complete line.
func (f *Framer) Feed(chunk []byte, fn func(line []byte)) {
	for len(chunk) > 0 {
		nl := bytes.IndexByte(chunk, '\n')
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
	if f.skipping {
		f.emitTruncated(fn)
		return
	}
	if len(f.carry) > 0 {
		fn(f.carry)
		f.carry = f.carry[:0]
	}
}
