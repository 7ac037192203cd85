package normalize

import (
	"bytes"
)

// traceKind is the kind of stack trace a multiline record holds.
type traceKind uint8

const (
	traceNone traceKind = iota
	tracePython
	traceJava
	traceGo
)

// nextLine splits text at the first '\n'.
func nextLine(text []byte) (line, rest []byte) {
	if i := bytes.IndexByte(text, '\n'); i >= 0 {
		return text[:i], text[i+1:]
	}
	return text, nil
}

func isIdentByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '$'
}

// exceptionName returns the qualified exception name that starts line
// ("KeyError", "agent.PlannerError", "java.lang.IllegalStateException"),
// followed by ':' or the end of the line. ok=false otherwise.
func exceptionName(line []byte) ([]byte, bool) {
	i := 0
	for i < len(line) && (isIdentByte(line[i]) || line[i] == '.') {
		i++
	}
	if i == 0 || line[0] == '.' || line[i-1] == '.' || (line[0] >= '0' && line[0] <= '9') {
		return nil, false
	}
	if i == len(line) || (line[i] == ':' && (i+1 == len(line) || line[i+1] == ' ')) {
		return line[:i], true
	}
	return nil, false
}

// looksLikeJavaException reports whether line is the first line of a Java
// (or JVM language) exception: a dotted class name whose last part ends in
// Exception, Error or Throwable, optionally followed by ": message".
func looksLikeJavaException(line []byte) bool {
	name, ok := exceptionName(line)
	if !ok || bytes.IndexByte(name, '.') < 0 {
		return false
	}
	last := name[bytes.LastIndexByte(name, '.')+1:]
	return bytes.HasSuffix(last, []byte("Exception")) || bytes.HasSuffix(last, []byte("Error")) ||
		bytes.HasSuffix(last, []byte("Throwable"))
}

// looksLikeJSError reports whether name is a JavaScript error class
// ("Error", "TypeError", "AbortError"), as the first line of a V8 trace
// names it.
func looksLikeJSError(name []byte) bool {
	return bytes.IndexByte(name, '.') < 0 && (bytes.HasSuffix(name, []byte("Error")) || bytes.HasSuffix(name, []byte("Exception")))
}

// looksLikeGoFrame reports whether line is a Go stack function line:
// "main.main()", "main.zapconsole", "created by main.run in goroutine 7",
// "net/http.(*conn).serve(0xc000)".
func looksLikeGoFrame(line []byte) bool {
	if bytes.HasPrefix(line, []byte("created by ")) {
		return true
	}
	if len(line) == 0 || len(line) > 4096 || bytes.IndexByte(line, '.') < 0 {
		return false
	}
	paren := bytes.IndexByte(line, '(')
	name := line
	if paren > 0 {
		name = line[:paren]
		if line[len(line)-1] != ')' && !bytes.Contains(line, []byte(") ")) {
			return false
		}
	}
	for _, c := range name {
		if !(isIdentByte(c) || c == '.' || c == '/' || c == '*' || c == '-' || c == '[' || c == ']' || c == ',' || c == '{' || c == '}' || c == '(' || c == ')') {
			return false
		}
	}
	return true
}

// traceInfo is what a stack trace tells about its exception.
type traceInfo struct {
	class, message, file, line []byte
}

// analyzeTrace extracts the exception class, message and innermost
// application frame from a Python, Java or Go trace.
func analyzeTrace(text []byte) traceInfo {
	switch {
	case bytes.Contains(text, []byte("Traceback (most recent call last):")) || bytes.Contains(text, []byte("\n  File \"")):
		return analyzePython(text)
	case bytes.Contains(text, []byte("\tat ")) || bytes.Contains(text, []byte("\n    at ")):
		return analyzeJava(text)
	case bytes.Contains(text, []byte(".go:")):
		return analyzeGo(text)
	}
	// Unknown shape: a "Name: message" first line is still worth a class.
	first, _ := nextLine(text)
	if name, ok := exceptionName(trimLeft(first)); ok && looksLikeJavaException(first) {
		return traceInfo{class: name}
	}
	return traceInfo{}
}

func trimLeft(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	return b
}

// analyzePython: file/line from the last `  File "x", line N` frame, class
// and message from the first unindented line after it (the last exception
// of a chained traceback).
func analyzePython(text []byte) traceInfo {
	var ti traceInfo
	afterFrame := false
	for rest := text; rest != nil; {
		var ln []byte
		ln, rest = nextLine(rest)
		if bytes.HasPrefix(ln, []byte("  File \"")) {
			q := ln[len("  File \""):]
			if end := bytes.IndexByte(q, '"'); end >= 0 {
				ti.file = q[:end]
				ti.line = nil
				r := q[end+1:]
				if bytes.HasPrefix(r, []byte(", line ")) {
					r = r[len(", line "):]
					n := 0
					for n < len(r) && r[n] >= '0' && r[n] <= '9' {
						n++
					}
					if n > 0 {
						ti.line = r[:n]
					}
				}
			}
			afterFrame = true
			continue
		}
		if afterFrame && len(ln) > 0 && ln[0] != ' ' && ln[0] != '\t' {
			afterFrame = false
			if name, ok := exceptionName(ln); ok {
				ti.class = name
				if len(ln) > len(name)+2 {
					ti.message = ln[len(name)+2:]
				} else {
					ti.message = nil
				}
			}
		}
	}
	return ti
}

// analyzeJava: class and message from the first exception line, file/line
// from the first "at" frame: "\tat com.x.Y.m(Y.java:10)".
func analyzeJava(text []byte) traceInfo {
	var ti, internal traceInfo
	v8 := bytes.Contains(text, []byte("\n    at ")) // Node: "Error: msg\n    at f (file:1:2)"
	for rest, first := text, true; rest != nil; first = false {
		var ln []byte
		ln, rest = nextLine(rest)
		t := trimLeft(ln)
		if ti.class == nil {
			cand := t
			if bytes.HasPrefix(cand, []byte("Exception in thread ")) {
				if q := bytes.IndexByte(cand[len("Exception in thread \""):], '"'); q >= 0 {
					cand = trimLeft(cand[len("Exception in thread \"")+q+1:])
				}
			}
			if name, ok := exceptionName(cand); ok && (looksLikeJavaException(cand) || first && v8 && looksLikeJSError(name)) {
				ti.class = name
				if len(cand) > len(name)+2 {
					ti.message = cand[len(name)+2:]
				}
			}
		}
		if ti.file == nil && bytes.HasPrefix(t, []byte("at ")) {
			// Java "at a.B.m(B.java:10)"; V8 (Node) "at f (/app/x.js:10:5)"
			// or "at /app/x.js:10:5".
			loc := t[3:]
			if open := bytes.LastIndexByte(t, '('); open >= 0 {
				loc = t[open+1:]
				if cl := bytes.IndexByte(loc, ')'); cl >= 0 {
					loc = loc[:cl]
				}
			} else if bytes.IndexByte(loc, ' ') >= 0 {
				loc = nil
			}
			if c := bytes.LastIndexByte(loc, ':'); c > 0 && isDigits(loc[c+1:]) {
				file, line := loc[:c], loc[c+1:]
				if c2 := bytes.LastIndexByte(file, ':'); c2 > 0 && isDigits(file[c2+1:]) {
					file, line = file[:c2], file[c2+1:] // V8 file:line:column
				}
				if bytes.HasPrefix(file, []byte("node:")) {
					// Node's own modules: the application frame is further down.
					if internal.file == nil {
						internal.file, internal.line = file, line
					}
				} else {
					ti.file, ti.line = file, line
				}
			} else if len(loc) > 0 {
				ti.file = loc
			}
		}
		if ti.class != nil && ti.file != nil {
			break
		}
	}
	if ti.file == nil {
		ti.file, ti.line = internal.file, internal.line
	}
	return ti
}

// analyzeGo: the first "\t/path/file.go:N +0x1f" frame.
func analyzeGo(text []byte) traceInfo {
	var ti traceInfo
	for rest := text; rest != nil; {
		var ln []byte
		ln, rest = nextLine(rest)
		if len(ln) == 0 || ln[0] != '\t' {
			continue
		}
		loc := ln[1:]
		if sp := bytes.IndexByte(loc, ' '); sp >= 0 {
			loc = loc[:sp]
		}
		if c := bytes.LastIndexByte(loc, ':'); c > 0 && bytes.HasSuffix(loc[:c], []byte(".go")) && isDigits(loc[c+1:]) {
			ti.file, ti.line = loc[:c], loc[c+1:]
			return ti
		}
	}
	return ti
}
