package parse

import (
	"bytes"
	"time"
)

// JavaParser parses the header line of the common Java logging layouts:
//
//	Spring Boot 2 (%5p ${PID} --- [%15.15t] %-40.40logger{39} : %m):
//	2024-01-15 10:30:45.123  INFO 12345 --- [           main] c.e.demo.DemoApplication                 : Started ...
//	Spring Boot 3 (ISO time with offset, optional [app] [group] and [traceId-spanId] brackets):
//	2024-01-15T10:30:45.123+01:00  INFO 12345 --- [demo] [           main] c.e.demo.DemoApplication : Started ...
//	logback / log4j2 default (%d{HH:mm:ss.SSS} [%thread] %-5level %logger{36} - %msg):
//	10:30:45.123 [main] INFO  com.example.App - message
//	2024-01-15 10:30:45.123 [main] ERROR com.example.App - message
//	log4j %d %-5p [%t] %c - %m:
//	2024-01-15 10:30:45,123 INFO  [main] com.example.App - message
//	log4j2 %d %p %c{1.} [%t] %m:
//	2024-01-15 10:30:45,123 INFO c.e.App [main] message
//	Hadoop %d %p [%t] %c: %m:
//	2015-10-18 18:01:47,978 INFO [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: Created MRAppMaster
//	Spark %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m:
//	17/06/09 20:10:40 INFO executor.CoarseGrainedExecutorBackend: Registered signal handlers
//	ZooKeeper %d{ISO8601} - %-5p [%t:%C{1}@%L] - %m:
//	2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774] - Notification time out: 3200
//	Hadoop HDFS yyMMdd HHmmss pid LEVEL logger: msg:
//	081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 terminating
//
// Levels: TRACE DEBUG INFO WARN ERROR FATAL and the java.util.logging names
// SEVERE WARNING CONFIG FINE FINER FINEST (upper case, raw). Thread ->
// Extra "thread", pid -> Extra "pid", logger -> Logger, Spring's application
// name -> Service, application group -> Extra "app_group", correlation
// [traceId-spanId] -> TraceID/SpanID. Layouts with only a clock (no date)
// leave HasTime false. The parser is stateless.
type JavaParser struct{}

// Name implements Parser.
func (*JavaParser) Name() string { return "java" }

type javRec struct {
	level, logger, thread, pid, app, group, trace, span, msg []byte
}

// Parse implements Parser.
func (*JavaParser) Parse(line []byte, f *Fields) bool {
	if len(line) < 16 {
		return false
	}
	var (
		t       time.Time
		hasTime bool
		local   bool
		rec     javRec
		ok      bool
	)
	switch {
	case line[0] == '[':
		t, local, ok = javBracketed(line, &rec)
		hasTime = ok
	case !appIsDigit(line[0]):
		return false
	case len(line) >= 19 && line[4] == '-':
		var n int
		t, n, local, ok = ISO(line)
		if !ok || !appTimeSane(t) || n >= len(line) || line[n] != ' ' {
			return false
		}
		body := appSkipSpace(line[n:])
		if bytes.HasPrefix(body, []byte("- ")) {
			// ZooKeeper "%d{ISO8601} - %-5p [%t:%C{1}@%L] - %m"
			ok = javZooKeeper(appSkipSpace(body[2:]), &rec)
		} else {
			ok = javBody(body, &rec)
		}
		hasTime = true
	case line[2] == ':':
		_, n, cok := Clock(line)
		if !cok || n >= len(line) || line[n] != ' ' {
			return false
		}
		ok = javBody(appSkipSpace(line[n:]), &rec)
	case line[2] == '-' && appIsLetter(line[3]):
		t, ok = javTomcat(line, &rec)
		hasTime, local = ok, true
	case line[2] == '/' && line[5] == '/' && line[8] == ' ':
		t, ok = javShortDate(line, &rec)
		hasTime, local = ok, true
	case line[6] == ' ' && appDigitsEnd(line) == 6 && appDigitsEnd(line[7:]) == 6 && line[13] == ' ':
		t, ok = javCompactDate(line, &rec)
		hasTime, local = ok, true
	}
	if !ok {
		return false
	}
	f.Format = "java"
	if hasTime {
		f.Time, f.HasTime, f.TimeLocal = t, true, local
	}
	f.Level = rec.level
	if rec.logger != nil {
		f.Logger = Str(rec.logger)
	}
	f.Message = Str(rec.msg)
	if rec.app != nil {
		f.Service = Str(rec.app)
	}
	if rec.trace != nil {
		f.TraceID = Str(rec.trace)
		f.SpanID = Str(rec.span)
	}
	if rec.pid != nil {
		f.AddExtra(appKeyPid, Num(rec.pid))
	}
	if rec.group != nil {
		f.AddExtra(appKeyAppGroup, Str(rec.group))
	}
	if rec.thread != nil {
		f.AddExtra(appKeyThread, Str(rec.thread))
	}
	return true
}

// javZooKeeper parses "LEVEL [thread:Class@line] - msg" (ZooKeeper's
// log4j layout); the bracket may hold brackets ("QuorumPeer[myid=1]").
func javZooKeeper(r []byte, rec *javRec) bool {
	lvl, after := javToken(r)
	if !javLevel(lvl) {
		return false
	}
	after = appSkipSpace(after)
	if len(after) < 2 || after[0] != '[' {
		return false
	}
	depth, e := 0, -1
	for i, c := range after {
		if c == '[' {
			depth++
		} else if c == ']' {
			depth--
			if depth == 0 {
				e = i
				break
			}
		}
		if i > 512 {
			return false
		}
	}
	if e < 2 || !bytes.HasPrefix(after[e+1:], []byte(" - ")) {
		return false
	}
	in := after[1:e]
	rec.level, rec.msg = lvl, after[e+4:]
	if at := bytes.LastIndexByte(in, '@'); at > 0 {
		if c := bytes.LastIndexByte(in[:at], ':'); c >= 0 && javLoggerOK(in[c+1:at], false) {
			rec.thread, rec.logger = in[:c], in[c+1:at]
			return true
		}
	}
	rec.thread = in
	return true
}

// javShortDate parses Spark's default log4j layout
// ("%d{yy/MM/dd HH:mm:ss} %p %c{1}: %m"):
//
//	17/06/09 20:10:40 INFO executor.CoarseGrainedExecutorBackend: Registered signal handlers
func javShortDate(line []byte, rec *javRec) (time.Time, bool) {
	y, ok1 := digits(line, 2)
	mo, ok2 := digits(line[3:], 2)
	d, ok3 := digits(line[6:], 2)
	clk, n, ok4 := Clock(line[9:])
	if !(ok1 && ok2 && ok3 && ok4) || !validDate(2000+y, mo, d, 0, 0, 0) || 9+n >= len(line) || line[9+n] != ' ' {
		return time.Time{}, false
	}
	if !javLevelLoggerColon(appSkipSpace(line[9+n:]), rec) {
		return time.Time{}, false
	}
	return time.Date(2000+y, time.Month(mo), d, 0, 0, 0, 0, time.UTC).Add(clk), true
}

// javCompactDate parses the Hadoop HDFS layout "yyMMdd HHmmss pid LEVEL
// logger: msg":
//
//	081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 terminating
func javCompactDate(line []byte, rec *javRec) (time.Time, bool) {
	y, _ := digits(line, 2)
	mo, _ := digits(line[2:], 2)
	d, _ := digits(line[4:], 2)
	h, _ := digits(line[7:], 2)
	mi, _ := digits(line[9:], 2)
	sec, _ := digits(line[11:], 2)
	if !validDate(2000+y, mo, d, h, mi, sec) || h > 23 {
		return time.Time{}, false
	}
	r := line[14:]
	pid := appDigitsEnd(r)
	if pid == 0 || pid >= len(r) || r[pid] != ' ' {
		return time.Time{}, false
	}
	if !javLevelLoggerColon(r[pid+1:], rec) {
		return time.Time{}, false
	}
	rec.pid = r[:pid]
	return time.Date(2000+y, time.Month(mo), d, h, mi, sec, 0, time.UTC), true
}

// javLevelLoggerColon parses "LEVEL logger: msg".
func javLevelLoggerColon(r []byte, rec *javRec) bool {
	lvl, after := javToken(r)
	if !javLevel(lvl) {
		return false
	}
	lg, after := javToken(appSkipSpace(after))
	if len(lg) < 2 || lg[len(lg)-1] != ':' || !javLoggerOK(lg[:len(lg)-1], false) {
		return false
	}
	if len(after) > 0 {
		after = after[1:]
	}
	rec.level, rec.logger, rec.msg = lvl, lg[:len(lg)-1], after
	return true
}

// javBracketed parses the layouts that bracket the timestamp:
//
//	Kafka / ZooKeeper ("[%d] %p %m (%c)"):
//	[2024-01-15 10:30:45,123] INFO [KafkaServer id=1] started (kafka.server.KafkaServer)
//	Elasticsearch ("[%d{ISO8601}][%-5p][%-25c{1.}] %m"):
//	[2024-01-15T10:30:45,123][INFO ][o.e.n.Node               ] [node-1] started
func javBracketed(line []byte, rec *javRec) (time.Time, bool, bool) {
	b := line[1:]
	t, n, local, ok := ISO(b)
	if !ok || !appTimeSane(t) || n >= len(b) || b[n] != ']' {
		return t, false, false
	}
	r := b[n+1:]
	if len(r) > 0 && r[0] == '[' {
		lv, after, ok := javBracketGlued(r)
		if !ok || !javLevel(appTrimSpace(lv)) {
			return t, false, false
		}
		lg, after, ok := javBracketGlued(after)
		lg = appTrimSpace(lg)
		if !ok || !javLoggerOK(lg, false) || (len(after) > 0 && after[0] != ' ') {
			return t, false, false
		}
		if len(after) > 0 {
			after = after[1:]
		}
		rec.level, rec.logger, rec.msg = appTrimSpace(lv), lg, after
		return t, local, true
	}
	if len(r) < 2 || r[0] != ' ' {
		return t, false, false
	}
	lvl, after := javToken(r[1:])
	if !javLevel(lvl) || len(after) < 2 || r[len(r)-1] != ')' {
		return t, false, false
	}
	msg := appSkipSpace(after)
	if bytes.HasPrefix(msg, []byte("in ")) {
		// Flask's "[%(asctime)s] %(levelname)s in %(module)s: %(message)s"
		if c := bytes.IndexByte(msg, ':'); c > 3 && bytes.IndexByte(msg[3:c], ' ') < 0 {
			return t, false, false
		}
	}
	i := bytes.LastIndex(msg, []byte(" ("))
	if i < 0 {
		return t, false, false
	}
	lg := msg[i+2 : len(msg)-1]
	if !javLoggerOK(lg, false) || bytes.IndexByte(lg, '.') <= 0 || bytes.IndexByte(lg, ' ') >= 0 {
		return t, false, false
	}
	rec.level, rec.logger, rec.msg = lvl, lg, msg[:i]
	return t, local, true
}

// javBracketGlued reads "[content]" at r[0] without requiring a space after.
func javBracketGlued(r []byte) (in, after []byte, ok bool) {
	if len(r) < 2 || r[0] != '[' {
		return nil, nil, false
	}
	e := bytes.IndexByte(r, ']')
	if e < 1 || e > 256 {
		return nil, nil, false
	}
	return r[1:e], r[e+1:], true
}

// javTomcat parses Tomcat's java.util.logging OneLineFormatter:
// "15-Jan-2024 10:30:45.123 INFO [main] org.apache.catalina.startup.Catalina.start Server startup in [1234] milliseconds".
func javTomcat(line []byte, rec *javRec) (time.Time, bool) {
	if len(line) < 21 || line[6] != '-' || line[11] != ' ' {
		return time.Time{}, false
	}
	d, ok1 := digits(line, 2)
	mo, ok2 := Month(line[3:])
	y, ok3 := digits(line[7:], 4)
	clk, n, ok4 := Clock(line[12:])
	if !(ok1 && ok2 && ok3 && ok4) || d < 1 || d > 31 {
		return time.Time{}, false
	}
	t := time.Date(y, mo, d, 0, 0, 0, 0, time.UTC).Add(clk)
	r := line[12+n:]
	if !appTimeSane(t) || len(r) < 2 || r[0] != ' ' {
		return t, false
	}
	lvl, after := javToken(r[1:])
	if !javLevel(lvl) {
		return t, false
	}
	th, after, ok := javBracket(appSkipSpace(after))
	if !ok || len(after) < 2 {
		return t, false
	}
	src, after := javToken(after[1:])
	if !javLoggerOK(src, false) || bytes.IndexByte(src, '.') <= 0 {
		return t, false
	}
	if len(after) > 0 {
		after = after[1:]
	}
	rec.level, rec.thread, rec.logger, rec.msg = lvl, th, src, after
	return t, true
}

// javBody parses everything after the timestamp.
func javBody(r []byte, rec *javRec) bool {
	if len(r) == 0 {
		return false
	}
	if r[0] == '[' {
		// [thread] LEVEL logger - msg
		th, after, ok := javBracket(r)
		if !ok {
			return false
		}
		lvl, after := javToken(appSkipSpace(after))
		if !javLevel(lvl) {
			return false
		}
		lg, after := javToken(appSkipSpace(after))
		msg, ok := javSep(after)
		if !ok || !javLoggerOK(lg, false) {
			return false
		}
		rec.thread, rec.level, rec.logger, rec.msg = appTrimSpace(th), lvl, lg, msg
		return true
	}
	lvl, after := javToken(r)
	if !javLevel(lvl) || len(after) == 0 {
		return false
	}
	r = appSkipSpace(after)
	if len(r) == 0 {
		return false
	}
	// Spring Boot: pid --- [...] logger : msg (the pid may be blank)
	if d := appDigitsEnd(r); d > 0 && bytes.HasPrefix(r[d:], []byte(" --- ")) {
		rec.level, rec.pid = lvl, r[:d]
		return javSpring(appSkipSpace(r[d+5:]), rec)
	}
	if bytes.HasPrefix(r, []byte("--- [")) {
		rec.level = lvl
		return javSpring(r[4:], rec)
	}
	if r[0] == '[' {
		// LEVEL [thread] logger - msg, or "logger: msg" (Hadoop)
		th, after, ok := javBracket(r)
		if !ok {
			return false
		}
		lg, after := javToken(appSkipSpace(after))
		msg, ok := javSep(after)
		if !ok && len(lg) > 1 && lg[len(lg)-1] == ':' && len(after) > 0 {
			lg, msg, ok = lg[:len(lg)-1], after[1:], true
		}
		if !ok || !javLoggerOK(lg, false) {
			return false
		}
		rec.level, rec.thread, rec.logger, rec.msg = lvl, appTrimSpace(th), lg, msg
		return true
	}
	// LEVEL logger [thread] msg (log4j2 "%d %p %c{1.} [%t] %m")
	lg, after := javToken(r)
	if !javLoggerOK(lg, false) || bytes.IndexByte(lg, '.') <= 0 || len(after) < 3 || after[0] != ' ' || after[1] != '[' {
		return false
	}
	th, after, ok := javBracket(after[1:])
	if !ok {
		return false
	}
	if len(after) > 0 {
		after = after[1:]
	}
	rec.level, rec.logger, rec.thread, rec.msg = lvl, lg, appTrimSpace(th), after
	return true
}

// javSpring parses "[app] [group] [thread] [corr] logger : msg" after "--- ".
func javSpring(r []byte, rec *javRec) bool {
	var br [4][]byte
	k := 0
	for len(r) > 0 && r[0] == '[' && k < len(br) {
		in, after, ok := javBracket(r)
		if !ok {
			return false
		}
		br[k] = in
		k++
		r = appSkipSpace(after)
	}
	if k == 0 {
		return false
	}
	if k >= 2 {
		if tr, sp, ok := javCorrelation(br[k-1]); ok {
			rec.trace, rec.span = tr, sp
			k--
		}
	}
	lg, after := javToken(r)
	msg, ok := javSep(after)
	if !ok || !javLoggerOK(lg, true) {
		return false
	}
	rec.thread = appTrimSpace(br[k-1])
	if k >= 2 {
		if a := appTrimSpace(br[0]); len(a) > 0 {
			rec.app = a
		}
	}
	if k >= 3 {
		if g := appTrimSpace(br[1]); len(g) > 0 {
			rec.group = g
		}
	}
	rec.logger, rec.msg = lg, msg
	return true
}

// javCorrelation recognises Spring Boot's correlation bracket content:
// "traceId-spanId" (hex) or blank padding when no span is active.
func javCorrelation(b []byte) (trace, span []byte, ok bool) {
	b = appTrimSpace(b)
	if len(b) == 0 {
		return nil, nil, true
	}
	i := bytes.IndexByte(b, '-')
	if i < 16 || i > 32 || len(b)-i-1 != 16 || !javHex(b[:i]) || !javHex(b[i+1:]) {
		return nil, nil, false
	}
	return b[:i], b[i+1:], true
}

func javHex(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return len(b) > 0
}

// javBracket reads "[content]" at r[0] and returns the content and the text
// after the closing bracket, which must be followed by a space or the end.
func javBracket(r []byte) (in, after []byte, ok bool) {
	if len(r) < 2 || r[0] != '[' {
		return nil, nil, false
	}
	e := bytes.IndexByte(r, ']')
	if e < 1 || e > 256 {
		return nil, nil, false
	}
	after = r[e+1:]
	if len(after) > 0 && after[0] != ' ' && after[0] != '\t' {
		return nil, nil, false
	}
	return r[1:e], after, true
}

// javToken splits the next space-delimited token off r.
func javToken(r []byte) (tok, rest []byte) {
	i := 0
	for i < len(r) && r[i] != ' ' && r[i] != '\t' {
		i++
	}
	return r[:i], r[i:]
}

// javSep expects optional padding, then "- " or ": " (or the separator at
// the end of the line) and returns the message.
func javSep(r []byte) ([]byte, bool) {
	r = appSkipSpace(r)
	if len(r) == 0 || (r[0] != '-' && r[0] != ':') {
		return nil, false
	}
	if len(r) == 1 {
		return r[1:], true
	}
	if r[1] != ' ' {
		return nil, false
	}
	return r[2:], true
}

// javLevel reports whether w is a log4j/logback/JUL level name.
func javLevel(w []byte) bool {
	switch string(w) {
	case "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL",
		"SEVERE", "WARNING", "CONFIG", "FINE", "FINER", "FINEST":
		return true
	}
	return false
}

// javLoggerOK accepts a logger / class name: no quotes or braces (and no
// brackets unless brackets is set: Tomcat's "o.a.c.c.C.[.[.[/].[dispatcherServlet]"
// after Spring's fixed "--- [thread]" part), at most 256 bytes, not
// starting with a digit.
func javLoggerOK(b []byte, brackets bool) bool {
	if len(b) == 0 || len(b) > 256 || appIsDigit(b[0]) || b[0] == '[' {
		return false
	}
	for _, c := range b {
		switch c {
		case '"', '{', '}', '=', '\'':
			return false
		case '[', ']':
			if !brackets {
				return false
			}
		}
		if c < ' ' || c == 0x7f {
			return false
		}
	}
	return true
}
