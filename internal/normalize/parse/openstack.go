package parse

import "bytes"

// OpenStackParser parses oslo.log lines, the default format of every
// OpenStack service (nova, neutron, cinder, keystone, glance, ...):
//
//	%(asctime)s.%(msecs)03d %(process)d %(levelname)s %(name)s [%(context)s] %(instance)s%(message)s
//	2017-05-16 00:00:00.008 25746 INFO nova.osapi_compute.wsgi.server [req-38101a0b-2096-447d-96ea-a692162415ae 113d3a99c3da401fbd62cc2caa5b96d2 54fadb412c4e40cdbaed9335e4c35a9e - - -] 10.11.10.1 "GET /v2/54fadb412c4e40cdbaed9335e4c35a9e/servers/detail HTTP/1.1" status: 200 len: 1893 time: 0.2477829
//
// The context is "[-]" without a request, else the global and local
// request ids and the user identity ("[req-… user project - - -]", newer
// releases "[None req-… admin admin]"). The level is DEBUG, INFO, AUDIT,
// WARNING, ERROR, CRITICAL or TRACE; the logger is a dotted module name.
// The time has no zone (TimeLocal).
//
// A leading token naming the log file ("nova-api.log.1.2017-05-16_13:53:08 ",
// as collections of OpenStack logs prefix their lines) goes to Extra
// "log_file". Mapping: pid → Extra "pid"; the request ids → Extra "request_id" (and
// "global_request_id" when both are set); an "[instance: uuid] " prefix →
// Extra "instance". A WSGI server access line in the message
// (`IP "METHOD TARGET PROTO" status: N len: N time: F`) fills
// Request.IP/Method/Path/Protocol, Response.Status and Size and
// Request.Duration (seconds). The parser is stateless.
type OpenStackParser struct{}

// Name implements Parser.
func (*OpenStackParser) Name() string { return "openstack" }

var (
	osKeyRequestID       = []byte("request_id")
	osKeyGlobalRequestID = []byte("global_request_id")
	osKeyInstance        = []byte("instance")
	osKeyLogFile         = []byte("log_file")
	osLevels             = [...]string{"DEBUG", "INFO", "AUDIT", "WARNING", "ERROR", "CRITICAL", "TRACE"}
)

// Parse implements Parser.
func (*OpenStackParser) Parse(line []byte, f *Fields) bool {
	if len(line) < 40 {
		return false
	}
	var logFile []byte
	if line[0] < '0' || line[0] > '9' {
		// Collected files often prefix each line with the log file's name
		// ("nova-api.log.1.2017-05-16_13:53:08 2017-05-16 00:00:00.008 ...").
		sp := bytes.IndexByte(line, ' ')
		if sp <= 0 || sp > 128 || !bytes.Contains(line[:sp], []byte(".log")) {
			return false
		}
		logFile, line = line[:sp], line[sp+1:]
		if len(line) < 30 || line[0] < '0' || line[0] > '9' {
			return false
		}
	}
	t, n, local, ok := ISO(line)
	if !ok || !local || n >= len(line) || line[n] != ' ' || line[10] != ' ' {
		return false
	}
	b := line[n+1:]
	pid := appDigitsEnd(b)
	if pid == 0 || pid > 10 || len(b) <= pid || b[pid] != ' ' {
		return false
	}
	pidB := b[:pid]
	b = b[pid+1:]
	var lvl []byte
	for _, l := range osLevels {
		if len(b) > len(l) && string(b[:len(l)]) == l && b[len(l)] == ' ' {
			lvl = b[:len(l)]
			break
		}
	}
	if lvl == nil {
		return false
	}
	b = b[len(lvl)+1:]
	sp := bytes.IndexByte(b, ' ')
	if sp <= 0 || sp > 200 || sp+1 >= len(b) || b[sp+1] != '[' {
		return false
	}
	logger := b[:sp]
	for _, c := range logger {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	b = b[sp+2:]
	end := bytes.IndexByte(b, ']')
	if end < 0 || end > 512 {
		return false
	}
	ctx := b[:end]
	msg := b[end+1:]
	if len(msg) > 0 {
		if msg[0] != ' ' {
			return false
		}
		msg = msg[1:]
	}

	f.Format = "openstack"
	f.Time, f.HasTime, f.TimeLocal = t, true, true
	f.Level = lvl
	f.Logger = Str(logger)
	if logFile != nil {
		f.AddExtra(osKeyLogFile, Str(logFile))
	}
	f.AddExtra(appKeyPid, Num(pidB))
	var reqs [2][]byte
	nreq := 0
	for rest := ctx; len(rest) > 0 && nreq < 2; {
		tok := rest
		if e := bytes.IndexByte(rest, ' '); e >= 0 {
			tok, rest = rest[:e], rest[e+1:]
		} else {
			rest = nil
		}
		if bytes.HasPrefix(tok, []byte("req-")) {
			reqs[nreq] = tok
			nreq++
		}
	}
	switch nreq {
	case 1:
		f.AddExtra(osKeyRequestID, Str(reqs[0]))
	case 2:
		f.AddExtra(osKeyGlobalRequestID, Str(reqs[0]))
		f.AddExtra(osKeyRequestID, Str(reqs[1]))
	}
	if bytes.HasPrefix(msg, []byte("[instance: ")) {
		if e := bytes.IndexByte(msg, ']'); e > 11 {
			f.AddExtra(osKeyInstance, Str(msg[11:e]))
			msg = msg[e+1:]
			if len(msg) > 0 && msg[0] == ' ' {
				msg = msg[1:]
			}
		}
	}
	f.Message = Str(msg)
	osWSGI(msg, f)
	return true
}

// osWSGI reads the eventlet WSGI server's access line:
// `10.11.10.1 "GET /path HTTP/1.1" status: 200 len: 1893 time: 0.2477829`.
func osWSGI(m []byte, f *Fields) {
	sp := bytes.IndexByte(m, ' ')
	if sp <= 0 || sp > 64 || sp+1 >= len(m) || m[sp+1] != '"' {
		return
	}
	ip := m[:sp]
	for _, c := range ip {
		if !(accessHostByte(c) || c == '.') {
			return
		}
	}
	req, i, ok := accessQuoted(m, sp+1)
	if !ok {
		return
	}
	rest := m[i:]
	var status, size, took []byte
	for _, kv := range [...]struct {
		key string
		dst *[]byte
	}{{" status: ", &status}, {" len: ", &size}, {" time: ", &took}} {
		if !bytes.HasPrefix(rest, []byte(kv.key)) {
			return
		}
		rest = rest[len(kv.key):]
		e := bytes.IndexByte(rest, ' ')
		if e < 0 {
			e = len(rest)
		}
		*kv.dst, rest = rest[:e], rest[e:]
	}
	if !isStatus(Num(status)) || !accessIsNum(size) || !accessIsNum(took) {
		return
	}
	if !accessRequestLine(req, f) {
		return
	}
	f.Request.IP = Str(ip)
	f.Response.Status = Num(status)
	f.Response.Size = Num(size)
	f.Request.Duration = Num(took)
}
