package forward

import (
	"encoding/binary"
	"errors"
	"math"
)

// A minimal MessagePack reader over a byte slice. It never allocates,
// never panics on hostile input and never trusts a length prefix before the
// bytes are there: every length is checked against what is left.

var (
	errTruncated = errors.New("truncated msgpack")
	errBadByte   = errors.New("invalid msgpack type byte 0xc1")
)

type mkind uint8

const (
	mkNil mkind = iota
	mkBool
	mkInt   // fits int64 (fixints, int8..int64, uint8..uint32, uint64 <= MaxInt64)
	mkUint  // uint64 > MaxInt64
	mkFloat // float32 or float64 (bits says which)
	mkStr
	mkBin
	mkArray
	mkMap
	mkExt
)

// mval is one decoded element header. For str, bin and ext, raw is the
// payload (a sub-slice of the input); for arrays and maps, n is the count
// of elements (maps: pairs) that follow.
type mval struct {
	kind mkind
	b    bool
	i    int64
	u    uint64
	f    float64
	bits int
	raw  []byte
	n    int64
	ext  int8
}

// head decodes the element starting at b[i] and returns the index after
// its header (and, for str, bin and ext, after its payload). On
// errTruncated, next is the index the element is known to end at when the
// header was complete (so the caller can reject oversize frames early), or
// len(b)+1 when even the header is incomplete.
func head(b []byte, i int, v *mval) (next int, err error) {
	if i >= len(b) {
		return len(b) + 1, errTruncated
	}
	c := b[i]
	i++
	switch {
	case c <= 0x7f:
		v.kind, v.i = mkInt, int64(c)
		return i, nil
	case c >= 0xe0:
		v.kind, v.i = mkInt, int64(int8(c))
		return i, nil
	case c >= 0x80 && c <= 0x8f:
		v.kind, v.n = mkMap, int64(c&0x0f)
		return i, nil
	case c >= 0x90 && c <= 0x9f:
		v.kind, v.n = mkArray, int64(c&0x0f)
		return i, nil
	case c >= 0xa0 && c <= 0xbf:
		return payload(b, i, uint64(c&0x1f), mkStr, v)
	}
	// fixed-size headers: 1 + size bytes
	need := func(n int) bool { return len(b)-i >= n }
	switch c {
	case 0xc0:
		v.kind = mkNil
		return i, nil
	case 0xc1:
		return i, errBadByte
	case 0xc2, 0xc3:
		v.kind, v.b = mkBool, c == 0xc3
		return i, nil
	case 0xc4, 0xd9: // bin8, str8
		if !need(1) {
			return len(b) + 1, errTruncated
		}
		return payload(b, i+1, uint64(b[i]), kindOf(c), v)
	case 0xc5, 0xda: // bin16, str16
		if !need(2) {
			return len(b) + 1, errTruncated
		}
		return payload(b, i+2, uint64(binary.BigEndian.Uint16(b[i:])), kindOf(c), v)
	case 0xc6, 0xdb: // bin32, str32
		if !need(4) {
			return len(b) + 1, errTruncated
		}
		return payload(b, i+4, uint64(binary.BigEndian.Uint32(b[i:])), kindOf(c), v)
	case 0xc7, 0xc8, 0xc9: // ext8/16/32: length, type, data
		sz := 1 << (c - 0xc7) // 1, 2, 4
		if !need(sz + 1) {
			return len(b) + 1, errTruncated
		}
		var n uint64
		switch sz {
		case 1:
			n = uint64(b[i])
		case 2:
			n = uint64(binary.BigEndian.Uint16(b[i:]))
		default:
			n = uint64(binary.BigEndian.Uint32(b[i:]))
		}
		v.ext = int8(b[i+sz])
		return payload(b, i+sz+1, n, mkExt, v)
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8: // fixext 1/2/4/8/16
		if !need(1) {
			return len(b) + 1, errTruncated
		}
		v.ext = int8(b[i])
		return payload(b, i+1, uint64(1)<<(c-0xd4), mkExt, v)
	case 0xca:
		if !need(4) {
			return len(b) + 1, errTruncated
		}
		v.kind, v.bits, v.f = mkFloat, 32, float64(math.Float32frombits(binary.BigEndian.Uint32(b[i:])))
		return i + 4, nil
	case 0xcb:
		if !need(8) {
			return len(b) + 1, errTruncated
		}
		v.kind, v.bits, v.f = mkFloat, 64, math.Float64frombits(binary.BigEndian.Uint64(b[i:]))
		return i + 8, nil
	case 0xcc:
		if !need(1) {
			return len(b) + 1, errTruncated
		}
		v.kind, v.i = mkInt, int64(b[i])
		return i + 1, nil
	case 0xcd:
		if !need(2) {
			return len(b) + 1, errTruncated
		}
		v.kind, v.i = mkInt, int64(binary.BigEndian.Uint16(b[i:]))
		return i + 2, nil
	case 0xce:
		if !need(4) {
			return len(b) + 1, errTruncated
		}
		v.kind, v.i = mkInt, int64(binary.BigEndian.Uint32(b[i:]))
		return i + 4, nil
	case 0xcf:
		if !need(8) {
			return len(b) + 1, errTruncated
		}
		u := binary.BigEndian.Uint64(b[i:])
		if u > math.MaxInt64 {
			v.kind, v.u = mkUint, u
		} else {
			v.kind, v.i = mkInt, int64(u)
		}
		return i + 8, nil
	case 0xd0:
		if !need(1) {
			return len(b) + 1, errTruncated
		}
		v.kind, v.i = mkInt, int64(int8(b[i]))
		return i + 1, nil
	case 0xd1:
		if !need(2) {
			return len(b) + 1, errTruncated
		}
		v.kind, v.i = mkInt, int64(int16(binary.BigEndian.Uint16(b[i:])))
		return i + 2, nil
	case 0xd2:
		if !need(4) {
			return len(b) + 1, errTruncated
		}
		v.kind, v.i = mkInt, int64(int32(binary.BigEndian.Uint32(b[i:])))
		return i + 4, nil
	case 0xd3:
		if !need(8) {
			return len(b) + 1, errTruncated
		}
		v.kind, v.i = mkInt, int64(binary.BigEndian.Uint64(b[i:]))
		return i + 8, nil
	case 0xdc:
		if !need(2) {
			return len(b) + 1, errTruncated
		}
		v.kind, v.n = mkArray, int64(binary.BigEndian.Uint16(b[i:]))
		return i + 2, nil
	case 0xdd:
		if !need(4) {
			return len(b) + 1, errTruncated
		}
		v.kind, v.n = mkArray, int64(binary.BigEndian.Uint32(b[i:]))
		return i + 4, nil
	case 0xde:
		if !need(2) {
			return len(b) + 1, errTruncated
		}
		v.kind, v.n = mkMap, int64(binary.BigEndian.Uint16(b[i:]))
		return i + 2, nil
	case 0xdf:
		if !need(4) {
			return len(b) + 1, errTruncated
		}
		v.kind, v.n = mkMap, int64(binary.BigEndian.Uint32(b[i:]))
		return i + 4, nil
	}
	return i, errBadByte // unreachable: every byte value is covered above
}

func kindOf(c byte) mkind {
	if c >= 0xd9 {
		return mkStr
	}
	return mkBin
}

// payload slices n bytes at b[i:] as v's raw payload.
func payload(b []byte, i int, n uint64, k mkind, v *mval) (int, error) {
	v.kind = k
	if uint64(len(b)-i) < n {
		end := uint64(i) + n
		if end > math.MaxInt32 {
			end = math.MaxInt32
		}
		return int(end), errTruncated
	}
	end := i + int(n)
	v.raw = b[i:end:end]
	return end, nil
}

// skip returns the index after the complete element starting at b[i].
// It is iterative (no recursion), so nesting depth costs nothing.
func skip(b []byte, i int) (int, error) {
	var v mval
	for remaining := int64(1); remaining > 0; remaining-- {
		j, err := head(b, i, &v)
		if err != nil {
			return j, err
		}
		i = j
		switch v.kind {
		case mkArray:
			remaining += v.n
		case mkMap:
			remaining += 2 * v.n
		}
	}
	return i, nil
}

// scanner finds the end of one top-level element in a growing buffer. It
// is resumable: after it reports that more bytes are needed, calling it
// again with the same (longer) buffer continues where it stopped, so a
// large frame arriving in small reads is scanned once.
type scanner struct {
	off       int   // bytes of complete elements consumed
	remaining int64 // elements still to read; 0 before the first call
	started   bool
	need      int // when incomplete: the frame is known to be at least this long
}

// scan reports whether b holds a complete element; its length is s.off.
func (s *scanner) scan(b []byte) (bool, error) {
	if !s.started {
		s.started, s.remaining = true, 1
	}
	var v mval
	for s.remaining > 0 {
		j, err := head(b, s.off, &v)
		if errors.Is(err, errTruncated) {
			s.need = j
			return false, nil
		}
		if err != nil {
			return false, err
		}
		s.off = j
		s.remaining--
		switch v.kind {
		case mkArray:
			s.remaining += v.n
		case mkMap:
			s.remaining += 2 * v.n
		}
	}
	return true, nil
}
