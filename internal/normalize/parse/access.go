package parse

import "bytes"

// AccessParser parses NCSA common / combined access log lines as written by
// nginx (log_format combined and the usual "main" extensions), Apache
// (mod_log_config "%h %l %u %t \"%r\" %>s %b ..." incl. vhost_combined) and
// gunicorn's default access_log_format:
//
//	127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 200 2326 "http://ref/" "Mozilla/4.08"
//
// Quoted fields are kept exactly as written: nginx's \xNN escapes and
// Apache's \" / \\ escapes are not undone. The zero value is ready to use and
// the parser is stateless (safe for concurrent use).
type AccessParser struct{}

// Name implements Parser.
func (*AccessParser) Name() string { return "access" }

const (
	accessFormatCommon   = "access-common"
	accessFormatCombined = "access-combined"
)

var (
	accessKeyRequest      = []byte("request")
	accessKeyIdent        = []byte("ident")
	accessKeyForwardedFor = []byte("forwarded_for")
	accessKeyExtra        = []byte("extra")
	accessKeyExtraN       = [...][]byte{
		[]byte("extra_1"), []byte("extra_2"), []byte("extra_3"), []byte("extra_4"),
		[]byte("extra_5"), []byte("extra_6"), []byte("extra_7"), []byte("extra_8"),
		[]byte("extra_9"), []byte("extra_10"), []byte("extra_11"), []byte("extra_12"),
		[]byte("extra_13"), []byte("extra_14"), []byte("extra_15"), []byte("extra_16"),
	}
)

// accessMaxHead bounds the search for the "[time]" field: the host, ident
// and user tokens in front of it are short.
const accessMaxHead = 320

// Parse implements Parser.
func (*AccessParser) Parse(line []byte, f *Fields) bool {
	if len(line) < 40 || !accessHostByte(line[0]) {
		return false
	}
	// Locate " [dd/" that opens %t. Only the head of the line is searched.
	lb := -1
	lim := len(line)
	if lim > accessMaxHead {
		lim = accessMaxHead
	}
	for i := 1; i < lim; {
		j := bytes.IndexByte(line[i:lim], '[')
		if j < 0 {
			return false
		}
		i += j
		if line[i-1] == ' ' && i+3 < len(line) && accessDigit(line[i+1]) && accessDigit(line[i+2]) && line[i+3] == '/' {
			lb = i
			break
		}
		i++
	}
	if lb < 0 {
		return false
	}

	// Head: "HOST IDENT USER", or "VHOST HOST - USER" (Apache
	// vhost_combined "%v:%p %h %l %u", nginx "$host $remote_addr - ...").
	head := line[:lb-1]
	var vhost, host, ident, user []byte
	sp1 := bytes.IndexByte(head, ' ')
	if sp1 <= 0 {
		return false
	}
	host = head[:sp1]
	rest := head[sp1+1:]
	sp2 := bytes.IndexByte(rest, ' ')
	if sp2 <= 0 {
		return false
	}
	ident = rest[:sp2]
	user = rest[sp2+1:]
	if len(user) == 0 {
		return false
	}
	if len(user) > 2 && user[0] == '-' && user[1] == ' ' && bytes.IndexByte(user[2:], ' ') < 0 && accessIsHost(ident) && ident[0] != '-' {
		// Four tokens with "-" third: the first one is the virtual host.
		vhost, host, ident, user = host, ident, user[:1], user[2:]
	}
	if !accessIsHost(host) || len(user) == 0 || user[0] == ' ' || accessHasQuoteOrCtl(ident) || accessHasQuoteOrCtl(user) {
		return false
	}

	// [time]
	t, n, ok := CLF(line[lb+1:])
	if !ok {
		return false
	}
	zoneAt := 20
	_, fn := fraction(line[lb+1+20:])
	zoneAt += fn
	hasZone := n > zoneAt
	i := lb + 1 + n
	if i+2 >= len(line) || line[i] != ']' || line[i+1] != ' ' || line[i+2] != '"' {
		return false
	}
	// "request"
	req, i, ok := accessQuoted(line, i+2)
	if !ok || i+4 > len(line) || line[i] != ' ' {
		return false
	}
	// status
	i++
	var status []byte
	if line[i] == '-' {
		status = line[i : i+1]
		i++
	} else {
		if i+3 > len(line) || !accessDigit(line[i]) || !accessDigit(line[i+1]) || !accessDigit(line[i+2]) {
			return false
		}
		status = line[i : i+3]
		i += 3
	}
	if i >= len(line) || line[i] != ' ' {
		return false
	}
	// size
	i++
	ss := i
	for i < len(line) && line[i] != ' ' {
		if !accessDigit(line[i]) && !(line[i] == '-' && i == ss) {
			return false
		}
		i++
	}
	size := line[ss:i]
	if len(size) == 0 || (size[0] == '-' && len(size) != 1) {
		return false
	}

	// The line is an access line from here on: nothing below rejects it.
	f.Format = accessFormatCommon
	f.Time, f.HasTime, f.TimeLocal = t, true, !hasZone
	if len(vhost) > 0 {
		f.Request.Host = Str(vhost)
	}
	if !(len(host) == 1 && host[0] == '-') {
		f.Request.IP = Str(host)
	}
	if !(len(ident) == 1 && ident[0] == '-') {
		f.AddExtra(accessKeyIdent, Str(ident))
	}
	if !(len(user) == 1 && user[0] == '-') {
		f.User.ID = Str(user)
	}
	if !accessRequestLine(req, f) {
		f.AddExtra(accessKeyRequest, Str(req))
	}
	if status[0] >= '1' {
		f.Response.Status = Num(status)
	}
	if size[0] != '-' {
		f.Response.Size = accessNumOrStr(size)
	}

	// Optional "referer" "user-agent".
	if i+2 < len(line) && line[i+1] == '"' {
		if ref, j, ok := accessQuoted(line, i+1); ok && j+1 < len(line) && line[j] == ' ' && line[j+1] == '"' {
			if ua, k, ok := accessQuoted(line, j+1); ok {
				f.Format = accessFormatCombined
				if !(len(ref) == 1 && ref[0] == '-') {
					f.Request.Referer = Str(ref)
				}
				f.Request.UserAgent = Str(ua)
				i = k
			}
		}
	}
	accessTrailing(line[i:], f)
	return true
}

// accessTrailing handles the fields nginx/Apache configurations commonly add
// after the combined format: "$http_x_forwarded_for", $request_time,
// rt=0.123 uct="0.001" ... Each token is one of
//
//	key=value / key="value"  -> Extra[key]
//	"quoted"                 -> Extra forwarded_for (IP list) or extra_N
//	bare float (first token) -> Request.Duration (seconds)
//	bare                     -> Extra extra_N
//
// "-" values are dropped; N is the 1-based position of the token.
func accessTrailing(b []byte, f *Fields) {
	nth := 0
	i := 0
	for i < len(b) {
		if b[i] == ' ' || b[i] == '\t' {
			i++
			continue
		}
		nth++
		if b[i] == '"' {
			v, j, ok := accessQuoted(b, i)
			if !ok {
				v, j = b[i+1:], len(b)
			}
			i = j
			if len(v) == 0 || (len(v) == 1 && v[0] == '-') {
				continue
			}
			if accessLooksIPList(v) {
				f.AddExtra(accessKeyForwardedFor, Str(v))
			} else {
				f.AddExtra(accessExtraKey(nth), Str(v))
			}
			continue
		}
		s := i
		for i < len(b) && b[i] != ' ' && b[i] != '=' && b[i] != '"' {
			i++
		}
		if i < len(b) && b[i] == '=' && i > s && accessIsKey(b[s:i]) {
			key := b[s:i]
			i++
			var v []byte
			if i < len(b) && b[i] == '"' {
				vv, j, ok := accessQuoted(b, i)
				if !ok {
					vv, j = b[i+1:], len(b)
				}
				v, i = vv, j
			} else {
				vs := i
				for i < len(b) && b[i] != ' ' {
					i++
				}
				v = b[vs:i]
			}
			if len(v) == 1 && v[0] == '-' {
				continue
			}
			f.AddExtra(key, accessNumOrStr(v))
			continue
		}
		for i < len(b) && b[i] != ' ' {
			i++
		}
		tok := b[s:i]
		if len(tok) == 1 && tok[0] == '-' {
			continue
		}
		if nth == 1 && bytes.IndexByte(tok, '.') > 0 && accessIsNum(tok) && !f.Request.Duration.Set() {
			f.Request.Duration = Num(tok)
			continue
		}
		f.AddExtra(accessExtraKey(nth), accessNumOrStr(tok))
	}
}

func accessExtraKey(n int) []byte {
	if n >= 1 && n <= len(accessKeyExtraN) {
		return accessKeyExtraN[n-1]
	}
	return accessKeyExtra
}

// accessQuoted reads the quoted field whose opening '"' is at b[i]. The
// closing quote is the first '"' that is not backslash-escaped (Apache
// writes \" inside fields) and is followed by a space or the end of line
// (so stray raw quotes from escape=none configurations stay in the value).
// It returns the content and the index just past the closing quote.
func accessQuoted(b []byte, i int) (val []byte, next int, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, i, false
	}
	start := i + 1
	j := start
	for j < len(b) {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return nil, i, false
		}
		j += k
		bs := 0
		for p := j - 1; p >= start && b[p] == '\\'; p-- {
			bs++
		}
		if bs%2 == 0 && (j+1 == len(b) || b[j+1] == ' ') {
			return b[start:j], j + 1, true
		}
		j++
	}
	return nil, i, false
}

// accessField reads the next field of a space-separated log line at b[i]
// (spaces before it skipped): a quoted one (accessQuoted rules) or a bare
// token. It returns the value and the index after it and one space.
func accessField(b []byte, i int) (v []byte, quoted bool, next int, ok bool) {
	for i < len(b) && b[i] == ' ' {
		i++
	}
	if i >= len(b) {
		return nil, false, i, false
	}
	if b[i] == '"' {
		v, j, ok := accessQuoted(b, i)
		if !ok {
			return nil, false, i, false
		}
		if j < len(b) {
			j++ // the space
		}
		return v, true, j, true
	}
	e := bytes.IndexByte(b[i:], ' ')
	if e < 0 {
		return b[i:], false, len(b), true
	}
	return b[i : i+e], false, i + e + 1, true
}

// accessRequestLine splits "METHOD TARGET PROTOCOL" (or HTTP/0.9 "METHOD
// TARGET") into the Request slots. It writes nothing and returns false when
// the line is not a request line (e.g. "-", TLS bytes, garbage).
func accessRequestLine(r []byte, f *Fields) bool {
	sp := bytes.IndexByte(r, ' ')
	if sp <= 0 || sp > 32 {
		return false
	}
	for _, c := range r[:sp] {
		if !(c >= 'A' && c <= 'Z' || c == '-' || c == '_') {
			return false
		}
	}
	rest := r[sp+1:]
	var target, proto []byte
	if ls := bytes.LastIndexByte(rest, ' '); ls >= 0 {
		target, proto = rest[:ls], rest[ls+1:]
		if !accessIsProto(proto) {
			return false
		}
	} else {
		target = rest
	}
	if len(target) == 0 || target[0] == ' ' || target[len(target)-1] == ' ' {
		return false
	}
	f.Request.Method = Str(r[:sp])
	f.Request.Path = Str(target)
	if proto != nil {
		f.Request.Protocol = Str(proto)
	}
	return true
}

// accessIsProto accepts "HTTP/1.0", "HTTP/1.1", "HTTP/2.0", "HTTP/2", "HTTP/3.0".
func accessIsProto(p []byte) bool {
	if len(p) < 6 || len(p) > 12 || string(p[:5]) != "HTTP/" || !accessDigit(p[5]) {
		return false
	}
	for _, c := range p[6:] {
		if !accessDigit(c) && c != '.' {
			return false
		}
	}
	return true
}

func accessDigit(c byte) bool { return c >= '0' && c <= '9' }

// accessHostByte reports whether c may start %h / $remote_addr: an IPv4 or
// IPv6 address, a host name, "unix:" or "-".
func accessHostByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == ':' || c == '[' || c == '-'
}

func accessIsHost(b []byte) bool {
	if len(b) == 0 || len(b) > 255 {
		return false
	}
	for _, c := range b {
		if !(accessHostByte(c) || c == '.' || c == '_' || c == '%' || c == ']') {
			return false
		}
	}
	return true
}

func accessHasQuoteOrCtl(b []byte) bool {
	for _, c := range b {
		if c == '"' || c < 0x20 || c == 0x7f {
			return true
		}
	}
	return false
}

func accessIsKey(b []byte) bool {
	if len(b) > 64 {
		return false
	}
	for _, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || accessDigit(c) || c == '_' || c == '-' || c == '.' || c == '@') {
			return false
		}
	}
	return true
}

// accessLooksIPList matches "$http_x_forwarded_for" values such as
// "203.0.113.7, 10.0.0.1" or "2001:db8::1".
func accessLooksIPList(b []byte) bool {
	sep := false
	for _, c := range b {
		switch {
		case accessDigit(c), c >= 'a' && c <= 'f', c >= 'A' && c <= 'F', c == ',', c == ' ', c == '[', c == ']':
		case c == '.' || c == ':':
			sep = true
		default:
			return false
		}
	}
	return sep
}

// accessIsNum reports whether b is a JSON number literal.
func accessIsNum(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return false
	}
	if b[i] == '0' {
		i++
	} else if b[i] >= '1' && b[i] <= '9' {
		for i < len(b) && accessDigit(b[i]) {
			i++
		}
	} else {
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		s := i
		for i < len(b) && accessDigit(b[i]) {
			i++
		}
		if i == s {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		s := i
		for i < len(b) && accessDigit(b[i]) {
			i++
		}
		if i == s {
			return false
		}
	}
	return i == len(b)
}

func accessNumOrStr(b []byte) Value {
	if accessIsNum(b) {
		return Num(b)
	}
	return Str(b)
}
