package loki

import (
	"strconv"
	"unicode/utf8"
)

// markerMax bounds the length of " [truncated N bytes]".
const markerMax = len(" [truncated ") + 10 + len(" bytes]")

func appendMarker(dst []byte, removed int) []byte {
	dst = append(dst, " [truncated "...)
	dst = strconv.AppendInt(dst, int64(removed), 10)
	return append(dst, " bytes]"...)
}

// truncateLine cuts line to at most limit bytes and returns it with the
// number of bytes removed. A JSON line stays valid JSON: its longest string
// values are shortened to a common length (water-filling, so a message and
// its @message twin keep equal shares), each ending in
// " [truncated N bytes]". When that cannot reach limit (a record of many
// short values, or not JSON), the line itself is cut at a UTF-8 boundary
// and the marker appended; that line is no longer valid JSON.
func truncateLine(line []byte, limit int) ([]byte, int) {
	if len(line) <= limit {
		return line, 0
	}
	if out, removed, ok := truncateJSONStrings(line, limit); ok {
		return out, removed
	}
	cut := max(limit-markerMax, 0)
	for cut > 0 && !utf8.RuneStart(line[cut]) {
		cut--
	}
	removed := len(line) - cut
	out := make([]byte, 0, limit)
	out = append(out, line[:cut]...)
	return appendMarker(out, removed), removed
}

type span struct{ start, end int } // string content, quotes excluded

func truncateJSONStrings(line []byte, limit int) ([]byte, int, bool) {
	spans, ok := stringValues(line)
	if !ok || len(spans) == 0 {
		return nil, 0, false
	}
	excess := len(line) - limit
	// gain(t): bytes saved by cutting every string longer than t+markerMax
	// to t bytes plus a marker. It does not grow with t.
	gain := func(t int) int {
		g := 0
		for _, sp := range spans {
			if l := sp.end - sp.start; l > t+markerMax {
				g += l - t - markerMax
			}
		}
		return g
	}
	if gain(0) < excess {
		return nil, 0, false
	}
	longest := 0
	for _, sp := range spans {
		longest = max(longest, sp.end-sp.start)
	}
	lo, hi := 0, longest // gain(lo) >= excess; find the largest such t
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if gain(mid) >= excess {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	t := lo
	out := make([]byte, 0, limit)
	prev, removed := 0, 0
	for _, sp := range spans {
		if sp.end-sp.start <= t+markerMax {
			continue
		}
		k := safeCut(line, sp.start, sp.end, t)
		out = append(out, line[prev:k]...)
		r := sp.end - k
		out = appendMarker(out, r)
		removed += r
		prev = sp.end
	}
	out = append(out, line[prev:]...)
	if len(out) > limit {
		return nil, 0, false
	}
	return out, removed, true
}

// safeCut returns the end of the longest prefix of the JSON string content
// b[s:e] of at most t bytes that splits neither an escape nor a UTF-8
// sequence.
func safeCut(b []byte, s, e, t int) int {
	k := s
	for k < e {
		n := 1
		switch {
		case b[k] == '\\':
			n = 2
			if k+1 < e && b[k+1] == 'u' {
				n = 6
			}
		case b[k] >= utf8.RuneSelf:
			_, n = utf8.DecodeRune(b[k:e])
		}
		if k+n-s > t {
			break
		}
		k += n
	}
	return k
}

// stringValues returns the spans of the string values (not the keys) of a
// JSON document, in order. ok is false when b is not a well-nested JSON
// object or array.
func stringValues(b []byte) (spans []span, ok bool) {
	var stack []byte
	expectKey := false
	started := false
	for i := 0; i < len(b); {
		switch c := b[i]; c {
		case ' ', '\t', '\n', '\r':
			i++
		case ',':
			expectKey = len(stack) > 0 && stack[len(stack)-1] == '{'
			i++
		case ':':
			expectKey = false
			i++
		case '{', '[':
			if len(stack) == 0 && started {
				return nil, false
			}
			started = true
			stack = append(stack, c)
			expectKey = c == '{'
			i++
		case '}', ']':
			if len(stack) == 0 || (c == '}') != (stack[len(stack)-1] == '{') {
				return nil, false
			}
			stack = stack[:len(stack)-1]
			expectKey = false
			i++
		case '"':
			if len(stack) == 0 {
				return nil, false
			}
			j := i + 1
			for j < len(b) && b[j] != '"' {
				if b[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(b) {
				return nil, false
			}
			if !expectKey {
				spans = append(spans, span{i + 1, j})
			}
			i = j + 1
		default:
			if len(stack) == 0 {
				return nil, false
			}
			i++
		}
	}
	return spans, started && len(stack) == 0
}
