package parse

import "time"

// LogcatParser parses Android logcat's default "threadtime" format:
//
//	MM-DD hh:mm:ss.mmm  PID  TID L TAG     : message
//	03-17 16:13:38.811  1702  2395 D WindowManager: printFreezingDisplayLogs
//
// L is V (verbose), D, I, W, E, F or A (assert), kept raw in Level. The
// tag (padded to 8 characters) fills Logger; pid and tid go to Extra "pid"
// and "thread". The time has neither year (TimeNoYear) nor zone
// (TimeLocal). Stateless.
type LogcatParser struct{}

// Name implements Parser.
func (*LogcatParser) Name() string { return "logcat" }

// Parse implements Parser.
func (*LogcatParser) Parse(line []byte, f *Fields) bool {
	if len(line) < 24 || line[2] != '-' || line[5] != ' ' {
		return false
	}
	mo, ok1 := digits(line, 2)
	d, ok2 := digits(line[3:], 2)
	clk, n, ok3 := Clock(line[6:])
	if !(ok1 && ok2 && ok3) || mo < 1 || mo > 12 || d < 1 || d > 31 || n < 12 {
		return false
	}
	b := line[6+n:]
	var ids [2][]byte
	for k := range ids {
		s := appSkipSpace(b)
		if len(s) == len(b) { // at least one space
			return false
		}
		e := appDigitsEnd(s)
		if e == 0 || e > 10 {
			return false
		}
		ids[k], b = s[:e], s[e:]
	}
	if len(b) < 4 || b[0] != ' ' || b[2] != ' ' {
		return false
	}
	switch b[1] {
	case 'V', 'D', 'I', 'W', 'E', 'F', 'A':
	default:
		return false
	}
	lvl := b[1:2]
	b = b[3:]
	tag, msg, ok := appTagMessage(b)
	tag = appTrimSpace(tag)
	if !ok || len(tag) == 0 {
		return false
	}
	f.Format = "logcat"
	f.Time = time.Date(0, time.Month(mo), d, 0, 0, 0, 0, time.UTC).Add(clk)
	f.HasTime, f.TimeLocal, f.TimeNoYear = true, true, true
	f.Level = lvl
	f.Logger = Str(tag)
	f.Message = Str(msg)
	f.AddExtra(appKeyPid, Num(ids[0]))
	f.AddExtra(appKeyThread, Num(ids[1]))
	return true
}
