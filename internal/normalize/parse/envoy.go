package parse

import "bytes"

// EnvoyParser parses Envoy's default access log format, which Istio's
// sidecars extend:
//
//	[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS%
//	  %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%"
//	  "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"
//	[2016-04-15T20:17:00.310Z] "POST /api/v1/locations HTTP/2" 204 - 154 0 226 100 "10.0.35.28" "nsq2http" "cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2" "locations" "tcp://10.0.2.1:80"
//
// Istio inserts %RESPONSE_CODE_DETAILS%, %CONNECTION_TERMINATION_DETAILS%
// and a quoted %UPSTREAM_TRANSPORT_FAILURE_REASON% after the flags and
// appends cluster and address fields: the parser takes the first three
// numbers after the flags as bytes received, bytes sent and duration (ms),
// then the five quoted fields. "-" means absent everywhere.
//
// Mapping: start time → Time; the request line → Request.Method/Path/
// Protocol; response code → Response.Status; bytes received/sent →
// Request.Size/Response.Size; duration → Request.Duration (ms); user agent,
// authority → Request.UserAgent, Request.Host; the first X-Forwarded-For
// address → Request.IP; flags, request id, upstream host → Extra
// "response_flags", "request_id", "upstream_host". The message is the
// whole line. Stateless.
type EnvoyParser struct{}

// Name implements Parser.
func (*EnvoyParser) Name() string { return "envoy" }

var (
	envoyKeyFlags    = []byte("response_flags")
	envoyKeyReqID    = []byte("request_id")
	envoyKeyUpstream = []byte("upstream_host")
)

// Parse implements Parser.
func (*EnvoyParser) Parse(line []byte, f *Fields) bool {
	if len(line) < 40 || line[0] != '[' {
		return false
	}
	t, n, local, ok := ISO(line[1:])
	if !ok || local || 1+n >= len(line) || line[1+n] != ']' || !bytes.HasPrefix(line[2+n:], []byte(` "`)) {
		return false
	}
	req, i, ok := accessQuoted(line, 3+n)
	if !ok {
		return false
	}
	var probe Fields
	if !accessRequestLine(req, &probe) {
		return false
	}
	// status, flags, then (Istio) details and a quoted failure reason, up to
	// the first three numbers in a row: bytes received, bytes sent, duration.
	num := func(b []byte) bool { return len(b) > 0 && appDigitsEnd(b) == len(b) }
	var status, flags, rx, tx, dur []byte
	var prev [2][]byte
	for k := 0; k < 12 && rx == nil; k++ {
		tok, quoted, next, ok := accessField(line, i)
		if !ok {
			return false
		}
		i = next
		switch {
		case k == 0:
			if quoted || !isStatus(Num(tok)) && !(len(tok) == 1 && tok[0] == '0') {
				return false
			}
			status = tok
		case k == 1:
			flags = tok
		case !quoted && num(tok) && num(prev[0]) && num(prev[1]) && k >= 4:
			rx, tx, dur = prev[0], prev[1], tok
		}
		if quoted {
			tok = nil // a quoted field never counts as one of the numbers
		}
		prev[0], prev[1] = prev[1], tok
	}
	if rx == nil {
		return false
	}
	// Skip the upstream service time, then the quoted fields:
	// X-Forwarded-For, user agent, request id, authority, upstream host.
	for i < len(line) && line[i] != '"' {
		i++
	}
	var q [5][]byte
	for n := range q {
		v, quoted, next, ok := accessField(line, i)
		if !ok || !quoted {
			return false
		}
		q[n], i = v, next
	}
	xff, ua, reqID, authority, upstream := q[0], q[1], q[2], q[3], q[4]

	f.Format = "envoy"
	f.Time, f.HasTime = t, true
	f.Message = Str(line)
	accessRequestLine(req, f)
	if len(status) == 3 {
		f.Response.Status = Num(status)
	}
	f.Request.Size = Num(rx)
	f.Response.Size = Num(tx)
	f.Request.Duration = scaled(Num(dur), 0.001)
	if !envoyNone(ua) {
		f.Request.UserAgent = Str(ua)
	}
	if !envoyNone(authority) {
		f.Request.Host = Str(authority)
	}
	if !envoyNone(xff) {
		ip := xff
		if c := bytes.IndexByte(ip, ','); c >= 0 {
			ip = ip[:c]
		}
		f.Request.IP = Str(appTrimSpace(ip))
	}
	if !envoyNone(flags) {
		f.AddExtra(envoyKeyFlags, Str(flags))
	}
	if !envoyNone(reqID) {
		f.AddExtra(envoyKeyReqID, Str(reqID))
	}
	if !envoyNone(upstream) {
		f.AddExtra(envoyKeyUpstream, Str(upstream))
	}
	return true
}

func envoyNone(b []byte) bool { return len(b) == 0 || len(b) == 1 && b[0] == '-' }
