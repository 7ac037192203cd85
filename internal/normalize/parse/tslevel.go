package parse

import (
	"bytes"
	"time"
)

// TimestampLevelParser is the last structured fallback for text lines that
// start with an ISO-8601 / RFC 3339 timestamp (optionally in square
// brackets):
//
//	2024-01-15T10:30:45.123Z INFO  starting worker
//	2024-01-15 10:30:45 [warn] disk almost full
//	[2024-01-15T10:30:45+01:00] ERROR: connection refused
//	2024-04-25T05:32:35.584725130Z  * Serving Flask app 'app.py'   (docker --timestamps)
//
// A recognised level word after the timestamp (any case when bracketed or
// followed by ':', otherwise all upper or all lower case) makes the record
// "ts-level"; without one the line is "ts-text" and the whole rest is the
// message. The parser is stateless.
type TimestampLevelParser struct{}

// Name implements Parser.
func (*TimestampLevelParser) Name() string { return "ts-level" }

// Parse implements Parser.
func (*TimestampLevelParser) Parse(line []byte, f *Fields) bool {
	if len(line) < 19 {
		return false
	}
	b := line
	bracket := false
	if b[0] == '[' {
		bracket = true
		b = b[1:]
	}
	if b[0] < '0' || b[0] > '9' {
		return false
	}
	t, n, local, ok := ISO(b)
	if !ok || !appTimeSane(t) {
		return false
	}
	rest := b[n:]
	if bracket {
		if len(rest) == 0 || rest[0] != ']' {
			return false
		}
		rest = rest[1:]
	}
	// The timestamp must be a whole token.
	if len(rest) > 0 && rest[0] != ' ' && rest[0] != '\t' {
		return false
	}
	rest = appSkipSpace(rest)
	// CRI container log lines ("<ts> stdout F msg") belong to the CRI
	// unwrapper, not here.
	if appIsCRI(rest) {
		return false
	}
	f.Time, f.HasTime, f.TimeLocal = t, true, local
	// Optional separator before the level: "- " or "| ".
	r := rest
	if len(r) >= 2 && (r[0] == '-' || r[0] == '|') && r[1] == ' ' {
		r = appSkipSpace(r[2:])
	}
	lvl, after, ok := appLevelToken(r)
	var channel []byte
	if !ok {
		channel, lvl, after, ok = appMonolog(r)
	}
	if !ok {
		// A process or thread id before the level: "[1234] LOG:"
		// (PostgreSQL's default prefix), "0 [Warning]" (MySQL).
		if id, rest2, isPid := appIDToken(r); len(id) > 0 {
			if lvl, after, ok = appLevelToken(rest2); ok {
				key := appKeyThread
				if isPid {
					key = appKeyPid
				}
				f.AddExtra(key, Num(id))
			}
		}
	}
	if ok {
		f.Format = "ts-level"
		f.Level = lvl
		if channel != nil {
			f.Logger = Str(channel)
		}
		after = appSkipSpace(after)
		if len(after) >= 2 && (after[0] == '-' || after[0] == '|' || after[0] == ':') && after[1] == ' ' {
			after = appSkipSpace(after[2:])
		}
		f.Message = Str(after)
		return true
	}
	f.Format = "ts-text"
	f.Message = Str(rest)
	return true
}

// appLevelToken reads a level token at the start of b: "LEVEL", "[LEVEL]",
// "LEVEL:" or "<LEVEL>" followed by a space, a tab or the end of b. It
// returns the level word and the rest after the token.
func appLevelToken(b []byte) (lvl, rest []byte, ok bool) {
	if len(b) < 3 {
		return nil, nil, false
	}
	if b[0] == '[' || b[0] == '<' {
		closer := byte(']')
		if b[0] == '<' {
			closer = '>'
		}
		end := -1
		for i := 1; i < len(b) && i <= 12; i++ {
			if b[i] == closer {
				end = i
				break
			}
		}
		if end < 0 {
			return nil, nil, false
		}
		w := appTrimSpace(b[1:end])
		rest = b[end+1:]
		if len(rest) > 0 && rest[0] == ':' {
			rest = rest[1:]
		}
		if !(appLevelWord(w) || appWeakLevelWord(w)) || !appCaseOK(w, true) || (len(rest) > 0 && rest[0] != ' ' && rest[0] != '\t') {
			return nil, nil, false
		}
		return w, rest, true
	}
	i := 0
	for i < len(b) && i <= 10 && appIsLetter(b[i]) {
		i++
	}
	if i == 0 {
		return nil, nil, false
	}
	w := b[:i]
	rest = b[i:]
	colon := false
	if len(rest) > 0 && rest[0] == ':' {
		colon = true
		rest = rest[1:]
	}
	if len(rest) > 0 && rest[0] != ' ' && rest[0] != '\t' {
		return nil, nil, false
	}
	if !(appLevelWord(w) || colon && appWeakLevelWord(w)) || !appCaseOK(w, colon) {
		return nil, nil, false
	}
	return w, rest, true
}

// appTagMessage splits "tag: message" at the first ": "; a final ':'
// gives an empty message.
func appTagMessage(b []byte) (tag, msg []byte, ok bool) {
	if sep := bytes.Index(b, []byte(": ")); sep >= 0 {
		return b[:sep], b[sep+2:], true
	}
	if len(b) > 0 && b[len(b)-1] == ':' {
		return b[:len(b)-1], b[len(b):], true
	}
	return nil, nil, false
}

// appMonolog reads PHP Monolog's "channel.LEVEL:" (LineFormatter
// "[%datetime%] %channel%.%level_name%: %message% %context% %extra%",
// Laravel's "production.ERROR:").
func appMonolog(b []byte) (channel, lvl, rest []byte, ok bool) {
	dot := -1
	for i := 0; i < len(b) && i < 64; i++ {
		c := b[i]
		if c == '.' {
			dot = i
			continue
		}
		if c == ':' {
			if dot <= 0 || dot == i-1 || i+1 < len(b) && b[i+1] != ' ' {
				return nil, nil, nil, false
			}
			w := b[dot+1 : i]
			if !appLevelWord(w) || !appCaseOK(w, false) || w[0] < 'A' || w[0] > 'Z' {
				return nil, nil, nil, false
			}
			return b[:dot], w, b[i+1:], true
		}
		if !(appIsLetter(c) || appIsDigit(c) || c == '_' || c == '-') {
			return nil, nil, nil, false
		}
	}
	return nil, nil, nil, false
}

// appIDToken reads a process id "[1234]" / "[1234]:" (isPid) or a bare
// thread number "0" followed by a space, and returns the digits and what
// follows the space.
func appIDToken(b []byte) (id, rest []byte, isPid bool) {
	if len(b) > 0 && b[0] == '[' {
		n := appDigitsEnd(b[1:])
		if n == 0 || n > 10 || len(b) < n+3 || b[n+1] != ']' {
			return nil, nil, false
		}
		rest = b[n+2:]
		if rest[0] == ':' {
			rest = rest[1:]
		}
		if len(rest) == 0 || rest[0] != ' ' {
			return nil, nil, false
		}
		return b[1 : n+1], appSkipSpace(rest), true
	}
	n := appDigitsEnd(b)
	if n == 0 || n > 10 || len(b) <= n || b[n] != ' ' {
		return nil, nil, false
	}
	return b[:n], appSkipSpace(b[n:]), false
}

// appIsCRI reports whether b starts like the body of a CRI log line:
// "stdout F " / "stderr P ".
func appIsCRI(b []byte) bool {
	if len(b) < 9 || (string(b[:7]) != "stdout " && string(b[:7]) != "stderr ") {
		return false
	}
	return (b[7] == 'F' || b[7] == 'P') && (len(b) == 8 || b[8] == ' ')
}

// ---- shared helpers for the hand-written text parsers (prefix "app") ----

var (
	appKeyThread    = []byte("thread")
	appKeyPid       = []byte("pid")
	appKeyRecovered = []byte("recovered")
	appKeyAppGroup  = []byte("app_group")
	appKeyProcName  = []byte("process_name")
	appTrue         = []byte("true")
)

// appTimeSane rejects times no log line can carry (used to keep the
// fallbacks from matching version numbers and the like).
func appTimeSane(t time.Time) bool {
	y := t.Year()
	return y >= 1970 && y <= 2200
}

func appIsLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func appIsDigit(c byte) bool { return c >= '0' && c <= '9' }

func appUpper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

func appSkipSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	return b
}

func appTrimSpace(b []byte) []byte {
	b = appSkipSpace(b)
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// appEqFold reports whether b equals the upper-case ASCII word w, ignoring
// case.
func appEqFold(b []byte, w string) bool {
	if len(b) != len(w) {
		return false
	}
	for i := 0; i < len(b); i++ {
		if appUpper(b[i]) != w[i] {
			return false
		}
	}
	return true
}

// appCaseOK accepts ALL-UPPER and all-lower words, and Capitalised ones
// only when loose is set (bracketed or colon-terminated tokens).
func appCaseOK(w []byte, loose bool) bool {
	upper, lower := true, true
	for i, c := range w {
		if c >= 'a' && c <= 'z' {
			upper = false
		} else if c >= 'A' && c <= 'Z' {
			lower = false
			if i > 0 {
				loose = false
			}
		}
	}
	return upper || lower || loose
}

var appLevelWords = [...]string{
	"TRACE", "DEBUG", "INFO", "NOTICE", "WARN", "WARNING", "ERROR", "ERR",
	"CRITICAL", "CRIT", "FATAL", "ALERT", "EMERG", "EMERGENCY", "PANIC",
}

// appWeakLevelWords are level words only where the token's shape says so
// ("LOG:" in PostgreSQL, "[Note]" and "[System]" in MySQL): bare, they are
// ordinary words that start many messages.
var appWeakLevelWords = [...]string{"LOG", "NOTE", "SYSTEM"}

func appWeakLevelWord(w []byte) bool {
	for _, l := range appWeakLevelWords {
		if appEqFold(w, l) {
			return true
		}
	}
	return false
}

// appLevelWord reports whether w is a common level word (any case).
func appLevelWord(w []byte) bool {
	if len(w) < 3 || len(w) > 9 {
		return false
	}
	for _, l := range appLevelWords {
		if len(l) == len(w) && appEqFold(w, l) {
			return true
		}
	}
	return false
}

// appDigitsEnd returns the length of the run of ASCII digits at b[0].
func appDigitsEnd(b []byte) int {
	i := 0
	for i < len(b) && appIsDigit(b[i]) {
		i++
	}
	return i
}

// appFileLine splits "path/file.ext:123" into file and line. The file part
// must be non-empty and free of spaces.
func appFileLine(b []byte) (file, line []byte, ok bool) {
	i := len(b) - 1
	for i >= 0 && appIsDigit(b[i]) {
		i--
	}
	if i <= 0 || i == len(b)-1 || b[i] != ':' || len(b)-1-i > 9 {
		return nil, nil, false
	}
	for _, c := range b[:i] {
		if c <= ' ' {
			return nil, nil, false
		}
	}
	return b[:i], b[i+1:], true
}
