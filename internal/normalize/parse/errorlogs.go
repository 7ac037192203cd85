package parse

import (
	"bytes"
	"time"
)

// NginxErrorParser parses nginx error_log lines (ngx_log_error_core):
//
//	2026/11/25 21:43:45 [error] 19459#19459: *7 open() "/x" failed (2: No such file or directory), client: 127.0.0.1, server: logs.test, request: "GET /x HTTP/1.1", host: "127.0.0.1:18081"
//
// The message is everything after "pid#tid: " and is kept whole (including
// the "*N" connection number and the context pairs). The zero value is ready
// to use and the parser is stateless.
type NginxErrorParser struct{}

// Name implements Parser.
func (*NginxErrorParser) Name() string { return "nginx-error" }

var (
	errlogKeyPid          = []byte("pid")
	errlogKeyTid          = []byte("tid")
	errlogKeyConnectionID = []byte("connection_id")
	errlogKeyClientPort   = []byte("client_port")
)

// Parse implements Parser.
func (*NginxErrorParser) Parse(line []byte, f *Fields) bool {
	if len(line) < 30 || line[4] != '/' || !accessDigit(line[0]) {
		return false
	}
	// Shape first (cheap), then the time: "YYYY/MM/DD HH:MM:SS[.frac] [level]".
	n := 19
	if line[n] == '.' {
		n++
		for n < len(line) && accessDigit(line[n]) {
			n++
		}
	}
	if n+3 >= len(line) || line[n] != ' ' || line[n+1] != '[' {
		return false
	}
	i := n + 2
	rb := bytes.IndexByte(line[i:], ']')
	if rb < 4 || rb > 6 {
		return false
	}
	level := line[i : i+rb]
	if !errlogNginxLevel(level) {
		return false
	}
	t, tn, ok := Slashed(line)
	if !ok || tn != n {
		return false
	}
	i += rb + 1
	// " pid#tid: "
	if i+5 > len(line) || line[i] != ' ' {
		return false
	}
	i++
	ps := i
	for i < len(line) && accessDigit(line[i]) {
		i++
	}
	pid := line[ps:i]
	if len(pid) == 0 || i >= len(line) || line[i] != '#' {
		return false
	}
	i++
	ts := i
	for i < len(line) && accessDigit(line[i]) {
		i++
	}
	tid := line[ts:i]
	if len(tid) == 0 || i >= len(line) || line[i] != ':' {
		return false
	}
	i++
	if i < len(line) {
		if line[i] != ' ' {
			return false
		}
		i++
	}
	msg := line[i:]

	f.Format = "nginx-error"
	f.Time, f.HasTime, f.TimeLocal = t, true, true
	f.Level = level
	f.Message = Str(msg)
	f.AddExtra(errlogKeyPid, accessNumOrStr(pid))
	f.AddExtra(errlogKeyTid, accessNumOrStr(tid))
	if len(msg) > 2 && msg[0] == '*' {
		j := 1
		for j < len(msg) && accessDigit(msg[j]) {
			j++
		}
		if j > 1 && (j == len(msg) || msg[j] == ' ') {
			f.AddExtra(errlogKeyConnectionID, accessNumOrStr(msg[1:j]))
		}
	}
	errlogNginxContext(msg, f)
	return true
}

func errlogNginxLevel(b []byte) bool {
	switch string(b) {
	case "debug", "info", "notice", "warn", "error", "crit", "alert", "emerg":
		return true
	}
	return false
}

// errlogNginxContext finds the context nginx appends to a message
// (ngx_http_log_error, ngx_stream_log_error, ngx_mail_log_error):
//
//	, client: C, server: S, request: "R", subrequest: "R", upstream: "U", host: "H", referrer: "F"
//	, udp client: C, server: S, upstream: "U", bytes from/to client:0/0, ...
//
// Candidates are tried left to right; the first that parses cleanly to the
// end of the line wins, so ", client: " inside message text or inside a
// quoted value does not derail it.
//
// nginx quotes request/upstream/host/referrer raw (%V, no escaping): a
// value containing `", ` can still confuse the split; the message itself is
// always kept whole.
func errlogNginxContext(msg []byte, f *Fields) {
	if !errlogNginxContextAt(msg, []byte(", client: "), f) {
		errlogNginxContextAt(msg, []byte(", udp client: "), f)
	}
}

func errlogNginxContextAt(msg, lead []byte, f *Fields) bool {
	var pairs [errlogMaxPairs][2][]byte
	off := 0
	// At most a few candidates: keeps adversarial lines linear.
	for tries := 0; tries < 8 && off < len(msg); tries++ {
		k := bytes.Index(msg[off:], lead)
		if k < 0 {
			return false
		}
		start := off + k + 2
		off = start
		if n, ok := errlogNginxPairs(msg[start:], &pairs); ok {
			for _, kv := range pairs[:n] {
				errlogNginxSet(kv[0], kv[1], f)
			}
			return true
		}
	}
	return false
}

// errlogMaxPairs bounds the context pairs (nginx writes at most ~8).
const errlogMaxPairs = 16

// errlogNginxPairs splits "key: value, key: value..." up to the end of b
// into pairs; it fails unless the whole of b has that shape.
func errlogNginxPairs(b []byte, pairs *[errlogMaxPairs][2][]byte) (n int, ok bool) {
	i := 0
	for {
		ks := i
		for i < len(b) && (b[i] >= 'a' && b[i] <= 'z' || b[i] == ' ' || b[i] == '/' || b[i] == '_') {
			i++
		}
		if i == ks || i >= len(b) || b[i] != ':' || n == errlogMaxPairs {
			return 0, false
		}
		key := b[ks:i]
		i++
		if i < len(b) && b[i] == ' ' {
			i++
		}
		var val []byte
		if i < len(b) && b[i] == '"' {
			// Quoted values are raw (%V): the closing quote is the one
			// followed by ", " or the end of the line.
			vs := i + 1
			j := vs
			for {
				q := bytes.IndexByte(b[j:], '"')
				if q < 0 {
					return 0, false
				}
				j += q
				if j+1 == len(b) || (j+2 < len(b) && b[j+1] == ',' && b[j+2] == ' ') {
					break
				}
				j++
			}
			val = b[vs:j]
			i = j + 1
		} else {
			// Bare values (addresses, names) hold no space or quote.
			vs := i
			for i < len(b) && b[i] != ',' {
				if b[i] == '"' || b[i] == ' ' {
					return 0, false
				}
				i++
			}
			val = b[vs:i]
		}
		pairs[n] = [2][]byte{key, val}
		n++
		if i == len(b) {
			return n, true
		}
		if b[i] != ',' || i+2 >= len(b) || b[i+1] != ' ' {
			return 0, false
		}
		i += 2
	}
}

var (
	errlogKeyServer   = []byte("server")
	errlogKeyUpstream = []byte("upstream")
)

func errlogNginxSet(key, val []byte, f *Fields) {
	switch string(key) {
	case "client", "udp client":
		if len(val) > 0 && !f.Request.IP.Set() {
			f.Request.IP = Str(val)
		}
	case "request":
		if !f.Request.Method.Set() && !accessRequestLine(val, f) {
			f.AddExtra(accessKeyRequest, Str(val))
		}
	case "host":
		if !f.Request.Host.Set() {
			f.Request.Host = Str(val)
		}
	case "referrer":
		if !f.Request.Referer.Set() {
			f.Request.Referer = Str(val)
		}
	case "server":
		if len(val) > 0 {
			f.AddExtra(errlogKeyServer, Str(val))
		}
	case "upstream":
		f.AddExtra(errlogKeyUpstream, Str(val))
	default:
		// Single-word keys (subrequest, login, ...) are kept; multi-word
		// ones ("bytes from/to client") have no usable key without copying.
		if bytes.IndexByte(key, ' ') < 0 && bytes.IndexByte(key, '/') < 0 {
			f.AddExtra(key, Str(val))
		}
	}
}

// ApacheErrorParser parses Apache httpd error_log lines: the 2.4 default
// ErrorLogFormat
//
//	[Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 35708:tid 4328636416] [client 72.15.99.187:1234] AH00128: File does not exist: /x
//
// and the 2.2 format "[Wed Oct 11 14:32:52 2000] [error] [client 1.2.3.4] msg".
// The zero value is ready to use and the parser is stateless.
type ApacheErrorParser struct{}

// Name implements Parser.
func (*ApacheErrorParser) Name() string { return "apache-error" }

var errlogKeyReferer = []byte(", referer: ")

// Parse implements Parser.
func (*ApacheErrorParser) Parse(line []byte, f *Fields) bool {
	if len(line) < 28 || line[0] != '[' {
		return false
	}
	rb := bytes.IndexByte(line, ']')
	if rb < 20 || rb > 40 {
		return false
	}
	t, ok := errlogApacheTime(line[1:rb])
	if !ok {
		return false
	}
	i := rb + 1
	if i+3 >= len(line) || line[i] != ' ' || line[i+1] != '[' {
		return false
	}
	i += 2
	lb := bytes.IndexByte(line[i:], ']')
	if lb <= 0 || lb > 64 {
		return false
	}
	ml := line[i : i+lb]
	var module, level []byte
	if c := bytes.LastIndexByte(ml, ':'); c >= 0 {
		module, level = ml[:c], ml[c+1:]
		for _, ch := range module {
			if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || accessDigit(ch) || ch == '_' || ch == '-' || ch == '.') {
				return false
			}
		}
	} else {
		level = ml
	}
	if !errlogApacheLevel(level) {
		return false
	}
	i += lb + 1
	v24 := module != nil
	var pid, tid []byte
	if bytes.HasPrefix(line[i:], []byte(" [pid ")) {
		j := i + 6
		ps := j
		for j < len(line) && accessDigit(line[j]) {
			j++
		}
		pid = line[ps:j]
		if len(pid) == 0 || j >= len(line) {
			return false
		}
		if bytes.HasPrefix(line[j:], []byte(":tid ")) {
			j += 5
			ts := j
			for j < len(line) && accessDigit(line[j]) {
				j++
			}
			tid = line[ts:j]
			if len(tid) == 0 {
				return false
			}
		}
		if j >= len(line) || line[j] != ']' {
			return false
		}
		i = j + 1
		v24 = true
	}
	if i < len(line) {
		if line[i] != ' ' {
			return false
		}
		i++
	}
	msg := line[i:]

	f.Format = "apache-error"
	f.Time, f.HasTime, f.TimeLocal = t, true, true
	f.Level = level
	if len(module) > 0 {
		f.Logger = Str(module)
	}
	if pid != nil {
		f.AddExtra(errlogKeyPid, accessNumOrStr(pid))
	}
	if tid != nil {
		f.AddExtra(errlogKeyTid, accessNumOrStr(tid))
	}

	// "[client addr]" leads the message, or follows "%F: %E: " such as
	// "(13)Permission denied: [client 1.2.3.4:5] AH01276: ...".
	body := msg
	if ci := bytes.Index(msg, []byte("[client ")); ci == 0 || (ci > 0 && ci < 256 && msg[ci-1] == ' ' && ci >= 2 && msg[ci-2] == ':') {
		if ce := bytes.IndexByte(msg[ci:], ']'); ce > 8 {
			addr := msg[ci+8 : ci+ce]
			if accessIsHost(addr) {
				errlogApacheClient(addr, v24, f)
				body = msg[ci+ce+1:]
				if len(body) > 0 && body[0] == ' ' {
					body = body[1:]
				}
				if ci == 0 {
					msg = body
				}
			}
		}
	}
	f.Message = Str(msg)
	if code := errlogAHCode(body); code != nil {
		f.Error.Code = Str(code)
	}
	if ri := bytes.LastIndex(body, errlogKeyReferer); ri >= 0 {
		ref := body[ri+len(errlogKeyReferer):]
		if len(ref) > 0 && bytes.IndexByte(ref, ' ') < 0 {
			f.Request.Referer = Str(ref)
		}
	}
	return true
}

// errlogApacheClient splits "ip:port" (2.4 always logs the port; IPv6 is
// written without brackets, "::1:58619") into Request.IP and client_port.
func errlogApacheClient(addr []byte, withPort bool, f *Fields) {
	ip := addr
	if withPort {
		if c := bytes.LastIndexByte(addr, ':'); c > 0 && c < len(addr)-1 {
			port := addr[c+1:]
			allDigits := true
			for _, d := range port {
				if !accessDigit(d) {
					allDigits = false
					break
				}
			}
			if allDigits {
				ip = addr[:c]
				if len(ip) > 2 && ip[0] == '[' && ip[len(ip)-1] == ']' {
					ip = ip[1 : len(ip)-1]
				}
				f.AddExtra(errlogKeyClientPort, accessNumOrStr(port))
			}
		}
	}
	f.Request.IP = Str(ip)
}

// errlogAHCode returns "AHnnnnn" when the message (after an optional
// "(errno)text: " prefix) starts with an Apache message code.
func errlogAHCode(b []byte) []byte {
	for k := 0; k < 2; k++ {
		if len(b) >= 8 && b[0] == 'A' && b[1] == 'H' && b[7] == ':' {
			for _, c := range b[2:7] {
				if !accessDigit(c) {
					return nil
				}
			}
			return b[:7]
		}
		if len(b) == 0 || b[0] != '(' {
			return nil
		}
		c := bytes.Index(b, []byte(": "))
		if c < 0 || c > 200 {
			return nil
		}
		b = b[c+2:]
	}
	return nil
}

func errlogApacheLevel(b []byte) bool {
	switch string(b) {
	case "emerg", "alert", "crit", "error", "warn", "notice", "info", "debug",
		"trace1", "trace2", "trace3", "trace4", "trace5", "trace6", "trace7", "trace8":
		return true
	}
	return false
}

// errlogApacheTime parses the whole of "Wed Oct 11 14:32:52.123456 2000"
// (apr_ctime, with the %{u}t microseconds) or an ISO "%{cu}t" time.
func errlogApacheTime(b []byte) (t time.Time, ok bool) {
	if len(b) > 0 && accessDigit(b[0]) {
		tt, n, _, ok := ISO(b)
		if !ok || n != len(b) {
			return t, false
		}
		return tt, true
	}
	if len(b) < 24 || b[3] != ' ' || b[7] != ' ' || b[10] != ' ' {
		return t, false
	}
	for _, c := range b[:3] {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return t, false
		}
	}
	mo, ok := Month(b[4:])
	if !ok {
		return t, false
	}
	var d int
	if b[8] == ' ' {
		d, ok = digits(b[9:], 1)
	} else {
		d, ok = digits(b[8:], 2)
	}
	if !ok || d < 1 || d > 31 {
		return t, false
	}
	dur, n, ok := Clock(b[11:])
	if !ok {
		return t, false
	}
	i := 11 + n
	if i+5 != len(b) || b[i] != ' ' {
		return t, false
	}
	y, ok := digits(b[i+1:], 4)
	if !ok {
		return t, false
	}
	return time.Date(y, mo, d, 0, 0, 0, 0, time.UTC).Add(dur), true
}
