package jsonx

import (
	"encoding/binary"
	"strconv"
	"unicode/utf8"
)

// Append-style JSON encoding helpers. Every string goes through
// appendString, which makes correct JSON from any bytes: invalid UTF-8 becomes
// U+FFFD, control characters are escaped, and U+2028/2029 are escaped so the
// output is also safe JavaScript.

const hexDigits = "0123456789abcdef"

// needsEscape marks ASCII bytes that cannot appear raw in a JSON string.
var needsEscape = func() (t [256]bool) {
	for i := 0; i < 0x20; i++ {
		t[i] = true
	}
	t['"'] = true
	t['\\'] = true
	for i := 0x80; i < 0x100; i++ {
		t[i] = true // non-ASCII: validated on the slow path
	}
	return t
}()

// AppendString appends b as a quoted JSON string.
func AppendString(dst []byte, b []byte) []byte {
	dst = append(dst, '"')
	dst = AppendStringBody(dst, b)
	return append(dst, '"')
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// clean8 reports whether none of the 8 bytes in w needs escaping or UTF-8
// validation: no byte >= 0x80, < 0x20, '"' or '\\' (SWAR: a borrow sets
// the high bit of a byte that matched).
func clean8(w uint64) bool {
	quote, bslash := w^(lsb*'"'), w^(lsb*'\\')
	return (w|(w-lsb*0x20)&^w|(quote-lsb)&^quote|(bslash-lsb)&^bslash)&msb == 0
}

// AppendStringBody appends the escaped content of b without quotes.
func AppendStringBody(dst []byte, b []byte) []byte {
	start := 0
	for i := 0; i < len(b); {
		for i+8 <= len(b) && clean8(binary.LittleEndian.Uint64(b[i:])) {
			i += 8
		}
		if i >= len(b) {
			break
		}
		c := b[i]
		if !needsEscape[c] {
			i++
			continue
		}
		if c >= 0x80 {
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, b[start:i]...)
				dst = append(dst, `\ufffd`...)
				i++
				start = i
				continue
			}
			if r == '\u2028' || r == '\u2029' {
				dst = append(dst, b[start:i]...)
				dst = append(dst, `\u202`...)
				dst = append(dst, hexDigits[r&0xF])
				i += size
				start = i
				continue
			}
			i += size
			continue
		}
		dst = append(dst, b[start:i]...)
		switch c {
		case '"':
			dst = append(dst, '\\', '"')
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
		}
		i++
		start = i
	}
	return append(dst, b[start:]...)
}

// AppendStr is AppendString for a Go string.
func AppendStr(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		// fast path for the common all-safe string
		c := s[i]
		if needsEscape[c] {
			return AppendString(dst[:len(dst)-1], []byte(s))
		}
		i++
	}
	dst = append(dst, s...)
	return append(dst, '"')
}

// AppendKey appends `"key":` for a constant, known-safe key.
func AppendKey(dst []byte, key string) []byte {
	dst = append(dst, '"')
	dst = append(dst, key...)
	return append(dst, '"', ':')
}

// AppendRawJSON appends a gjson-validated JSON value, repairing strings that
// hold invalid UTF-8 or raw control bytes (gjson validates structure only).
func AppendRawJSON(dst []byte, raw []byte) []byte {
	clean := true
	for _, c := range raw {
		if c < 0x20 || c >= 0x80 {
			clean = false
			break
		}
	}
	if clean {
		return append(dst, raw...)
	}
	inStr := false
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case !inStr:
			if c == '"' {
				inStr = true
			}
			if c < 0x20 {
				// whitespace between tokens: keep as a space
				dst = append(dst, ' ')
				i++
				continue
			}
			dst = append(dst, c)
			i++
		case c == '\\' && i+1 < len(raw):
			dst = append(dst, c, raw[i+1])
			i += 2
		case c == '"':
			inStr = false
			dst = append(dst, c)
			i++
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			i++
		case c >= 0x80:
			r, size := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, `\ufffd`...)
				i++
				continue
			}
			dst = append(dst, raw[i:i+size]...)
			i += size
		default:
			dst = append(dst, c)
			i++
		}
	}
	return dst
}

// AppendFloat appends a float the way JSON expects (no exponent for the
// usual ranges, no trailing zeros).
func AppendFloat(dst []byte, f float64) []byte {
	return strconv.AppendFloat(dst, f, 'f', -1, 64)
}
