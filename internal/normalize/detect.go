package normalize

import (
	"github.com/starmates/logshipd/internal/normalize/parse"
)

// formatNames lists every parser in auto-detection order, then "plain".
// Order matters: cheap, strict formats first; nginx-error before go-log
// (both start with "2006/01/02 15:04:05"); uvicorn-access before uvicorn;
// logfmt and the generic ts-level late because they are the most lenient.
var formatNames = [...]string{
	"json", "syslog-rfc5424", "syslog-rfc3164", "uvicorn-access", "uvicorn", "klog",
	"redis", "ruby-logger", "alb", "openstack", "haproxy", "logcat", "envoy", "access", "nginx-error",
	"apache-error", "zap-console", "java", "python", "go-panic", "go-log", "logfmt",
	"ts-level", "plain",
}

const plainIndex = len(formatNames) - 1

// jsonIndex is the index of the JSON parser.
const jsonIndex = 0

// lenientStart is the index of the first lenient parser (logfmt).
const lenientStart = 21

func newParsers() []parse.Parser {
	return []parse.Parser{
		&parse.JSONParser{}, &parse.Syslog5424Parser{}, &parse.Syslog3164Parser{},
		&parse.UvicornAccessParser{}, &parse.UvicornParser{}, &parse.KlogParser{},
		&parse.RedisParser{}, &parse.RubyLoggerParser{}, &parse.ALBParser{},
		&parse.OpenStackParser{}, &parse.HAProxyParser{}, &parse.LogcatParser{}, &parse.EnvoyParser{},
		&parse.AccessParser{}, &parse.NginxErrorParser{}, &parse.ApacheErrorParser{},
		&parse.ZapConsoleParser{}, &parse.JavaParser{}, &parse.PythonParser{},
		&parse.GoPanicParser{}, &parse.GoLogParser{}, &parse.LogfmtParser{},
		&parse.TimestampLevelParser{},
	}
}

// terminal marks formats whose records are always one line: JSON (stack
// traces travel inside the object), access logs, syslog and the web
// servers' error logs. Their records are emitted as soon as they are read.
var terminal = func() (t [len(formatNames)]bool) {
	for _, n := range []string{"json", "access", "uvicorn-access", "syslog-rfc5424", "syslog-rfc3164", "nginx-error", "apache-error", "alb", "haproxy", "envoy"} {
		t[formatIndex(n)] = true
	}
	return t
}()

// preempt names, for a sticky parser, a stricter earlier parser whose lines
// it would also accept: uvicorn's default formatter accepts its access
// lines, go-log accepts nginx error lines.
var preempt = func() (t [len(formatNames)]int) {
	t[formatIndex("uvicorn")] = formatIndex("uvicorn-access")
	t[formatIndex("go-log")] = formatIndex("nginx-error")
	return t
}()

// Formats returns the format names accepted by Config.Format (besides "auto").
func Formats() []string { return formatNames[:] }

func knownFormat(name string) bool {
	return formatIndex(name) >= 0
}

func formatIndex(name string) int {
	for i, n := range formatNames {
		if n == name {
			return i
		}
	}
	return -1
}

// detector picks the parser for each line. In auto mode the last format
// that matched is tried first (detection sticks per source); when it no
// longer fits, every parser is tried in order and the first match sticks.
type detector struct {
	parsers []parse.Parser
	fixed   int // index of the forced parser, or -1 for auto
	last    int
}

func newDetector(format string) *detector {
	d := &detector{parsers: newParsers(), fixed: -1, last: -1}
	if format != "" && format != "auto" {
		d.fixed = formatIndex(format)
	}
	return d
}

// parse fills f from line and returns the index of the format used
// (plainIndex when nothing matched). f is Reset first.
func (d *detector) parse(line []byte, f *parse.Fields) int {
	if d.fixed >= 0 {
		f.Reset()
		if d.fixed != plainIndex && d.parsers[d.fixed].Parse(line, f) {
			return d.fixed
		}
		f.Reset()
		return plainIndex
	}
	if d.last >= 0 {
		if pre := preempt[d.last]; pre > 0 {
			f.Reset()
			if d.parsers[pre].Parse(line, f) {
				return pre
			}
		}
		f.Reset()
		if d.parsers[d.last].Parse(line, f) {
			return d.last
		}
	}
	for i, p := range d.parsers {
		if i == d.last {
			continue
		}
		f.Reset()
		if p.Parse(line, f) {
			if i < lenientStart {
				d.last = i // lenient parsers never stick: they would shadow stricter ones
			}
			return i
		}
	}
	f.Reset()
	return plainIndex
}

func init() {
	if formatNames[lenientStart] != "logfmt" || len(newParsers()) != plainIndex {
		panic("normalize: formatNames, newParsers and lenientStart disagree")
	}
	for i, p := range newParsers() {
		if p.Name() != formatNames[i] {
			panic("normalize: parser " + p.Name() + " is not at its formatNames index")
		}
	}
}
