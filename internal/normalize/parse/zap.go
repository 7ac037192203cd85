package parse

import (
	"bytes"
	"math"
	"strconv"
	"time"

	"github.com/tidwall/gjson"
)

// ZapConsoleParser parses zap's console encoder (zap.NewDevelopment and
// zapcore.NewConsoleEncoder): tab-separated
//
//	time \t LEVEL \t [logger \t] [caller \t] message [\t {json context}]
//
// e.g. "2026-11-25T21:47:12.277Z\tINFO\tthirdparty/main.go:69\tstarting\t{"pid": 1}".
// zap omits empty elements, so the time, logger and caller are optional;
// the level (DEBUG INFO WARN ERROR DPANIC PANIC FATAL, upper or lower case,
// ANSI colours already stripped) is required. Times may be ISO-8601 /
// RFC 3339 or epoch numbers (seconds, millis or nanos, plain or in
// exponent notation as fmt prints float64). The caller "dir/file.go:69"
// fills Source.File and Source.Line. The trailing JSON object is validated
// with gjson and each key goes through Fields.SetKey; if it is not valid
// JSON it stays part of the message. The parser is stateless.
type ZapConsoleParser struct{}

// Name implements Parser.
func (*ZapConsoleParser) Name() string { return "zap-console" }

// Parse implements Parser.
func (*ZapConsoleParser) Parse(line []byte, f *Fields) bool {
	tab := bytes.IndexByte(line, '\t')
	if tab <= 0 || tab > 64 {
		return false
	}
	first := line[:tab]
	rest := line[tab+1:]
	var (
		t       time.Time
		hasTime bool
		local   bool
		lvl     []byte
	)
	if zapLevel(first) {
		lvl = first
	} else {
		var ok bool
		if t, local, ok = zapTime(first); !ok {
			return false
		}
		hasTime = true
		tab = bytes.IndexByte(rest, '\t')
		if tab <= 0 || !zapLevel(rest[:tab]) {
			return false
		}
		lvl = rest[:tab]
		rest = rest[tab+1:]
	}

	// Trailing JSON context: JSON never contains a raw tab, so it is the
	// field after the last tab.
	var ctx []byte
	badCtx := false
	if n := len(rest); n >= 2 && rest[n-1] == '}' {
		lt := bytes.LastIndexByte(rest, '\t')
		if lt >= 0 && rest[lt+1] == '{' {
			if gjson.ValidBytes(rest[lt+1:]) {
				ctx = rest[lt+1:]
				rest = rest[:lt]
			} else {
				badCtx = true
			}
		}
	}

	// Logger and caller before the message.
	var logger, file, lineNo []byte
	nf := bytes.Count(rest, []byte{'\t'}) + 1
	if badCtx {
		nf-- // the broken JSON is message text, not a field of its own
	}
	g0, r1, has1 := zapCut(rest)
	if fl, ln, ok := zapCaller(g0); ok && has1 {
		file, lineNo, rest = fl, ln, r1
	} else if has1 && nf >= 2 && zapNameOK(g0) {
		g1, r2, has2 := zapCut(r1)
		if fl, ln, ok := zapCaller(g1); ok && has2 {
			logger, file, lineNo, rest = g0, fl, ln, r2
		} else {
			logger, rest = g0, r1
		}
	}

	f.Format = "zap-console"
	if hasTime {
		f.Time, f.HasTime, f.TimeLocal = t, true, local
	}
	f.Level = lvl
	if logger != nil {
		f.Logger = Str(logger)
	}
	if file != nil {
		f.Source.File = Str(file)
		f.Source.Line = Num(lineNo)
	}
	f.Message = Str(rest)
	if ctx != nil {
		gjson.Parse(sstr(ctx)).ForEach(func(k, v gjson.Result) bool {
			f.SetKey(bstr(k.Str), JSONValue(v))
			return true
		})
	}
	return true
}

// zapCut splits b at the first tab.
func zapCut(b []byte) (field, rest []byte, found bool) {
	if i := bytes.IndexByte(b, '\t'); i >= 0 {
		return b[:i], b[i+1:], true
	}
	return b, nil, false
}

// zapLevel reports whether b is a zap level (Capital or lowercase encoder).
func zapLevel(b []byte) bool {
	if len(b) < 4 || len(b) > 6 || !appCaseOK(b, false) {
		return false
	}
	switch {
	case appEqFold(b, "DEBUG"), appEqFold(b, "INFO"), appEqFold(b, "WARN"), appEqFold(b, "ERROR"),
		appEqFold(b, "DPANIC"), appEqFold(b, "PANIC"), appEqFold(b, "FATAL"):
		return true
	}
	return false
}

// zapCaller accepts zap's short or full caller "dir/file.go:69".
func zapCaller(b []byte) (file, line []byte, ok bool) {
	file, line, ok = appFileLine(b)
	if !ok || bytes.IndexByte(file, '.') < 0 {
		return nil, nil, false
	}
	return file, line, true
}

// zapNameOK accepts a logger name: no spaces, short, not JSON.
func zapNameOK(b []byte) bool {
	if len(b) == 0 || len(b) > 128 || b[0] == '{' || b[0] == '[' || b[0] == '"' {
		return false
	}
	for _, c := range b {
		if c <= ' ' || c == 0x7f {
			return false
		}
	}
	return true
}

// zapTime parses the time element: ISO-8601 / RFC 3339 or an epoch number.
func zapTime(b []byte) (t time.Time, local bool, ok bool) {
	if len(b) >= 19 && b[4] == '-' {
		t, n, loc, ok := ISO(b)
		if !ok || n != len(b) || !appTimeSane(t) {
			return t, false, false
		}
		return t, loc, true
	}
	if len(b) == 0 || len(b) > 32 || !appIsDigit(b[0]) {
		return t, false, false
	}
	exp := false
	for _, c := range b {
		switch {
		case appIsDigit(c), c == '.':
		case c == 'e' || c == 'E' || c == '+' || c == '-':
			exp = true
		default:
			return t, false, false
		}
	}
	if exp {
		v, err := strconv.ParseFloat(sstr(b), 64)
		if err != nil || v < 0 || v >= 1e19 || math.IsNaN(v) {
			return t, false, false
		}
		switch {
		case v < 1e11:
			sec, frac := math.Modf(v)
			t = time.Unix(int64(sec), int64(frac*1e9)).UTC()
		case v < 1e14:
			t = time.Unix(0, int64(v*1e6)).UTC()
		case v < 1e17:
			t = time.Unix(0, int64(v*1e3)).UTC()
		default:
			t = time.Unix(0, int64(v)).UTC()
		}
	} else if t, ok = Epoch(b); !ok {
		return t, false, false
	}
	if t.Year() < 1990 || !appTimeSane(t) {
		return t, false, false
	}
	return t, false, true
}
