package forward

import (
	"encoding/base64"
	"encoding/binary"
	"math"
	"strconv"
	"time"

	"github.com/starmates/logshipd/internal/jsonx"
)

// Append-style msgpack -> JSON encoding. The output is always valid JSON
// whatever the input bytes: invalid UTF-8 becomes U+FFFD, control
// characters are escaped, NaN and infinities become null, and values nested
// deeper than maxDepth become null.

const maxDepth = 64

// appendJSONString appends s as a JSON string literal (jsonx rules:
// invalid UTF-8 becomes U+FFFD, control characters are escaped).
func appendJSONString(dst, s []byte) []byte { return jsonx.AppendString(dst, s) }

// appendJSONStringS is appendJSONString for a string.
func appendJSONStringS(dst []byte, s string) []byte { return jsonx.AppendStr(dst, s) }

// appendFloat writes f the way encoding/json does.
func appendFloat(dst []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	n := len(dst)
	dst = strconv.AppendFloat(dst, f, format, -1, bits)
	if format == 'e' {
		// clean up e-09 to e-9
		m := len(dst) - n
		if m >= 4 && dst[len(dst)-4] == 'e' && dst[len(dst)-3] == '-' && dst[len(dst)-2] == '0' {
			dst[len(dst)-2] = dst[len(dst)-1]
			dst = dst[:len(dst)-1]
		}
	}
	return dst
}

// appendTime writes t as an RFC 3339 UTC string with nanoseconds.
func appendTime(dst []byte, t time.Time) []byte {
	dst = append(dst, '"')
	dst = t.UTC().AppendFormat(dst, "2006-01-02T15:04:05.000000000Z")
	return append(dst, '"')
}

// extTime decodes the time extensions: Fluentd EventTime (type 0, 8 bytes)
// and the msgpack timestamp (type -1, 4, 8 or 12 bytes).
func extTime(ext int8, raw []byte) (time.Time, bool) {
	switch {
	case ext == 0 && len(raw) == 8:
		return time.Unix(int64(binary.BigEndian.Uint32(raw)), int64(binary.BigEndian.Uint32(raw[4:]))), true
	case ext == -1 && len(raw) == 4:
		return time.Unix(int64(binary.BigEndian.Uint32(raw)), 0), true
	case ext == -1 && len(raw) == 8:
		v := binary.BigEndian.Uint64(raw)
		return time.Unix(int64(v&(1<<34-1)), int64(v>>34)), true
	case ext == -1 && len(raw) == 12:
		return time.Unix(int64(binary.BigEndian.Uint64(raw[4:])), int64(binary.BigEndian.Uint32(raw))), true
	}
	return time.Time{}, false
}

// appendValue appends the element at b[i] as JSON and returns the index
// after it. Errors are only errTruncated, errBadByte and errKey (a map key
// that is an array, map or extension).
func appendValue(dst, b []byte, i, depth int) ([]byte, int, error) {
	var v mval
	j, err := head(b, i, &v)
	if err != nil {
		return dst, j, err
	}
	switch v.kind {
	case mkNil:
		dst = append(dst, "null"...)
	case mkBool:
		dst = strconv.AppendBool(dst, v.b)
	case mkInt:
		dst = strconv.AppendInt(dst, v.i, 10)
	case mkUint:
		dst = strconv.AppendUint(dst, v.u, 10)
	case mkFloat:
		dst = appendFloat(dst, v.f, v.bits)
	case mkStr, mkBin:
		dst = appendJSONString(dst, v.raw)
	case mkExt:
		if t, ok := extTime(v.ext, v.raw); ok {
			dst = appendTime(dst, t)
		} else {
			dst = append(dst, '"')
			dst = base64.StdEncoding.AppendEncode(dst, v.raw)
			dst = append(dst, '"')
		}
	case mkArray, mkMap:
		if depth >= maxDepth {
			// Too deep: skip the subtree and write null.
			end, err := skip(b, i)
			if err != nil {
				return dst, end, err
			}
			return append(dst, "null"...), end, nil
		}
		if v.kind == mkArray {
			dst = append(dst, '[')
			for k := int64(0); k < v.n; k++ {
				if k > 0 {
					dst = append(dst, ',')
				}
				if dst, j, err = appendValue(dst, b, j, depth+1); err != nil {
					return dst, j, err
				}
			}
			return append(dst, ']'), j, nil
		}
		dst = append(dst, '{')
		for k := int64(0); k < v.n; k++ {
			if k > 0 {
				dst = append(dst, ',')
			}
			if dst, j, _, err = appendKey(dst, b, j); err != nil {
				return dst, j, err
			}
			dst = append(dst, ':')
			if dst, j, err = appendValue(dst, b, j, depth+1); err != nil {
				return dst, j, err
			}
		}
		return append(dst, '}'), j, nil
	}
	return dst, j, nil
}

// appendKey appends the map key at b[i] as a JSON string and also returns
// the key's bytes when it is a str or bin (nil otherwise). Scalar keys
// other than strings are written as their text.
func appendKey(dst, b []byte, i int) ([]byte, int, []byte, error) {
	var v mval
	j, err := head(b, i, &v)
	if err != nil {
		return dst, j, nil, err
	}
	switch v.kind {
	case mkStr, mkBin:
		return appendJSONString(dst, v.raw), j, v.raw, nil
	case mkNil:
		return append(dst, `"null"`...), j, nil, nil
	case mkBool:
		dst = append(dst, '"')
		dst = strconv.AppendBool(dst, v.b)
	case mkInt:
		dst = append(dst, '"')
		dst = strconv.AppendInt(dst, v.i, 10)
	case mkUint:
		dst = append(dst, '"')
		dst = strconv.AppendUint(dst, v.u, 10)
	case mkFloat:
		dst = append(dst, '"')
		dst = appendFloat(dst, v.f, v.bits)
	default:
		return dst, j, nil, errKey
	}
	return append(dst, '"'), j, nil, nil
}
