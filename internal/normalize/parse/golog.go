package parse

import "bytes"

// GoLogParser parses lines of Go's standard "log" package with the date and
// time flags set (Ldate|Ltime, optionally Lmicroseconds, Lshortfile or
// Llongfile, LUTC, Lmsgprefix):
//
//	2009/11/10 23:00:00 message
//	2009/11/10 23:00:00.123123 main.go:12: message
//	[workflow-runner] 2026/11/25 21:46:20 starting ...      (prefix -> Logger)
//	2009/11/10 23:00:00 [worker] message                     (Lmsgprefix, bracketed)
//
// The text carries no zone (LUTC is invisible), so TimeLocal is always set.
// Lines with only Ldate or only Ltime are too ambiguous and are rejected, as
// are nginx error lines ("<date> <time> [level] pid#tid: ..."). Go log has
// no level of its own; Level is only set from the two conventions layered
// on it: hashicorp/logutils "[WARN] msg" and the log/slog default handler
// "INFO msg k=v" (the token is then removed from Message). The parser is
// stateless.
type GoLogParser struct{}

// Name implements Parser.
func (*GoLogParser) Name() string { return "go-log" }

// goLogMaxPrefix bounds the prefix before the date.
const goLogMaxPrefix = 64

// Parse implements Parser.
func (*GoLogParser) Parse(line []byte, f *Fields) bool {
	if len(line) < 19 {
		return false
	}
	pos := -1
	if appIsDigit(line[0]) {
		pos = 0
	} else {
		// Find "dddd/" after a prefix: look for the slashes, then check
		// the four digits and the prefix terminator before them.
		lim := len(line)
		if lim > goLogMaxPrefix+5 {
			lim = goLogMaxPrefix + 5
		}
		for from := 5; from < lim; {
			j := bytes.IndexByte(line[from:lim], '/')
			if j < 0 {
				break
			}
			i := from + j - 4
			from += j + 1
			if i+19 > len(line) || !appIsDigit(line[i]) {
				continue
			}
			p := line[i-1]
			if p == ' ' || p == ']' || p == ':' || p == '\t' || p == '>' || p == ')' {
				pos = i
				break
			}
		}
	}
	if pos < 0 {
		return false
	}
	t, n, ok := Slashed(line[pos:])
	if !ok || !appTimeSane(t) {
		return false
	}
	var logger []byte
	if pos > 0 {
		pre := line[:pos]
		if appIsDigit(pre[0]) || bytes.IndexByte(pre, '"') >= 0 || bytes.IndexByte(pre, '=') >= 0 || bytes.IndexByte(pre, '{') >= 0 {
			return false
		}
		logger = goLogPrefixName(pre)
		// A prefix is one token unless bracketed ("[my app] ").
		spaces := bytes.Count(logger, []byte{' '})
		if len(logger) == 0 || spaces > 2 || (spaces > 0 && pre[0] != '[' && pre[0] != '(' && pre[0] != '<') {
			return false
		}
	}
	rest := line[pos+n:]
	if len(rest) > 0 {
		if rest[0] != ' ' {
			return false
		}
		rest = rest[1:]
	}
	if goLogNginxLike(rest) {
		return false
	}
	var file, lineNo []byte
	// Lshortfile / Llongfile: "file.go:12: ".
	if te := bytes.IndexByte(rest, ' '); te > 2 && rest[te-1] == ':' {
		if fl, ln, ok := appFileLine(rest[:te-1]); ok && (bytes.HasSuffix(fl, []byte(".go")) || string(fl) == "???") {
			file, lineNo = fl, ln
			rest = rest[te+1:]
		}
	} else if len(rest) > 2 && rest[len(rest)-1] == ':' && te < 0 {
		// "file.go:12:" with an empty message.
		if fl, ln, ok := appFileLine(rest[:len(rest)-1]); ok && (bytes.HasSuffix(fl, []byte(".go")) || string(fl) == "???") {
			file, lineNo = fl, ln
			rest = rest[len(rest):]
		}
	}
	// A level token written by convention at the start of the message:
	// hashicorp/logutils "[WARN] ..." or log/slog's default handler
	// "INFO msg k=v" (slog.Info before slog.SetDefault).
	lvl, after, hasLvl := goLogLevel(rest)
	if hasLvl {
		rest = after
	}
	// Lmsgprefix with a bracketed prefix: "[name] message".
	if !hasLvl && logger == nil && len(rest) > 2 && rest[0] == '[' {
		if e := bytes.IndexByte(rest, ']'); e > 1 && e <= 48 && e+1 < len(rest) && rest[e+1] == ' ' {
			name := rest[1:e]
			if bytes.IndexByte(name, ' ') < 0 && bytes.IndexByte(name, '[') < 0 {
				logger = name
				rest = rest[e+2:]
			}
		}
	}
	f.Format = "go-log"
	f.Time, f.HasTime, f.TimeLocal = t, true, true
	f.Level = lvl
	if logger != nil {
		f.Logger = Str(logger)
	}
	if file != nil {
		f.Source.File = Str(file)
		f.Source.Line = Num(lineNo)
	}
	f.Message = Str(rest)
	return true
}

// goLogLevel reads an upper-case level token at the start of the message:
// "[LEVEL] " (any common level word, hashicorp/logutils) or the log/slog
// default handler's "LEVEL " / "LEVEL+2 " (DEBUG, INFO, WARN, ERROR).
func goLogLevel(b []byte) (lvl, rest []byte, ok bool) {
	if len(b) > 2 && b[0] == '[' {
		e := bytes.IndexByte(b, ']')
		if e < 4 || e > 10 || (e+1 < len(b) && b[e+1] != ' ') {
			return nil, b, false
		}
		w := b[1:e]
		if !appLevelWord(w) || !appCaseOK(w, false) || w[0] < 'A' || w[0] > 'Z' {
			return nil, b, false
		}
		rest = b[e+1:]
		if len(rest) > 0 {
			rest = rest[1:]
		}
		return w, rest, true
	}
	i := 0
	for i < len(b) && i < 6 && b[i] >= 'A' && b[i] <= 'Z' {
		i++
	}
	switch string(b[:i]) {
	case "DEBUG", "INFO", "WARN", "ERROR":
	default:
		return nil, b, false
	}
	if i+1 < len(b) && (b[i] == '+' || b[i] == '-') {
		if d := appDigitsEnd(b[i+1:]); d > 0 && d < 3 {
			i += 1 + d
		}
	}
	if i < len(b) && b[i] != ' ' {
		return nil, b, false
	}
	rest = b[i:]
	if len(rest) > 0 {
		rest = rest[1:]
	}
	return b[:i], rest, true
}

// goLogPrefixName strips brackets, a trailing colon and spaces from a
// log.SetPrefix value: "[name] " -> "name", "name: " -> "name".
func goLogPrefixName(pre []byte) []byte {
	pre = appTrimSpace(pre)
	if len(pre) > 0 && pre[len(pre)-1] == ':' {
		pre = appTrimSpace(pre[:len(pre)-1])
	}
	if len(pre) >= 2 && (pre[0] == '[' && pre[len(pre)-1] == ']' || pre[0] == '<' && pre[len(pre)-1] == '>' || pre[0] == '(' && pre[len(pre)-1] == ')') {
		pre = appTrimSpace(pre[1 : len(pre)-1])
	}
	return pre
}

// goLogNginxLike reports whether b (the text after the time) looks like an
// nginx error-log body: "[level] 123#456: ...".
func goLogNginxLike(b []byte) bool {
	if len(b) < 5 || b[0] != '[' {
		return false
	}
	e := bytes.IndexByte(b, ']')
	if e < 2 || e > 10 || e+2 >= len(b) || b[e+1] != ' ' {
		return false
	}
	r := b[e+2:]
	d := appDigitsEnd(r)
	return d > 0 && d < len(r) && r[d] == '#'
}

// GoPanicParser parses the first line of a Go runtime panic or fatal error:
//
//	panic: assignment to entry in nil map
//	panic: runtime error: index out of range [5] with length 3
//	panic: some error [recovered]
//	fatal error: concurrent map writes
//
// Message is the whole line, Exception.Class "panic" or "fatal error" and
// Exception.Message the text after the colon (a " [recovered]" or
// " [recovered, repanicked]" suffix is dropped from it and recorded as
// Extra recovered=true). There is no level and no time. The parser is
// stateless.
type GoPanicParser struct{}

// Name implements Parser.
func (*GoPanicParser) Name() string { return "go-panic" }

// Parse implements Parser.
func (*GoPanicParser) Parse(line []byte, f *Fields) bool {
	var class, msg []byte
	switch {
	case bytes.HasPrefix(line, []byte("panic: ")):
		class, msg = line[:5], line[7:]
	case bytes.HasPrefix(line, []byte("fatal error: ")):
		class, msg = line[:11], line[13:]
	default:
		return false
	}
	if len(appTrimSpace(msg)) == 0 {
		return false
	}
	recovered := false
	for _, suf := range [...]string{" [recovered]", " [recovered, repanicked]", " [recovered, reraised]"} {
		if bytes.HasSuffix(msg, []byte(suf)) {
			msg = msg[:len(msg)-len(suf)]
			recovered = true
			break
		}
	}
	f.Format = "go-panic"
	f.Message = Str(line)
	f.Exception.Class = Str(class)
	f.Exception.Message = Str(msg)
	if recovered {
		f.AddExtra(appKeyRecovered, Value{B: appTrue, Kind: KindBool})
	}
	return true
}
