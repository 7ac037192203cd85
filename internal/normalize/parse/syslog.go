package parse

import (
	"bytes"
	"time"
)

var (
	syslogSeverities = [8][]byte{
		[]byte("emerg"), []byte("alert"), []byte("crit"), []byte("err"),
		[]byte("warning"), []byte("notice"), []byte("info"), []byte("debug"),
	}
	syslogFacilities = [24][]byte{
		[]byte("kern"), []byte("user"), []byte("mail"), []byte("daemon"),
		[]byte("auth"), []byte("syslog"), []byte("lpr"), []byte("news"),
		[]byte("uucp"), []byte("cron"), []byte("authpriv"), []byte("ftp"),
		[]byte("ntp"), []byte("security"), []byte("console"), []byte("solaris-cron"),
		[]byte("local0"), []byte("local1"), []byte("local2"), []byte("local3"),
		[]byte("local4"), []byte("local5"), []byte("local6"), []byte("local7"),
	}
	syslogKeyFacility = []byte("facility")
	syslogKeyAppname  = []byte("appname")
	syslogKeyProcid   = []byte("procid")
	syslogKeyMsgid    = []byte("msgid")
	syslogBOM         = []byte("\xef\xbb\xbf")
)

// syslogPRI parses "<PRI>" at the start of b (PRI 0..191, 1-3 digits) and
// returns the value and the offset after '>'.
func syslogPRI(b []byte) (pri int, next int, ok bool) {
	if len(b) < 3 || b[0] != '<' {
		return 0, 0, false
	}
	i := 1
	for i < len(b) && i <= 4 && accessDigit(b[i]) {
		pri = pri*10 + int(b[i]-'0')
		i++
	}
	if i == 1 || i > 4 || i >= len(b) || b[i] != '>' || pri > 191 {
		return 0, 0, false
	}
	return pri, i + 1, true
}

// syslogSetPRI fills the level from the severity and the facility name.
func syslogSetPRI(pri int, f *Fields) {
	sev := pri & 7
	f.Level = syslogSeverities[sev]
	f.LevelNum = sev
	f.LevelScheme = LevelSyslog
	f.AddExtra(syslogKeyFacility, Str(syslogFacilities[pri>>3]))
}

func syslogNil(b []byte) bool { return len(b) == 1 && b[0] == '-' }

// syslogToken reads a header field of PRINTUSASCII (33..126) up to a space
// (which must follow) and returns it and the offset after the space.
func syslogToken(b []byte, i, max int) (tok []byte, next int, ok bool) {
	s := i
	for i < len(b) && b[i] != ' ' {
		if b[i] < 33 || b[i] > 126 {
			return nil, 0, false
		}
		i++
	}
	if i == s || i-s > max || i >= len(b) {
		return nil, 0, false
	}
	return b[s:i], i + 1, true
}

// Syslog5424Parser parses RFC 5424 syslog messages:
//
//	<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application"] \xEF\xBB\xBFAn application event log entry...
//
// Each SD-PARAM becomes an Extra "<sd-id>.<param-name>". The keys, and the
// values that contained escapes (\" \\ \], RFC 5424 §6.3.3), are built in
// the parser's scratch buffer: they stay valid until the next Parse call on
// the same parser (not just until the next Parse on the same Fields), so the
// parser is not safe for concurrent use. The zero value is ready to use.
type Syslog5424Parser struct {
	scratch []byte
}

// Name implements Parser.
func (*Syslog5424Parser) Name() string { return "syslog-rfc5424" }

// Parse implements Parser.
func (p *Syslog5424Parser) Parse(line []byte, f *Fields) bool {
	p.scratch = p.scratch[:0]
	if len(line) < 16 || line[0] != '<' {
		return false
	}
	pri, i, ok := syslogPRI(line)
	if !ok || i+2 >= len(line) || line[i] < '1' || line[i] > '9' {
		return false
	}
	// VERSION (1-3 digits) SP
	j := i + 1
	for j < len(line) && j < i+3 && accessDigit(line[j]) {
		j++
	}
	if j >= len(line) || line[j] != ' ' {
		return false
	}
	i = j + 1
	// TIMESTAMP SP
	var (
		t              time.Time
		hasTime, local bool
	)
	if i >= len(line) {
		return false
	}
	if line[i] == '-' {
		i++
	} else {
		tt, n, loc, ok := ISO(line[i:])
		if !ok || (line[i+10] != 'T' && line[i+10] != 't') {
			return false
		}
		t, hasTime, local = tt, true, loc
		i += n
	}
	if i >= len(line) || line[i] != ' ' {
		return false
	}
	i++
	host, i, ok := syslogToken(line, i, 255)
	if !ok {
		return false
	}
	app, i, ok := syslogToken(line, i, 48)
	if !ok {
		return false
	}
	procid, i, ok := syslogToken(line, i, 128)
	if !ok {
		return false
	}
	msgid, i, ok := syslogToken(line, i, 32)
	if !ok {
		return false
	}
	// STRUCTURED-DATA: validate and size the scratch first so that the
	// fill pass never reallocates (all returned slices stay in p.scratch).
	sdStart := i
	var sdEnd int
	if i >= len(line) {
		return false
	}
	if line[i] == '-' {
		sdEnd = i + 1
	} else {
		end, need, ok := syslogSD(line, i, nil, nil)
		if !ok {
			return false
		}
		sdEnd = end
		if cap(p.scratch) < need {
			p.scratch = make([]byte, 0, need+need/2+64)
		}
	}
	// [SP MSG]
	var msg []byte
	hasMsg := false
	if sdEnd < len(line) {
		if line[sdEnd] != ' ' {
			return false
		}
		msg, hasMsg = bytes.TrimPrefix(line[sdEnd+1:], syslogBOM), true
	}

	f.Format = "syslog-rfc5424"
	if hasTime {
		f.Time, f.HasTime, f.TimeLocal = t, true, local
	}
	syslogSetPRI(pri, f)
	if !syslogNil(host) {
		f.Host = Str(host)
	}
	if !syslogNil(app) {
		f.Logger = Str(app)
		f.AddExtra(syslogKeyAppname, Str(app))
	}
	if !syslogNil(procid) {
		f.AddExtra(syslogKeyProcid, accessNumOrStr(procid))
	}
	if !syslogNil(msgid) {
		f.AddExtra(syslogKeyMsgid, Str(msgid))
	}
	if line[sdStart] == '[' {
		syslogSD(line, sdStart, p, f)
	}
	if hasMsg {
		f.Message = Str(msg)
		if string(app) == "haproxy" {
			haproxyBody(msg, f, !hasTime)
		}
	}
	return true
}

// syslogSDName reads an SD-NAME (1-32 PRINTUSASCII except '=', ' ', ']', '"').
func syslogSDName(b []byte, i int) (name []byte, next int) {
	s := i
	for i < len(b) && i-s <= 32 {
		c := b[i]
		if c < 33 || c > 126 || c == '=' || c == ']' || c == '"' {
			break
		}
		i++
	}
	if i-s > 32 {
		return nil, s
	}
	return b[s:i], i
}

// syslogSD walks one or more SD-ELEMENTs starting at b[i] == '['. With p ==
// nil it only validates and returns the scratch bytes the fill pass needs;
// otherwise it adds every SD-PARAM to f.
func syslogSD(b []byte, i int, p *Syslog5424Parser, f *Fields) (end int, need int, ok bool) {
	for i < len(b) && b[i] == '[' {
		id, j := syslogSDName(b, i+1)
		if len(id) == 0 {
			return 0, 0, false
		}
		i = j
		for i < len(b) && b[i] == ' ' {
			name, j := syslogSDName(b, i+1)
			if len(name) == 0 || j+1 >= len(b) || b[j] != '=' || b[j+1] != '"' {
				return 0, 0, false
			}
			vs := j + 2
			k := vs
			esc := false
			for k < len(b) && b[k] != '"' {
				if b[k] == '\\' && k+1 < len(b) {
					esc = true
					k++
				}
				k++
			}
			if k >= len(b) {
				return 0, 0, false
			}
			raw := b[vs:k]
			i = k + 1
			need += len(id) + 1 + len(name)
			if esc {
				need += len(raw)
			}
			if p == nil {
				continue
			}
			ks := len(p.scratch)
			p.scratch = append(p.scratch, id...)
			p.scratch = append(p.scratch, '.')
			p.scratch = append(p.scratch, name...)
			key := p.scratch[ks:len(p.scratch):len(p.scratch)]
			val := raw
			if esc {
				vstart := len(p.scratch)
				for x := 0; x < len(raw); x++ {
					c := raw[x]
					if c == '\\' && x+1 < len(raw) && (raw[x+1] == '"' || raw[x+1] == '\\' || raw[x+1] == ']') {
						x++
						c = raw[x]
					}
					p.scratch = append(p.scratch, c)
				}
				val = p.scratch[vstart:len(p.scratch):len(p.scratch)]
			}
			f.AddExtra(key, Str(val))
		}
		if i >= len(b) || b[i] != ']' {
			return 0, 0, false
		}
		i++
	}
	return i, need, true
}

// Syslog3164Parser parses BSD syslog lines (RFC 3164) as received on the
// wire or written to /var/log/syslog by rsyslog's traditional file format:
//
//	<34>Oct 11 22:14:15 mymachine su[123]: 'su root' failed for lonvick on /dev/pts/8
//	Oct  1 22:14:15 mymachine sshd[1]: msg
//	2026-11-25T21:43:45.123456+00:00 mymachine app[12]: msg   (RSYSLOG_FileFormat)
//
// A TAG ending in ':' (with optional "[pid]") is required after the host, so
// plain text that merely starts with a month name is not taken. Messages
// with a PRI but no HOSTNAME ("<13>Oct 11 22:14:15 su[1]: msg", as sent to
// /dev/log) are accepted too. The zero value is ready to use and the parser
// is stateless.
type Syslog3164Parser struct{}

// Name implements Parser.
func (*Syslog3164Parser) Name() string { return "syslog-rfc3164" }

// Parse implements Parser.
func (*Syslog3164Parser) Parse(line []byte, f *Fields) bool {
	if len(line) < 18 {
		return false
	}
	i := 0
	pri := -1
	if line[0] == '<' {
		pr, n, ok := syslogPRI(line)
		if !ok {
			return false
		}
		pri, i = pr, n
	}
	if i >= len(line) {
		return false
	}
	var (
		t              time.Time
		n              int
		noYear, local  bool
		ok             bool
		host, tag, pid []byte
	)
	c := line[i]
	switch {
	case c >= 'A' && c <= 'S':
		t, n, ok = Syslog(line[i:])
		noYear, local = true, true
	case accessDigit(c):
		// RFC 3339 with a zone (RSYSLOG_FileFormat / high precision).
		var loc bool
		t, n, loc, ok = ISO(line[i:])
		ok = ok && !loc && line[i+10] == 'T'
	}
	if !ok {
		return false
	}
	i += n
	if i >= len(line) || line[i] != ' ' {
		return false
	}
	i++
	// HOSTNAME or, with a PRI only, directly the TAG.
	if tg, p, msgAt, ok := syslog3164Tag(line, i); ok && pri >= 0 {
		// "<13>Oct 11 22:14:15 su[123]: msg": no HOSTNAME.
		tag, pid, i = tg, p, msgAt
	} else {
		tok, next, ok := syslogToken(line, i, 255)
		if !ok {
			return false
		}
		tg, p, msgAt, ok := syslog3164Tag(line, next)
		if !ok {
			return false
		}
		host, tag, pid, i = tok, tg, p, msgAt
	}

	f.Format = "syslog-rfc3164"
	f.Time, f.HasTime, f.TimeLocal, f.TimeNoYear = t, true, local, noYear
	if pri >= 0 {
		syslogSetPRI(pri, f)
	}
	if host != nil && !syslogNil(host) {
		f.Host = Str(host)
	}
	f.Logger = Str(tag)
	if pid != nil {
		f.AddExtra(errlogKeyPid, accessNumOrStr(pid))
	}
	f.Message = Str(line[i:])
	if string(tag) == "haproxy" {
		haproxyBody(line[i:], f, true) // the accept date has the year syslog lacks
	}
	return true
}

// syslog3164Tag reads "TAG:" or "TAG[pid]:" at b[i] followed by a space or
// the end of line, and returns the offset of the message.
func syslog3164Tag(b []byte, i int) (tag, pid []byte, msgAt int, ok bool) {
	s := i
	for i < len(b) && i-s <= 128 {
		c := b[i]
		if c <= ' ' || c > 126 || c == '[' || c == ']' || c == ':' {
			break
		}
		i++
	}
	if i == s || i-s > 128 || i >= len(b) {
		return nil, nil, 0, false
	}
	tag = b[s:i]
	if b[i] == '[' {
		ps := i + 1
		e := bytes.IndexByte(b[ps:], ']')
		if e <= 0 || e > 32 {
			return nil, nil, 0, false
		}
		pid = b[ps : ps+e]
		for _, c := range pid {
			if c <= ' ' || c > 126 || c == '[' {
				return nil, nil, 0, false
			}
		}
		i = ps + e + 1
	}
	if i >= len(b) || b[i] != ':' {
		return nil, nil, 0, false
	}
	i++
	if i < len(b) {
		if b[i] != ' ' {
			return nil, nil, 0, false
		}
		i++
	}
	return tag, pid, i, true
}
