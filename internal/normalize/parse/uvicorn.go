package parse

import (
	"bytes"
	"time"
)

// uvicorn's formatters (uvicorn/logging.py) prefix every line with
// "%(levelprefix)s " where levelprefix = levelname + ":" + " "*(8-len(levelname)),
// so the message always starts at column 10:
//
//	INFO:     Started server process [22052]
//	WARNING:  Invalid HTTP request received.
//	CRITICAL: ...
//
// With use_colors the level name is wrapped in SGR codes
// ("\x1b[32mINFO\x1b[0m:     ..."); the padding is computed on the plain
// name, so both forms are recognised.

var uviLevels = [...]string{"TRACE", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}

// uviLevelName returns the uvicorn level name that b starts with.
func uviLevelName(b []byte) (string, bool) {
	if len(b) < 4 {
		return "", false
	}
	var name string
	switch b[0] {
	case 'T':
		name = uviLevels[0]
	case 'D':
		name = uviLevels[1]
	case 'I':
		name = uviLevels[2]
	case 'W':
		name = uviLevels[3]
	case 'E':
		name = uviLevels[4]
	case 'C':
		name = uviLevels[5]
	default:
		return "", false
	}
	if len(b) < len(name) || string(b[:len(name)]) != name {
		return "", false
	}
	return name, true
}

// uviLevelPrefix matches "%(levelprefix)s " at the start of b and returns
// the level name (a slice of b) and the offset of the message.
func uviLevelPrefix(b []byte) (level []byte, off int, ok bool) {
	i := 0
	if len(b) > 0 && b[0] == 0x1b {
		// "\x1b[<params>m" NAME "\x1b[0m"
		if len(b) < 3 || b[1] != '[' {
			return nil, 0, false
		}
		i = 2
		for i < len(b) && i < 16 && (accessDigit(b[i]) || b[i] == ';') {
			i++
		}
		if i >= len(b) || b[i] != 'm' {
			return nil, 0, false
		}
		i++
	}
	name, ok := uviLevelName(b[i:])
	if !ok {
		return nil, 0, false
	}
	level = b[i : i+len(name)]
	i += len(name)
	if i > len(name) { // coloured: expect the reset
		if !bytes.HasPrefix(b[i:], []byte("\x1b[0m")) {
			return nil, 0, false
		}
		i += 4
	}
	if i >= len(b) || b[i] != ':' {
		return nil, 0, false
	}
	i++
	pad := 9 - len(name)
	if len(b) < i+pad {
		return nil, 0, false
	}
	for k := 0; k < pad; k++ {
		if b[i+k] != ' ' {
			return nil, 0, false
		}
	}
	return level, i + pad, true
}

// UvicornParser parses uvicorn's default formatter "%(levelprefix)s %(message)s".
//
// It also accepts uvicorn access lines (they have the same prefix): the
// detection order tries UvicornAccessParser first, which extracts the HTTP
// fields, so this parser does not need to exclude them. The padding must be
// exactly what uvicorn writes ("INFO:" + 5 spaces, "WARNING:" + 2 spaces),
// so "WARNING: text" with one space is not taken. The zero value is ready to
// use and the parser is stateless.
type UvicornParser struct{}

// Name implements Parser.
func (*UvicornParser) Name() string { return "uvicorn" }

// Parse implements Parser.
func (*UvicornParser) Parse(line []byte, f *Fields) bool {
	if len(line) < 10 {
		return false
	}
	c := line[0]
	if !(c >= 'C' && c <= 'W') && c != 0x1b {
		return false
	}
	level, off, ok := uviLevelPrefix(line)
	if !ok {
		return false
	}
	msg := line[off:]
	if len(msg) > 0 && (msg[0] == ' ' || msg[0] == '\t') {
		return false // more padding than uvicorn writes
	}
	f.Format = "uvicorn"
	f.Level = level
	f.Message = Str(msg)
	return true
}

// UvicornAccessParser parses uvicorn's access log line
//
//	INFO:     127.0.0.1:44104 - "GET /health HTTP/1.1" 200 OK
//
// (uvicorn.logging.AccessFormatter; the message is
// '%s - "%s %s HTTP/%s" %d' with the status followed by its reason phrase),
// the same message written through logging.basicConfig
//
//	INFO:uvicorn.access:127.0.0.1:44104 - "GET / HTTP/1.1" 200
//
// and through gunicorn's formatter (uvicorn worker under gunicorn)
//
//	[2024-01-01 12:00:00 +0000] [12] [INFO] 127.0.0.1:1234 - "GET / HTTP/1.1" 200
//
// The zero value is ready to use and the parser is stateless.
type UvicornAccessParser struct{}

// Name implements Parser.
func (*UvicornAccessParser) Name() string { return "uvicorn-access" }

// Parse implements Parser.
func (*UvicornAccessParser) Parse(line []byte, f *Fields) bool {
	if len(line) < 24 {
		return false
	}
	var (
		level, logger, pid, msg []byte
		t                       time.Time
		hasTime, local          bool
	)
	switch c := line[0]; {
	case c == '[':
		// gunicorn "[%Y-%m-%d %H:%M:%S %z] [pid] [LEVEL] "
		tt, n, loc, ok := uviGunicornTime(line[1:])
		if !ok {
			return false
		}
		i := 1 + n
		if !bytes.HasPrefix(line[i:], []byte("] [")) {
			return false
		}
		i += 3
		ps := i
		for i < len(line) && accessDigit(line[i]) {
			i++
		}
		pid = line[ps:i]
		if len(pid) == 0 || !bytes.HasPrefix(line[i:], []byte("] [")) {
			return false
		}
		i += 3
		name, ok := uviLevelName(line[i:])
		if !ok {
			return false
		}
		level = line[i : i+len(name)]
		i += len(name)
		if !bytes.HasPrefix(line[i:], []byte("] ")) {
			return false
		}
		msg = line[i+2:]
		t, hasTime, local = tt, true, loc
	case c >= 'C' && c <= 'W' || c == 0x1b:
		if lv, off, ok := uviLevelPrefix(line); ok {
			level, msg = lv, line[off:]
			break
		}
		// logging.basicConfig: "LEVEL:logger:message"
		name, ok := uviLevelName(line)
		if !ok || len(line) <= len(name) || line[len(name)] != ':' {
			return false
		}
		level = line[:len(name)]
		rest := line[len(name)+1:]
		k := 0
		for k < len(rest) && k < 128 && (rest[k] >= 'a' && rest[k] <= 'z' || rest[k] >= 'A' && rest[k] <= 'Z' || accessDigit(rest[k]) || rest[k] == '.' || rest[k] == '_' || rest[k] == '-') {
			k++
		}
		if k == 0 || k >= len(rest) || rest[k] != ':' {
			return false
		}
		logger, msg = rest[:k], rest[k+1:]
	default:
		return false
	}

	// CLIENT - "REQUEST" STATUS[ PHRASE]
	d := bytes.IndexByte(msg, ' ')
	if d < 0 || d > 80 || len(msg) < d+4 || msg[d+1] != '-' || msg[d+2] != ' ' || msg[d+3] != '"' {
		return false
	}
	client := msg[:d]
	if len(client) > 0 && !accessIsHost(client) {
		return false
	}
	q := bytes.LastIndexByte(msg, '"')
	if q <= d+4 {
		return false
	}
	req := msg[d+4 : q]
	rest := msg[q+1:]
	if len(rest) < 4 || rest[0] != ' ' || !accessDigit(rest[1]) || !accessDigit(rest[2]) || !accessDigit(rest[3]) {
		return false
	}
	status := rest[1:4]
	if len(rest) > 4 {
		if rest[4] != ' ' {
			return false
		}
		for _, ch := range rest[5:] {
			if ch < 0x20 || ch == 0x7f {
				return false
			}
		}
	}
	if !accessRequestLine(req, f) {
		return false
	}

	f.Format = "uvicorn-access"
	f.Level = level
	f.Message = Str(msg)
	if hasTime {
		f.Time, f.HasTime, f.TimeLocal = t, true, local
	}
	if logger != nil {
		f.Logger = Str(logger)
	}
	if pid != nil {
		f.AddExtra(errlogKeyPid, accessNumOrStr(pid))
	}
	if status[0] >= '1' {
		f.Response.Status = Num(status)
	}
	uviClient(client, f)
	return true
}

// uviClient splits uvicorn's "%s:%d" client address. IPv6 hosts are written
// without brackets ("::1:5000"); a bracketed "[::1]:5000" is accepted too.
func uviClient(c []byte, f *Fields) {
	if len(c) == 0 || (len(c) == 1 && c[0] == '-') {
		return
	}
	host := c
	var port []byte
	if k := bytes.LastIndexByte(c, ':'); k > 0 && k < len(c)-1 {
		p := c[k+1:]
		all := true
		for _, d := range p {
			if !accessDigit(d) {
				all = false
				break
			}
		}
		if all {
			host, port = c[:k], p
		}
	}
	if len(host) > 2 && host[0] == '[' && host[len(host)-1] == ']' {
		host = host[1 : len(host)-1]
	}
	f.Request.IP = Str(host)
	if port != nil {
		f.AddExtra(errlogKeyClientPort, accessNumOrStr(port))
	}
}

// uviGunicornTime parses gunicorn's "%Y-%m-%d %H:%M:%S %z" (zone optional).
func uviGunicornTime(b []byte) (t time.Time, n int, local bool, ok bool) {
	t, n, local, ok = ISO(b)
	if !ok {
		return t, 0, false, false
	}
	if local && n+1 < len(b) && b[n] == ' ' && (b[n+1] == '+' || b[n+1] == '-') {
		if off, zn, found := zone(b[n+1:]); found {
			return t.Add(-time.Duration(off) * time.Second), n + 1 + zn, false, true
		}
	}
	return t, n, local, true
}
