package normalize

import (
	"github.com/starmates/logshipd/internal/event"
	"github.com/starmates/logshipd/internal/normalize/parse"
)

// mapLevel maps a raw level token to a canonical level. ok=false means the
// token has no canonical meaning (e.g. "STATS"): the caller applies policy.
func mapLevel(f *parse.Fields) (event.Level, bool) {
	raw := f.Level
	if len(raw) == 0 {
		return event.LevelUnset, false
	}
	if f.LevelScheme != parse.LevelText && isDigits(raw) {
		n := f.LevelNum
		scheme := f.LevelScheme
		if scheme == parse.LevelBunyan && n < 10 {
			// Not a bunyan level (10..60): 0..7 under a level key is a
			// syslog severity (GELF, syslog-to-JSON bridges).
			scheme = parse.LevelSyslog
		}
		switch scheme {
		case parse.LevelBunyan:
			switch {
			case n <= 0:
				return event.LevelUnset, false
			case n <= 20:
				return event.LevelDebug, true
			case n <= 30:
				return event.LevelInfo, true
			case n <= 40:
				return event.LevelWarn, true
			default:
				return event.LevelError, true
			}
		case parse.LevelSyslog:
			switch {
			case n <= 3:
				return event.LevelError, true
			case n == 4:
				return event.LevelWarn, true
			case n <= 6:
				return event.LevelInfo, true
			case n == 7:
				return event.LevelDebug, true
			}
			return event.LevelUnset, false
		case parse.LevelOTLP:
			switch {
			case n >= 1 && n <= 8:
				return event.LevelDebug, true
			case n >= 9 && n <= 12:
				return event.LevelInfo, true
			case n >= 13 && n <= 16:
				return event.LevelWarn, true
			case n >= 17 && n <= 24:
				return event.LevelError, true
			}
			return event.LevelUnset, false
		}
	}
	if f.LevelScheme == parse.LevelRedis && len(raw) == 1 {
		switch raw[0] {
		case '.', '-':
			return event.LevelDebug, true
		case '*':
			return event.LevelInfo, true
		case '#':
			return event.LevelWarn, true
		}
	}
	var low [16]byte
	if len(raw) > len(low) {
		return event.LevelUnset, false
	}
	n := 0
	for _, c := range raw {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		low[n] = c
		n++
	}
	switch string(low[:n]) {
	case "trace", "debug", "debug1", "debug2", "debug3", "debug4", "debug5", "fine", "finer", "finest", "verbose", "dbg", "dbug", "d", "t", "v", "trc", "all", "config":
		return event.LevelDebug, true
	case "info", "information", "informational", "notice", "i", "n", "inf", "success", "ok", "log", "note", "system":
		return event.LevelInfo, true
	case "warn", "warning", "w", "wrn", "warnings":
		return event.LevelWarn, true
	case "error", "err", "critical", "crit", "fatal", "alert", "emerg", "emergency", "panic", "severe", "dpanic", "e", "f", "c", "a", "eror", "ftl", "exception":
		return event.LevelError, true
	}
	return event.LevelUnset, false
}

func isDigits(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
