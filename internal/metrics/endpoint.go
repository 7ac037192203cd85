package metrics

import (
	"strings"
)

// endpoints turns request paths into bounded route templates: configured
// templates first, then automatic id detection per segment.
type endpoints struct {
	templates []template
}

type template struct {
	raw  string
	segs []string // "" for a {name} placeholder
	rest bool     // the last placeholder is {name...}: it matches 1+ segments
}

// idLabel replaces a path segment that looks like an identifier.
const idLabel = "{id}"

func newEndpoints(templates []string) *endpoints {
	e := &endpoints{}
	for _, raw := range templates {
		t := template{raw: raw}
		trimmed := strings.Trim(raw, "/")
		if trimmed != "" {
			for _, s := range strings.Split(trimmed, "/") {
				if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
					if strings.HasSuffix(s, "...}") {
						t.rest = true
					}
					s = ""
				}
				t.segs = append(t.segs, s)
			}
		}
		e.templates = append(e.templates, t)
	}
	return e
}

// segments splits p into its non-empty segments, appending to dst.
func segments(dst []string, p string) []string {
	for len(p) > 0 {
		i := strings.IndexByte(p, '/')
		if i < 0 {
			dst = append(dst, p)
			break
		}
		if i > 0 {
			dst = append(dst, p[:i])
		}
		p = p[i+1:]
	}
	return dst
}

// normalize appends the endpoint label of path to dst and returns it with
// the API version found in the path ("" when none). The version is a
// substring of path. segs is scratch space.
func (e *endpoints) normalize(dst []byte, path string, segs []string) ([]byte, string, []string) {
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	segs = segments(segs[:0], path)
	version := ""
	for i, s := range segs {
		if i >= 3 {
			break
		}
		if isVersion(s) {
			version = s
			break
		}
	}
	for i := range e.templates {
		if e.templates[i].match(segs) {
			return append(dst, e.templates[i].raw...), version, segs
		}
	}
	if path == "*" { // OPTIONS *
		return append(dst, '*'), version, segs
	}
	if len(segs) == 0 {
		return append(dst, '/'), version, segs
	}
	for _, s := range segs {
		dst = append(dst, '/')
		if isIDSegment(s) {
			dst = append(dst, idLabel...)
		} else {
			dst = append(dst, s...)
		}
	}
	return dst, version, segs
}

func (t *template) match(segs []string) bool {
	n := len(t.segs)
	if t.rest {
		if len(segs) < n {
			return false
		}
	} else if len(segs) != n {
		return false
	}
	for i, s := range t.segs {
		if s != "" && s != segs[i] {
			return false
		}
	}
	return true
}

// isVersion reports a segment like v1, v2, v1beta1, v2.1.
func isVersion(s string) bool {
	if len(s) < 2 || len(s) > 12 || (s[0] != 'v' && s[0] != 'V') || !isDigit(s[1]) {
		return false
	}
	i := 2
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i < len(s) && s[i] == '.' { // v2.1
		i++
		if i == len(s) {
			return false
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		return i == len(s)
	}
	for i < len(s) && isLower(s[i]) { // v1beta1, v2alpha
		i++
	}
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i == len(s)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isLower(c byte) bool { return c >= 'a' && c <= 'z' }
func isLetter(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}
func isHexDigit(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// isIDSegment reports a path segment that identifies one object rather
// than naming a route: UUIDs, numbers, hex strings of 8+ characters, long
// random tokens (16+ characters mixing letters and digits), e-mail-like
// values, digit runs with separators (dates, versions of a document) and
// prefixed ids such as session_67890, workflow_7ba4ba or user-42.
func isIDSegment(s string) bool {
	n := len(s)
	if n > 64 || strings.IndexByte(s, '@') >= 0 {
		return true
	}
	if isUUID(s) {
		return true
	}
	var digits, letters, hex, other int
	for i := 0; i < n; i++ {
		c := s[i]
		switch {
		case isDigit(c):
			digits++
			hex++
		case isLetter(c):
			letters++
			if isHexDigit(c) {
				hex++
			}
		case c == '-' || c == '_' || c == '.' || c == ':' || c == ',' || c == '~' || c == '+' || c == '=':
		default:
			other++
		}
	}
	switch {
	case digits == n: // 12345
		return true
	case digits > 0 && letters == 0 && other == 0: // 2026-11-25, 1.2.3
		return true
	case hex == n && n >= 8: // deadbeef, 5f0c6e2a8b1d
		return true
	case n >= 16 && digits > 0 && letters > 0 && other == 0: // long random tokens
		return true
	}
	return isPrefixedID(s)
}

// isPrefixedID reports letters + '_' or '-' + an id-like suffix: digits,
// letters and digits mixed (not a version like v2), hex of 8+, or a UUID.
func isPrefixedID(s string) bool {
	i := 0
	for i < len(s) && isLetter(s[i]) {
		i++
	}
	if i == 0 || i >= len(s)-1 || (s[i] != '_' && s[i] != '-') {
		return false
	}
	suf := s[i+1:]
	if isUUID(suf) {
		return true
	}
	var digits, hex int
	for j := 0; j < len(suf); j++ {
		c := suf[j]
		switch {
		case isDigit(c):
			digits++
			hex++
		case isLetter(c):
			if isHexDigit(c) {
				hex++
			}
		default:
			return false
		}
	}
	if digits > 0 {
		return !isVersion(suf)
	}
	return hex == len(suf) && len(suf) >= 8
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return false
			}
		default:
			if !isHexDigit(s[i]) {
				return false
			}
		}
	}
	return true
}

// methods are the label values kept for request methods; anything else
// becomes "OTHER" (a method is client-controlled: unbounded).
var methods = [...]string{"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}

func normMethod(m string) string {
	for _, k := range methods {
		if strings.EqualFold(m, k) {
			return k
		}
	}
	return "OTHER"
}
