package parse

import (
	"bytes"
	"time"
)

// PythonParser parses the header line of Python `logging` records.
//
// Format "python-basic": the logging.basicConfig default BASIC_FORMAT
// "%(levelname)s:%(name)s:%(message)s", e.g.
//
//	INFO:uvicorn.error:Started server process [22050]
//
// Format "python-asctime": the common asctime formats (asctime is
// "2006-01-02 15:04:05,123", no zone, so TimeLocal is set):
//
//	%(asctime)s - %(name)s - %(levelname)s - %(message)s    (logging cookbook)
//	%(asctime)s - %(levelname)s - %(message)s
//	%(asctime)s %(levelname)s %(name)s %(message)s
//	%(asctime)s [%(levelname)s] %(name)s: %(message)s
//	[%(asctime)s] %(levelname)s in %(module)s: %(message)s  (Flask)
//	%(asctime)s %(levelname)-8s %(message)s
//	%(asctime)s:%(levelname)s:%(name)s:%(message)s
//	%(asctime)s | %(levelname)s | %(name)s | %(message)s
//	{time} | {level: <8} | {name}:{function}:{line} - {message}  (loguru)
//	%(levelname)s %(asctime)s %(module)s %(process)d %(thread)d %(message)s  (Django docs)
//
// The parser is stateless.
type PythonParser struct{}

// Name implements Parser.
func (*PythonParser) Name() string { return "python" }

// pyRec collects a parse result so that f is only written on success.
type pyRec struct {
	level, logger, msg, module, fn, file, lineno, pid, thread, proc []byte
}

// Parse implements Parser.
func (*PythonParser) Parse(line []byte, f *Fields) bool {
	if len(line) < 4 {
		return false
	}
	var rec pyRec
	var t time.Time
	var ok bool
	local := true
	format := "python-asctime"
	c := line[0]
	switch {
	case appIsDigit(c):
		t, local, ok = pyAsctime(line, false, &rec)
	case c == '[':
		t, local, ok = pyAsctime(line, true, &rec)
	case c >= 'A' && c <= 'Z':
		if pyBasic(line, &rec) {
			format, ok = "python-basic", true
		} else {
			t, ok = pyDjango(line, &rec)
		}
	}
	if !ok {
		return false
	}
	f.Format = format
	if format != "python-basic" {
		f.Time, f.HasTime, f.TimeLocal = t, true, local
	}
	f.Level = rec.level
	if rec.logger != nil {
		f.Logger = Str(rec.logger)
	}
	f.Message = Str(rec.msg)
	if rec.module != nil {
		f.Source.Module = Str(rec.module)
	}
	if rec.fn != nil {
		f.Source.Function = Str(rec.fn)
	}
	if rec.file != nil {
		f.Source.File = Str(rec.file)
	}
	if rec.lineno != nil {
		f.Source.Line = Num(rec.lineno)
	}
	if rec.pid != nil {
		f.AddExtra(appKeyPid, Num(rec.pid))
	}
	if rec.thread != nil {
		f.AddExtra(appKeyThread, Num(rec.thread))
	}
	if rec.proc != nil {
		f.AddExtra(appKeyProcName, Str(rec.proc))
	}
	return true
}

// pyLevel reports whether w is a Python level name. custom also accepts
// other all-caps names of 4 to 12 letters (custom levels: SPAM, VERBOSE).
func pyLevel(w []byte, custom bool) bool {
	switch string(w) {
	case "DEBUG", "INFO", "WARNING", "WARN", "ERROR", "CRITICAL", "FATAL", "NOTSET", "TRACE", "SUCCESS", "NOTICE":
		return true
	}
	if !custom || len(w) < 4 || len(w) > 12 {
		return false
	}
	for _, c := range w {
		if (c < 'A' || c > 'Z') && c != '_' {
			return false
		}
	}
	return true
}

// pyNameOK reports whether b can be a logger (or module) name: non-empty,
// no spaces, no quoting or structural punctuation.
func pyNameOK(b []byte) bool {
	if len(b) == 0 || len(b) > 200 {
		return false
	}
	for _, c := range b {
		switch {
		case c <= ' ', c == 0x7f:
			return false
		}
		switch c {
		case ':', '"', '\'', '=', '{', '}', '[', ']', '(', ')', ',', ';', '|', '\\', '`':
			return false
		}
	}
	return true
}

// pyLoggerish is the stricter test used when a space-separated token might
// be the first word of the message: a dotted module path ("app.views",
// "uvicorn.error"), "root" or a dunder name ("__main__").
func pyLoggerish(b []byte) bool {
	if !pyNameOK(b) || !(appIsLetter(b[0]) || b[0] == '_') {
		return false
	}
	if string(b) == "root" || (len(b) > 4 && b[0] == '_' && b[1] == '_') {
		return true
	}
	last := b[len(b)-1]
	if !(appIsLetter(last) || appIsDigit(last) || last == '_') {
		return false
	}
	return bytes.IndexByte(b, '.') > 0 && bytes.IndexByte(b, '/') < 0
}

// pyBasic parses "LEVEL:name:message".
func pyBasic(line []byte, rec *pyRec) bool {
	i := 0
	for i < len(line) && i < 13 && (line[i] >= 'A' && line[i] <= 'Z' || line[i] == '_') {
		i++
	}
	if i == 0 || i >= len(line) || line[i] != ':' || !pyLevel(line[:i], true) {
		return false
	}
	rest := line[i+1:]
	j := bytes.IndexByte(rest, ':')
	if j <= 0 || !pyNameOK(rest[:j]) {
		return false
	}
	rec.level, rec.logger, rec.msg = line[:i], rest[:j], rest[j+1:]
	return true
}

// pyTime parses an asctime: ISO date and time without zone, with no
// fraction or exactly three fraction digits (",123" or ".123").
func pyTime(b []byte) (time.Time, int, bool) {
	t, n, local, ok := ISO(b)
	if !ok || !local || !(n == 19 || n == 23 && (b[19] == ',' || b[19] == '.')) || !appTimeSane(t) {
		return t, 0, false
	}
	return t, n, true
}

func pyAsctime(line []byte, bracket bool, rec *pyRec) (t time.Time, local bool, ok bool) {
	b := line
	if bracket {
		b = line[1:]
		if len(b) == 0 || !appIsDigit(b[0]) {
			return t, false, false
		}
		// gunicorn: "[2024-01-15 10:30:45 +0000] [123] [INFO] message"
		if t, n, loc, isoOK := ISO(b); isoOK && n == 19 && loc && len(b) > 21 && b[19] == ' ' && (b[20] == '+' || b[20] == '-') {
			off, zn, found := zone(b[20:])
			if !found || 20+zn >= len(b) || b[20+zn] != ']' || !appTimeSane(t) || !pyGunicorn(b[21+zn:], rec) {
				return t, false, false
			}
			return t.Add(-time.Duration(off) * time.Second), false, true
		}
	}
	t, n, ok := pyTime(b)
	if !ok {
		return t, false, false
	}
	rest := b[n:]
	if bracket {
		// Celery: "[2024-01-15 10:30:45,123: INFO/MainProcess] message"
		if len(rest) > 2 && rest[0] == ':' && rest[1] == ' ' {
			return t, true, pyCelery(rest[2:], rec)
		}
		if len(rest) == 0 || rest[0] != ']' {
			return t, false, false
		}
		rest = rest[1:]
	}
	switch {
	case len(rest) == 0:
		return t, false, false
	case bytes.HasPrefix(rest, []byte(" - ")):
		ok = pySepFields(rest[3:], " - ", rec)
	case bytes.HasPrefix(rest, []byte(" | ")):
		ok = pySepFields(rest[3:], " | ", rec)
	case rest[0] == ':' && !bracket:
		ok = pyColon(rest[1:], rec)
	case rest[0] == ' ' || rest[0] == '\t':
		ok = pySpace(appSkipSpace(rest), bracket, rec)
	default:
		ok = false
	}
	return t, true, ok
}

// pyGunicorn parses gunicorn's " [pid] [LEVEL] message" after the time.
func pyGunicorn(r []byte, rec *pyRec) bool {
	if !bytes.HasPrefix(r, []byte(" [")) {
		return false
	}
	r = r[2:]
	d := appDigitsEnd(r)
	if d == 0 || d+2 >= len(r) || r[d] != ']' || r[d+1] != ' ' || r[d+2] != '[' {
		return false
	}
	pid := r[:d]
	r = r[d+3:]
	e := bytes.IndexByte(r, ']')
	if e <= 0 || !pyLevel(r[:e], false) || (e+1 < len(r) && r[e+1] != ' ') {
		return false
	}
	rec.pid, rec.level = pid, r[:e]
	rec.msg = r[e+1:]
	if len(rec.msg) > 0 {
		rec.msg = rec.msg[1:]
	}
	return true
}

// pyCelery parses Celery's "LEVEL/ProcessName] message" after "<asctime>: ".
func pyCelery(r []byte, rec *pyRec) bool {
	i := 0
	for i < len(r) && i < 13 && r[i] >= 'A' && r[i] <= 'Z' {
		i++
	}
	if i >= len(r) || r[i] != '/' || !pyLevel(r[:i], false) {
		return false
	}
	p := r[i+1:]
	e := bytes.IndexByte(p, ']')
	if e <= 0 || !pyNameOK(p[:e]) || (e+1 < len(p) && p[e+1] != ' ') {
		return false
	}
	rec.level, rec.proc = r[:i], p[:e]
	rec.msg = p[e+1:]
	if len(rec.msg) > 0 {
		rec.msg = rec.msg[1:]
	}
	return true
}

// pyCut splits b at the first sep.
func pyCut(b []byte, sep string) (before, after []byte, found bool) {
	if i := bytes.Index(b, []byte(sep)); i >= 0 {
		return b[:i], b[i+len(sep):], true
	}
	return b, b[len(b):], false
}

// pySepFields parses the fields after "<asctime> - " or "<asctime> | ":
// "LEVEL - [name - ]message", "name - LEVEL - message" and loguru's
// "LEVEL | name:function:line - message". Fields may be space-padded.
func pySepFields(r []byte, sep string, rec *pyRec) bool {
	f1, a1, has1 := pyCut(r, sep)
	t1 := appTrimSpace(f1)
	if has1 && !pyLevel(t1, false) && pyNameOK(t1) {
		// "name - LEVEL - message" (a custom all-caps level in the first
		// field loses against a name followed by a real level)
		f2, a2, _ := pyCut(a1, sep)
		if t2 := appTrimSpace(f2); pyLevel(t2, true) {
			rec.logger, rec.level, rec.msg = t1, t2, a2
			pyFuncLine(sep, rec)
			return true
		}
	}
	if pyLevel(t1, true) {
		rec.level = t1
		if !has1 {
			rec.msg = a1
			return true
		}
		if f2, a2, has2 := pyCut(a1, sep); has2 {
			if t2 := appTrimSpace(f2); pyNameOK(t2) && !pyLevel(t2, false) {
				rec.logger, rec.msg = t2, a2
				pyFuncLine(sep, rec)
				return true
			}
		}
		if pyLoguru(a1, rec) {
			return true
		}
		rec.msg = a1
		return true
	}
	return false
}

// pyFuncLine splits a leading "funcName:lineno<sep>" or
// "filename.py:lineno<sep>" off rec.msg
// ("%(asctime)s - %(name)s - %(levelname)s - %(funcName)s:%(lineno)d - %(message)s").
func pyFuncLine(sep string, rec *pyRec) {
	f, rest, ok := pyCut(rec.msg, sep)
	if !ok {
		return
	}
	f = appTrimSpace(f)
	c := bytes.LastIndexByte(f, ':')
	if c <= 0 || c == len(f)-1 || appDigitsEnd(f[c+1:]) != len(f)-c-1 || !pyNameOK(f[:c]) {
		return
	}
	if bytes.HasSuffix(f[:c], []byte(".py")) {
		rec.file = f[:c]
	} else {
		rec.fn = f[:c]
	}
	rec.lineno, rec.msg = f[c+1:], rest
}

// pyLoguru parses loguru's "name:function:line - message".
func pyLoguru(a []byte, rec *pyRec) bool {
	i := bytes.Index(a, []byte(" - "))
	if i <= 0 {
		return false
	}
	tok := a[:i]
	c2 := bytes.LastIndexByte(tok, ':')
	if c2 <= 0 || c2 == len(tok)-1 || appDigitsEnd(tok[c2+1:]) != len(tok)-c2-1 {
		return false
	}
	c1 := bytes.LastIndexByte(tok[:c2], ':')
	if c1 <= 0 || c1+1 == c2 || !pyNameOK(tok[:c1]) || !pyNameOK(tok[c1+1:c2]) {
		return false
	}
	rec.logger, rec.fn, rec.lineno, rec.msg = tok[:c1], tok[c1+1:c2], tok[c2+1:], a[i+3:]
	return true
}

// pyColon parses "LEVEL:name:message" after "<asctime>:".
func pyColon(r []byte, rec *pyRec) bool {
	i := bytes.IndexByte(r, ':')
	if i <= 0 || !pyLevel(r[:i], true) {
		return false
	}
	r2 := r[i+1:]
	j := bytes.IndexByte(r2, ':')
	if j <= 0 || !pyNameOK(r2[:j]) {
		return false
	}
	rec.level, rec.logger, rec.msg = r[:i], r2[:j], r2[j+1:]
	return true
}

// pySpace parses the space-separated layouts after "<asctime> ".
func pySpace(r []byte, bracketTs bool, rec *pyRec) bool {
	if len(r) == 0 {
		return false
	}
	if r[0] == '[' {
		lim := r
		if len(lim) > 14 {
			lim = lim[:14]
		}
		end := bytes.IndexByte(lim, ']')
		if end < 0 {
			return false
		}
		lvl := appTrimSpace(r[1:end])
		if !pyLevel(lvl, false) {
			return false
		}
		rest := r[end+1:]
		if len(rest) > 0 && rest[0] == ':' {
			rest = rest[1:]
		}
		if len(rest) > 0 && rest[0] != ' ' && rest[0] != '\t' {
			return false
		}
		rec.level = lvl
		pyNameAndMsg(appSkipSpace(rest), false, rec)
		return true
	}
	i := 0
	for i < len(r) && i < 13 && (r[i] >= 'A' && r[i] <= 'Z' || r[i] == '_') {
		i++
	}
	lvl := r[:i]
	if !pyLevel(lvl, false) {
		return pyNameFirst(r, rec)
	}
	rest := r[i:]
	if len(rest) == 0 {
		rec.level, rec.msg = lvl, rest
		return true
	}
	switch rest[0] {
	case ':':
		if len(rest) == 1 || rest[1] == ' ' || rest[1] == '\t' {
			rec.level, rec.msg = lvl, appSkipSpace(rest[1:])
			return true
		}
		r2 := rest[1:]
		j := bytes.IndexByte(r2, ':')
		if j <= 0 || !pyNameOK(r2[:j]) {
			return false
		}
		rec.level, rec.logger, rec.msg = lvl, r2[:j], r2[j+1:]
		return true
	case ' ', '\t':
	default:
		return false
	}
	rest = appSkipSpace(rest)
	if pyJavaLike(rest) {
		return false
	}
	rec.level = lvl
	if bracketTs && bytes.HasPrefix(rest, []byte("in ")) {
		// Flask: "in module: message"
		m := rest[3:]
		if j := bytes.IndexByte(m, ':'); j > 0 && pyNameOK(m[:j]) && (j+1 == len(m) || m[j+1] == ' ') {
			rec.module = m[:j]
			if j+2 <= len(m) {
				rec.msg = m[j+2:]
			} else {
				rec.msg = m[j+1:]
			}
			return true
		}
	}
	pyNameAndMsg(rest, true, rec)
	return true
}

// pyNameFirst parses "name LEVEL message" with padding
// ("%(asctime)s %(name)-12s %(levelname)-8s %(message)s", logging cookbook).
func pyNameFirst(r []byte, rec *pyRec) bool {
	te := 0
	for te < len(r) && r[te] != ' ' && r[te] != '\t' {
		te++
	}
	if te == len(r) || !pyNameOK(r[:te]) || appDigitsEnd(r[:te]) == te {
		return false // a number is a pid (oslo.log's "ts pid LEVEL"), not a logger
	}
	a := appSkipSpace(r[te:])
	i := 0
	for i < len(a) && i < 13 && a[i] >= 'A' && a[i] <= 'Z' {
		i++
	}
	if !pyLevel(a[:i], false) || (i < len(a) && a[i] != ' ' && a[i] != '\t') {
		return false
	}
	rec.logger, rec.level, rec.msg = r[:te], a[:i], appSkipSpace(a[i:])
	return true
}

// pyNameAndMsg splits an optional logger name off the message: "name: msg",
// "name - msg", "[name] msg" and, when bare is set, "dotted.name msg".
func pyNameAndMsg(r []byte, bare bool, rec *pyRec) {
	te := 0
	for te < len(r) && r[te] != ' ' && r[te] != '\t' {
		te++
	}
	tok, after := r[:te], r[te:]
	switch {
	case len(tok) > 1 && tok[len(tok)-1] == ':' && pyNameOK(tok[:len(tok)-1]):
		rec.logger = tok[:len(tok)-1]
		if len(after) > 0 {
			after = after[1:]
		}
		rec.msg = after
	case bytes.HasPrefix(after, []byte(" - ")) && pyNameOK(tok):
		rec.logger, rec.msg = tok, after[3:]
	case len(tok) > 2 && tok[0] == '[' && tok[len(tok)-1] == ']' && pyNameOK(tok[1:len(tok)-1]):
		rec.logger, rec.msg = tok[1:len(tok)-1], appSkipSpace(after)
	case bare && len(after) > 0 && pyLoggerish(tok):
		rec.logger, rec.msg = tok, appSkipSpace(after)
	default:
		rec.msg = r
	}
}

// pyJavaLike spots Java layouts that follow "<date> <LEVEL>": Spring Boot's
// "12345 --- [" and log4j's "[thread] logger - msg".
func pyJavaLike(r []byte) bool {
	if d := appDigitsEnd(r); d > 0 && bytes.HasPrefix(r[d:], []byte(" --- ")) {
		return true
	}
	if len(r) > 0 && r[0] == '[' {
		if e := bytes.IndexByte(r, ']'); e > 0 {
			a := appSkipSpace(r[e+1:])
			te := 0
			for te < len(a) && a[te] != ' ' && a[te] != '\t' {
				te++
			}
			if te > 0 {
				s := appSkipSpace(a[te:])
				if len(s) > 0 && (s[0] == '-' || s[0] == ':') && (len(s) == 1 || s[1] == ' ') {
					return true
				}
			}
		}
	}
	return false
}

// pyDjango parses the Django docs' verbose format
// "%(levelname)s %(asctime)s %(module)s %(process)d %(thread)d %(message)s".
func pyDjango(line []byte, rec *pyRec) (time.Time, bool) {
	i := 0
	for i < len(line) && i < 13 && line[i] >= 'A' && line[i] <= 'Z' {
		i++
	}
	if i >= len(line) || line[i] != ' ' || !pyLevel(line[:i], false) {
		return time.Time{}, false
	}
	b := line[i+1:]
	t, n, ok := pyTime(b)
	if !ok || n >= len(b) || b[n] != ' ' {
		return t, false
	}
	r := b[n+1:]
	me := bytes.IndexByte(r, ' ')
	if me <= 0 || !pyNameOK(r[:me]) {
		return t, false
	}
	module := r[:me]
	r = r[me+1:]
	pe := appDigitsEnd(r)
	if pe == 0 || pe >= len(r) || r[pe] != ' ' {
		return t, false
	}
	pid := r[:pe]
	r = r[pe+1:]
	te := appDigitsEnd(r)
	if te == 0 || (te < len(r) && r[te] != ' ') {
		return t, false
	}
	thread := r[:te]
	r = r[te:]
	if len(r) > 0 {
		r = r[1:]
	}
	rec.level, rec.module, rec.pid, rec.thread, rec.msg = line[:i], module, pid, thread, r
	return t, true
}
