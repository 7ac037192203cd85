package parse

import (
	"bytes"
	"time"
)

// HAProxyParser parses HAProxy's HTTP and TCP log lines as HAProxy writes
// them to a raw destination (log stdout format raw, docker logs):
//
//	%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq [{%hr}] [{%hs}] %{+Q}r
//	10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {1wt.eu} {} "GET /index.html HTTP/1.1"
//	%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq        (option tcplog)
//
// The syslog parsers apply the same reading to the message of a record
// whose program is haproxy, so the usual syslog delivery is covered too.
//
// Mapping: the accept date (local time, with year and milliseconds) →
// Time; client ip → Request.IP; the request line → Request.Method/Path/
// Protocol; status → Response.Status; bytes read by the client →
// Response.Size; the total time (%Ta, or %Tt for TCP) in milliseconds →
// Request.Duration (when not -1); frontend, backend, server and the
// termination state → Extra "frontend", "backend", "server",
// "termination_state". The message is the log text. Stateless.
type HAProxyParser struct{}

// Name implements Parser.
func (*HAProxyParser) Name() string { return "haproxy" }

var (
	haKeyFrontend = []byte("frontend")
	haKeyBackend  = []byte("backend")
	haKeyServer   = []byte("server")
	haKeyTerm     = []byte("termination_state")
)

// Parse implements Parser.
func (*HAProxyParser) Parse(line []byte, f *Fields) bool {
	if !haproxyBody(line, f, true) {
		return false
	}
	f.Format = "haproxy"
	f.Message = Str(line)
	return true
}

// haTime parses "06/Feb/2009:12:14:14.655".
func haTime(b []byte) (time.Time, bool) {
	if len(b) < 20 || b[2] != '/' || b[6] != '/' || b[11] != ':' {
		return time.Time{}, false
	}
	d, ok1 := digits(b, 2)
	mo, ok2 := Month(b[3:])
	y, ok3 := digits(b[7:], 4)
	clk, n, ok4 := Clock(b[12:])
	if !(ok1 && ok2 && ok3 && ok4) || 12+n != len(b) || !validDate(y, int(mo), d, 0, 0, 0) {
		return time.Time{}, false
	}
	return time.Date(y, mo, d, 0, 0, 0, 0, time.UTC).Add(clk), true
}

// haTimers checks "a/b/c[/d/e]" (each an integer, possibly -1 or with a
// '+' prefix) and returns the number of parts and the last one.
func haTimers(b []byte) (parts int, last []byte, ok bool) {
	for len(b) > 0 {
		t := b
		if e := bytes.IndexByte(b, '/'); e >= 0 {
			t, b = b[:e], b[e+1:]
			if len(b) == 0 {
				return 0, nil, false
			}
		} else {
			b = nil
		}
		v := t
		if len(v) > 0 && (v[0] == '+' || v[0] == '-') {
			v = v[1:]
		}
		if len(v) == 0 || appDigitsEnd(v) != len(v) {
			return 0, nil, false
		}
		parts++
		last = t
	}
	return parts, last, parts > 0
}

// haproxyBody reads an HAProxy HTTP or TCP log text into f. It writes
// nothing and returns false when b is not one. withTime: the accept date
// becomes the record time (else the caller's time stays).
func haproxyBody(b []byte, f *Fields, withTime bool) bool {
	if len(b) < 40 || !accessHostByte(b[0]) {
		return false
	}
	// Fail fast: "ip:port [" must open the line.
	if sp := bytes.IndexByte(b[:min(len(b), 64)], ' '); sp < 3 || sp+1 >= len(b) || b[sp+1] != '[' || bytes.IndexByte(b[:sp], ':') < 0 {
		return false
	}
	var tok [12][]byte
	i := 0
	n := 0
	for ; n < len(tok) && i < len(b); n++ {
		if b[i] == '"' || b[i] == '{' {
			break
		}
		e := bytes.IndexByte(b[i:], ' ')
		if e == 0 {
			return false
		}
		if e < 0 {
			e = len(b) - i
		}
		tok[n] = b[i : i+e]
		i = min(i+e+1, len(b))
	}
	if n < 9 {
		return false
	}
	// tok: 0 ci:cp  1 [date]  2 frontend  3 backend/server  4 timers ...
	colon := bytes.LastIndexByte(tok[0], ':')
	if colon <= 0 || appDigitsEnd(tok[0][colon+1:]) != len(tok[0])-colon-1 {
		return false
	}
	d := tok[1]
	if len(d) < 22 || d[0] != '[' || d[len(d)-1] != ']' {
		return false
	}
	t, ok := haTime(d[1 : len(d)-1])
	if !ok {
		return false
	}
	slash := bytes.IndexByte(tok[3], '/')
	if slash <= 0 || slash == len(tok[3])-1 {
		return false
	}
	parts, total, ok := haTimers(tok[4])
	if !ok {
		return false
	}
	var status, size, term []byte
	var request []byte
	switch parts {
	case 5: // HTTP: status bytes cookie cookie termination conns queues [{hdrs}] "request"
		status, size, term = tok[5], tok[6], tok[9]
		if !isStatus(Num(status)) && string(status) != "-1" {
			return false
		}
		if n < 12 {
			return false
		}
		if c, _, ok := haTimers(tok[10]); !ok || c != 5 {
			return false
		}
		if c, _, ok := haTimers(tok[11]); !ok || c != 2 {
			return false
		}
		rest := b[i:]
		for len(rest) > 0 && rest[0] == '{' { // captured headers
			e := bytes.IndexByte(rest, '}')
			if e < 0 {
				return false
			}
			rest = rest[e+1:]
			if len(rest) > 0 && rest[0] == ' ' {
				rest = rest[1:]
			}
		}
		q, _, ok := accessQuoted(rest, 0)
		if !ok {
			return false
		}
		request = q
	case 3: // TCP: bytes termination conns queues
		size, term = tok[5], tok[6]
		if n != 9 || i < len(b) {
			return false
		}
		if c, _, ok := haTimers(tok[7]); !ok || c != 5 {
			return false
		}
		if c, _, ok := haTimers(tok[8]); !ok || c != 2 {
			return false
		}
	default:
		return false
	}
	sz := size
	if len(sz) > 0 && sz[0] == '+' {
		sz = sz[1:]
	}
	if appDigitsEnd(sz) != len(sz) || len(sz) == 0 {
		return false
	}

	if withTime {
		f.Time, f.HasTime, f.TimeLocal, f.TimeNoYear = t, true, true, false
	}
	f.Request.IP = Str(tok[0][:colon])
	if request != nil {
		accessRequestLine(request, f)
	}
	if len(status) == 3 {
		f.Response.Status = Num(status)
	}
	f.Response.Size = Num(sz)
	if tt := total; len(tt) > 0 && tt[0] != '-' {
		if tt[0] == '+' {
			tt = tt[1:]
		}
		f.Request.Duration = scaled(Num(tt), 0.001)
	}
	f.AddExtra(haKeyFrontend, Str(tok[2]))
	f.AddExtra(haKeyBackend, Str(tok[3][:slash]))
	f.AddExtra(haKeyServer, Str(tok[3][slash+1:]))
	f.AddExtra(haKeyTerm, Str(term))
	return true
}
