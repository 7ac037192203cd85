package parse

import "bytes"

// RubyLoggerParser parses Ruby's standard Logger::Formatter line (Rails,
// Sidekiq, most Ruby programs):
//
//	S, [yyyy-mm-ddThh:mm:ss.uuuuuu #pid] SEVERITY -- progname: message
//	E, [2026-11-25T10:00:00.123456 #1234] ERROR -- : Rails error happened
//
// S is the severity's first letter (D, I, W, E, F, A) and must agree with
// SEVERITY (right-aligned to 5 characters: DEBUG, INFO, WARN, ERROR,
// FATAL, ANY). The time has no zone (TimeLocal). progname, when present,
// fills Logger; pid goes to Extra "pid". Backtraces a program prints after
// the line are joined to it by the multiline rules.
type RubyLoggerParser struct{}

// Name implements Parser.
func (*RubyLoggerParser) Name() string { return "ruby-logger" }

var rubySeverities = [...]string{"DEBUG", "INFO", "WARN", "ERROR", "FATAL", "ANY"}

// Parse implements Parser.
func (*RubyLoggerParser) Parse(line []byte, f *Fields) bool {
	if len(line) < 32 || line[1] != ',' || line[2] != ' ' || line[3] != '[' {
		return false
	}
	switch line[0] {
	case 'D', 'I', 'W', 'E', 'F', 'A':
	default:
		return false
	}
	t, n, local, ok := ISO(line[4:])
	if !ok {
		return false
	}
	b := line[4+n:]
	if len(b) < 3 || b[0] != ' ' || b[1] != '#' {
		return false
	}
	pid := appDigitsEnd(b[2:])
	if pid == 0 || len(b) < 2+pid+1 || b[2+pid] != ']' {
		return false
	}
	pidB := b[2 : 2+pid]
	b = appSkipSpace(b[3+pid:])
	var sev []byte
	for _, s := range rubySeverities {
		if len(b) >= len(s) && string(b[:len(s)]) == s {
			sev = b[:len(s)]
			break
		}
	}
	if sev == nil || sev[0] != line[0] {
		return false
	}
	b = b[len(sev):]
	if !bytes.HasPrefix(b, []byte(" -- ")) {
		return false
	}
	b = b[4:]
	// progname ends at the first ": " (an empty progname gives "-- : msg").
	prog, msg, ok := appTagMessage(b)
	if !ok {
		return false
	}
	f.Format = "ruby-logger"
	f.Time, f.HasTime, f.TimeLocal = t, true, local
	f.Level = sev
	if len(prog) > 0 {
		f.Logger = Str(prog)
	}
	f.Message = Str(msg)
	f.AddExtra(appKeyPid, Num(pidB))
	return true
}
