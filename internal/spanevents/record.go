package spanevents

import (
	"encoding/hex"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/tidwall/gjson"
	"go.opentelemetry.io/otel/trace"
)

// fields is what one canonical record contributes to its span. Strings are
// copies (gjson's GetManyBytes copies), so they outlive the batch.
type fields struct {
	message    string
	logger     string
	module     string
	function   string
	line       int64
	file       string
	errType    string
	errMessage string

	excClass   string
	excStack   string
	excFile    string
	excLine    int64
	hasExc     bool
	locFromExc bool // module/function/line were derived from the exception
}

var recordPaths = []string{
	"message", "origin.logger",
	"source.module", "source.function", "source.line", "source.file",
	"error.type", "error.message",
	"exception.class", "exception.stack_trace", "exception.file", "exception.line",
}

// readFields extracts the span's inputs from a canonical record (see
// docs/record.md).
func readFields(js []byte) fields {
	r := gjson.GetManyBytes(js, recordPaths...)
	f := fields{
		message:    r[0].String(),
		logger:     r[1].String(),
		module:     r[2].String(),
		function:   r[3].String(),
		line:       r[4].Int(),
		file:       r[5].String(),
		errType:    r[6].String(),
		errMessage: r[7].String(),
		excClass:   r[8].String(),
		excStack:   r[9].String(),
		excFile:    r[10].String(),
		excLine:    r[11].Int(),
	}
	f.hasExc = f.excClass != "" || f.excStack != ""
	if f.hasExc && !r[2].Exists() && !r[3].Exists() && !r[4].Exists() {
		// No logging call site: name the innermost application frame of
		// the exception instead, so log.module/function/line still point
		// at code.
		f.locFromExc = true
		f.module = moduleOf(f.excFile)
		f.function = frameFunction(f.excStack)
		f.line = f.excLine
	}
	return f
}

// exceptionType returns the exception's class (error.type when the record
// names no class).
func (f *fields) exceptionType() string {
	if f.excClass != "" {
		return f.excClass
	}
	return f.errType
}

// errorType is the error_log event's error.type: the record's error.type,
// else its exception class.
func (f *fields) errorType() string {
	if f.errType != "" {
		return f.errType
	}
	return f.excClass
}

// exceptionMessage returns error.message, else the message on the trace's
// "Class: message" line.
func (f *fields) exceptionMessage() string {
	if f.errMessage != "" {
		return f.errMessage
	}
	return traceMessage(f.excStack, f.excClass)
}

// moduleOf turns "/app/pkg/engine.py" into "engine".
func moduleOf(file string) string {
	if file == "" {
		return ""
	}
	base := path.Base(strings.ReplaceAll(file, "\\", "/"))
	if i := strings.LastIndexByte(base, '.'); i > 0 {
		base = base[:i]
	}
	return base
}

// frameFunction returns the function of the innermost application frame of
// a Python, Java or Go stack trace (the frame the normalizer took
// exception.file/line from), or "".
func frameFunction(stack string) string {
	switch {
	case strings.Contains(stack, "Traceback (most recent call last):") || strings.Contains(stack, "\n  File \""):
		fn := ""
		for ln := range strings.SplitSeq(stack, "\n") {
			if !strings.HasPrefix(ln, "  File \"") {
				continue
			}
			if i := strings.LastIndex(ln, ", in "); i >= 0 {
				fn = strings.TrimSpace(ln[i+len(", in "):])
			} else {
				fn = ""
			}
		}
		return fn
	case strings.Contains(stack, "\tat ") || strings.Contains(stack, "\n    at "):
		for ln := range strings.SplitSeq(stack, "\n") {
			t := strings.TrimLeft(ln, " \t")
			if rest, ok := strings.CutPrefix(t, "at "); ok {
				if i := strings.IndexByte(rest, '('); i > 0 {
					return rest[:i]
				}
				return rest
			}
		}
	case strings.Contains(stack, ".go:"):
		prev := ""
		for ln := range strings.SplitSeq(stack, "\n") {
			if strings.HasPrefix(ln, "\t") && strings.Contains(ln, ".go:") {
				if i := strings.LastIndexByte(prev, '('); i > 0 {
					return prev[:i]
				}
				return prev
			}
			prev = ln
		}
	}
	return ""
}

// traceMessage finds the message on the "Class: message" line of a stack
// trace (the last such line of a chained Python traceback, the first of a
// Java trace).
func traceMessage(stack, class string) string {
	if stack == "" || class == "" {
		return ""
	}
	prefix := class + ": "
	python := strings.Contains(stack, "Traceback (most recent call last):")
	msg := ""
	for ln := range strings.SplitSeq(stack, "\n") {
		t := strings.TrimLeft(ln, " \t")
		if i := strings.Index(t, prefix); i >= 0 && (i == 0 || strings.HasPrefix(t, "Exception in thread ")) {
			msg = strings.TrimRight(t[i+len(prefix):], "\r")
			if !python {
				break
			}
		}
	}
	return msg
}

// trackingTraceID maps a tracking id to a trace id: a UUID's 16 bytes, or a
// 32-hex id's bytes. ok is false for anything else (including "unknown" and
// the all-zero id).
func trackingTraceID(id string) (trace.TraceID, bool) {
	var tid trace.TraceID
	var h string
	switch len(id) {
	case 36:
		if id[8] != '-' || id[13] != '-' || id[18] != '-' || id[23] != '-' {
			return tid, false
		}
		h = id[0:8] + id[9:13] + id[14:18] + id[19:23] + id[24:36]
	case 32:
		h = id
	default:
		return tid, false
	}
	if _, err := hex.Decode(tid[:], []byte(h)); err != nil {
		return trace.TraceID{}, false
	}
	return tid, tid.IsValid()
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence,
// marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "…[truncated]"
	cut := n - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}
