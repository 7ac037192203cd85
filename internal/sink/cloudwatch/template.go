package cloudwatch

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"github.com/starmates/logshipd/internal/event"
)

// Placeholders are the names a log_group / log_stream template may use.
var Placeholders = []string{"environment", "service", "project", "source", "host", "stream", "container_name", "task_id", "level"}

type placeholder uint8

const (
	phLiteral placeholder = iota
	phEnvironment
	phService
	phProject
	phSource
	phHost
	phStream
	phContainerName
	phTaskID
	phLevel
)

type segment struct {
	lit string
	ph  placeholder
}

// template is a parsed name template: literals and placeholders.
type template struct {
	src  string
	segs []segment
	// needsOrigin: a placeholder reads the record's origin object.
	needsOrigin bool
}

func parseTemplate(s string) (*template, error) {
	t := &template{src: s}
	rest := s
	for rest != "" {
		i := strings.IndexAny(rest, "{}")
		if i < 0 {
			t.segs = append(t.segs, segment{lit: rest})
			break
		}
		if rest[i] == '}' {
			return nil, errors.New("unbalanced '}'")
		}
		if i > 0 {
			t.segs = append(t.segs, segment{lit: rest[:i]})
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return nil, errors.New("unbalanced '{'")
		}
		name := rest[i+1 : i+j]
		ph := placeholder(0)
		for k, p := range Placeholders {
			if p == name {
				ph = placeholder(k + 1)
			}
		}
		if ph == phLiteral {
			return nil, fmt.Errorf("unknown placeholder {%s} (known: {%s})", name, strings.Join(Placeholders, "}, {"))
		}
		if ph == phContainerName || ph == phTaskID {
			t.needsOrigin = true
		}
		t.segs = append(t.segs, segment{ph: ph})
		rest = rest[i+j+1:]
	}
	if len(t.segs) == 0 {
		return nil, errors.New("empty")
	}
	return t, nil
}

// literalPrefixAWS reports whether every name the template renders starts
// with "aws/" (a literal prefix), which CloudWatch refuses for groups.
func (t *template) literalPrefixAWS() bool {
	return len(t.segs) > 0 && t.segs[0].ph == phLiteral && hasAWSPrefix(t.segs[0].lit)
}

// origin is what templates read from a record's "origin" object.
type origin struct {
	forward       bool
	containerName string
	taskARN       string
}

// readOrigin extracts origin.kind, origin.container_name and
// origin.ecs_task_arn from a canonical record (one scan). The strings
// are copies.
func readOrigin(rec []byte) origin {
	var o origin
	obj := gjson.GetBytes(rec, "origin")
	if !obj.IsObject() {
		return o
	}
	obj.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "kind":
			o.forward = v.Str == "forward"
		case "container_name":
			o.containerName = v.Str
		case "ecs_task_arn":
			o.taskARN = v.Str
		}
		return true
	})
	return o
}

// nameInput is what one record offers the templates.
type nameInput struct {
	it     *event.Item
	host   string
	origin origin
}

// containerName: origin.container_name (Docker's leading "/" removed),
// else the part of a FireLens tag ("<container>-firelens-<task id>")
// before "-firelens-", else the source name.
func (v *nameInput) containerName() string {
	if n := strings.TrimPrefix(v.origin.containerName, "/"); n != "" {
		return n
	}
	if c, _, ok := strings.Cut(v.it.Stream, "-firelens-"); ok && c != "" {
		return c
	}
	return v.it.Source
}

// taskID: the last part of origin.ecs_task_arn, else the part of a
// FireLens tag after "-firelens-", else the host name.
func (v *nameInput) taskID() string {
	if a := v.origin.taskARN; a != "" {
		if i := strings.LastIndexByte(a, '/'); i >= 0 {
			return a[i+1:]
		}
		return a
	}
	if _, t, ok := strings.Cut(v.it.Stream, "-firelens-"); ok && t != "" {
		return t
	}
	return v.host
}

// render appends the template's name for v to dst. Empty values render
// as "unknown".
func (t *template) render(dst []byte, v *nameInput) []byte {
	for _, s := range t.segs {
		var val string
		switch s.ph {
		case phLiteral:
			dst = append(dst, s.lit...)
			continue
		case phEnvironment:
			val = v.it.Environment
		case phService:
			val = v.it.Service
		case phProject:
			val = v.it.Project
		case phSource:
			val = v.it.Source
		case phHost:
			val = v.host
		case phStream:
			val = v.it.Stream
		case phContainerName:
			val = v.containerName()
		case phTaskID:
			val = v.taskID()
		case phLevel:
			val = v.it.Level.String()
		}
		if val == "" {
			val = "unknown"
		}
		dst = append(dst, val...)
	}
	return dst
}

func groupByteOK(c byte) bool {
	return c == '.' || c == '-' || c == '_' || c == '/' || c == '#' ||
		(c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
}

// SanitizeGroup makes name a valid log group name: every character outside
// [.\-_/#A-Za-z0-9] becomes '_' (one per character), a leading "aws/"
// becomes "_aws/", the result is cut to 512 bytes, and an empty name
// becomes "unknown".
func SanitizeGroup(name string) string {
	return string(appendGroup(nil, []byte(name)))
}

func appendGroup(dst, name []byte) []byte {
	start := len(dst)
	if bytes.HasPrefix(name, []byte("aws/")) {
		dst = append(dst, '_')
	}
	for i := 0; i < len(name); {
		c := name[i]
		if c < utf8.RuneSelf {
			if !groupByteOK(c) {
				c = '_'
			}
			dst = append(dst, c)
			i++
			continue
		}
		_, n := utf8.DecodeRune(name[i:])
		dst = append(dst, '_')
		i += n
	}
	if len(dst)-start > MaxNameLen {
		dst = dst[:start+MaxNameLen]
	}
	if len(dst) == start {
		dst = append(dst, "unknown"...)
	}
	return dst
}

// SanitizeStream makes name a valid log stream name: ':' and '*' (and
// invalid UTF-8) become '_', the result is cut to at most 512 bytes at a
// character boundary, and an empty name becomes "unknown".
func SanitizeStream(name string) string {
	return string(appendStream(nil, []byte(name)))
}

func appendStream(dst, name []byte) []byte {
	start := len(dst)
	for i := 0; i < len(name); {
		c := name[i]
		if c < utf8.RuneSelf {
			if c == ':' || c == '*' {
				c = '_'
			}
			if len(dst)-start+1 > MaxNameLen {
				break
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(name[i:])
		if r == utf8.RuneError && n <= 1 {
			if len(dst)-start+1 > MaxNameLen {
				break
			}
			dst = append(dst, '_')
			i++
			continue
		}
		if len(dst)-start+n > MaxNameLen {
			break
		}
		dst = append(dst, name[i:i+n]...)
		i += n
	}
	if len(dst) == start {
		dst = append(dst, "unknown"...)
	}
	return dst
}
