package normalize

import (
	"bytes"
	"time"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"github.com/starmates/logshipd/internal/normalize/parse"
)

// Container envelopes: a line written by a container runtime wraps the
// application's own line. unwrap recognises
//
//   - Docker json-file: {"log":"...\n","stream":"stdout","time":"..."}
//   - FireLens / Docker fluentd driver records stored as JSON:
//     {"log":"...","source":"stdout","container_id":...,"container_name":...,
//     "partial_message":"true",...,"ecs_cluster":...,"ecs_task_arn":...}
//   - CRI (containerd, CRI-O): "2006-01-02T15:04:05.999999999Z07:00 stdout F payload"
//   - docker compose logs: "web-1  | payload" (optionally with --timestamps)
//
// and reports the payload, the key its multiline state is kept under
// (container and stream), and whether the runtime split the line (Docker
// 16 KiB partial_message pieces, json-file entries without "\n", CRI "P").
type unwrapped struct {
	payload []byte
	key     []byte
	partial bool
	time    time.Time
	hasTime bool
	meta    envMeta
}

var (
	keyLog    = []byte(`"log"`)
	prefixLog = []byte(`{"log":`)
)

func unwrap(line []byte, u *unwrapped, arena *parse.Arena) bool {
	if len(line) == 0 {
		return false
	}
	switch c := line[0]; {
	case c == '{':
		return unwrapJSON(line, u, arena)
	case c >= '0' && c <= '9':
		return unwrapCRI(line, u)
	}
	return unwrapCompose(line, u)
}

func unwrapJSON(line []byte, u *unwrapped, arena *parse.Arena) bool {
	if !bytes.Contains(line, keyLog) || !gjson.ValidBytes(line) {
		return false
	}
	doc := gjson.Parse(sstr(line))
	var logv gjson.Result
	fromSource := false // fluentd-driver naming ("source"), not json-file ("stream")
	var stream, cid, cname, cluster, arn, taskdef, tm, partialMsg, partialLast gjson.Result
	doc.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "log":
			logv = v
		case "stream":
			stream = v
		case "source":
			stream = v
			fromSource = true
		case "container_id":
			cid = v
		case "container_name":
			cname = v
		case "ecs_cluster":
			cluster = v
		case "ecs_task_arn":
			arn = v
		case "ecs_task_definition":
			taskdef = v
		case "time":
			tm = v
		case "partial_message":
			partialMsg = v
		case "partial_last":
			partialLast = v
		}
		return true
	})
	if logv.Type != gjson.String || (stream.Type != gjson.String && cid.Type != gjson.String && cname.Type != gjson.String) {
		return false
	}
	*u = unwrapped{}
	u.payload = unescapeJSONString(bstr(logv.Raw), arena)
	u.meta.stream = stream.Str
	if cid.Type == gjson.String || cname.Type == gjson.String || cluster.Type == gjson.String || fromSource {
		u.meta.format = "firelens"
		u.meta.containerID = cid.Str
		u.meta.containerName = cname.Str
		u.meta.ecsCluster = cluster.Str
		u.meta.ecsTaskARN = arn.Str
		u.meta.ecsTaskDef = taskdef.Str
		u.partial = (partialMsg.Str == "true" || partialMsg.Type == gjson.True) && !(partialLast.Str == "true" || partialLast.Type == gjson.True)
		k := arena.Alloc(len(cname.Str) + len(cid.Str) + 1 + len(stream.Str))[:0]
		u.key = append(append(append(append(k, cname.Str...), cid.Str...), '|'), stream.Str...)
	} else {
		u.meta.format = "docker-json"
		n := len(u.payload)
		if n > 0 && u.payload[n-1] == '\n' {
			u.payload = u.payload[:n-1]
			if n > 1 && u.payload[n-2] == '\r' {
				u.payload = u.payload[:n-2]
			}
		} else {
			u.partial = true
		}
		u.key = bstr(stream.Str)
	}
	if tm.Type == gjson.String {
		if t, _, ok := parse.AnyTime(bstr(tm.Str)); ok {
			u.time, u.hasTime = t, true
		}
	}
	return true
}

// unwrapCRI parses "TIMESTAMP STREAM P|F payload".
func unwrapCRI(line []byte, u *unwrapped) bool {
	t, n, local, ok := parse.ISO(line)
	if !ok || local || n >= len(line) || line[n] != ' ' {
		return false
	}
	rest := line[n+1:]
	var stream []byte
	switch {
	case bytes.HasPrefix(rest, []byte("stdout ")):
		stream = rest[:6]
	case bytes.HasPrefix(rest, []byte("stderr ")):
		stream = rest[:6]
	default:
		return false
	}
	rest = rest[7:]
	if len(rest) < 1 || (rest[0] != 'P' && rest[0] != 'F') || (len(rest) > 1 && rest[1] != ' ') {
		return false
	}
	*u = unwrapped{partial: rest[0] == 'P', time: t, hasTime: true, key: stream}
	if len(rest) > 2 {
		u.payload = rest[2:]
	} else {
		u.payload = rest[:0]
	}
	u.meta.format = "cri"
	u.meta.stream = string(stream)
	return true
}

// unwrapCompose parses docker compose's "name  | payload" prefix. To stay
// clear of plain text containing " | ", the name must end in a replica
// number (web-1, web_1) or the payload must start with an RFC 3339 time.
func unwrapCompose(line []byte, u *unwrapped) bool {
	i := 0
	for i < len(line) && (isIdentByte(line[i]) || line[i] == '-' || line[i] == '.') {
		i++
	}
	if i == 0 || i >= len(line) || line[i] != ' ' {
		return false
	}
	name := line[:i]
	j := i
	for j < len(line) && line[j] == ' ' {
		j++
	}
	if j+1 >= len(line) || line[j] != '|' || (j+1 < len(line) && line[j+1] != ' ' && j+1 != len(line)) {
		return false
	}
	payload := line[min(j+2, len(line)):]
	replica := false
	if k := len(name) - 1; k > 1 && name[k] >= '0' && name[k] <= '9' {
		for k > 0 && name[k] >= '0' && name[k] <= '9' {
			k--
		}
		replica = name[k] == '-' || name[k] == '_'
	}
	t, n, local, tsOK := parse.ISO(payload)
	if !replica && !(tsOK && !local) {
		return false
	}
	*u = unwrapped{key: name}
	if tsOK && !local && n < len(payload) && payload[n] == ' ' {
		u.time, u.hasTime = t, true
		payload = payload[n+1:]
	}
	u.payload = payload
	u.meta.format = "compose"
	u.meta.containerName = string(name)
	return true
}

// unescapeJSONString decodes a raw JSON string literal (with quotes) into
// the arena. Invalid escapes are kept as written.
func unescapeJSONString(raw []byte, arena *parse.Arena) []byte {
	if len(raw) < 2 {
		return nil
	}
	s := raw[1 : len(raw)-1]
	if bytes.IndexByte(s, '\\') < 0 {
		return s
	}
	dst := arena.Alloc(len(s))[:0]
	for i := 0; i < len(s); i++ {
		// Copy the run up to the next backslash at once.
		j := bytes.IndexByte(s[i:], '\\')
		if j < 0 {
			return append(dst, s[i:]...)
		}
		dst = append(dst, s[i:i+j]...)
		i += j
		if i+1 >= len(s) {
			dst = append(dst, '\\')
			continue
		}
		i++
		switch s[i] {
		case 'n':
			dst = append(dst, '\n')
		case 't':
			dst = append(dst, '\t')
		case 'r':
			dst = append(dst, '\r')
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case '/', '\\', '"':
			dst = append(dst, s[i])
		case 'u':
			r, n := decodeU(s[i+1:])
			if n == 0 {
				dst = append(dst, '\\', 'u')
				continue
			}
			i += n
			dst = utf8.AppendRune(dst, r)
		default:
			dst = append(dst, '\\', s[i])
		}
	}
	return dst
}

// decodeU decodes the hex of a \u escape (and a following low surrogate).
func decodeU(b []byte) (rune, int) {
	h := func(b []byte) (rune, bool) {
		if len(b) < 4 {
			return 0, false
		}
		var r rune
		for _, c := range b[:4] {
			if !isHex(c) {
				return 0, false
			}
			r = r<<4 | rune(unhex(c))
		}
		return r, true
	}
	r, ok := h(b)
	if !ok {
		return 0, 0
	}
	if r >= 0xD800 && r < 0xDC00 && len(b) >= 10 && b[4] == '\\' && b[5] == 'u' {
		if lo, ok := h(b[6:]); ok && lo >= 0xDC00 && lo < 0xE000 {
			return (r-0xD800)<<10 + (lo - 0xDC00) + 0x10000, 10
		}
	}
	if r >= 0xD800 && r < 0xE000 {
		return utf8.RuneError, 4
	}
	return r, 4
}

// stripANSI removes ANSI escape sequences (CSI "ESC [ ... final", OSC
// "ESC ] ... BEL|ST" and two-byte escapes) into dst.
func stripANSI(dst, b []byte) []byte {
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != 0x1b {
			dst = append(dst, c)
			continue
		}
		if i+1 >= len(b) {
			break
		}
		switch b[i+1] {
		case '[':
			j := i + 2
			for j < len(b) && (b[j] < 0x40 || b[j] > 0x7e) {
				j++
			}
			i = j
		case ']':
			j := i + 2
			for j < len(b) && b[j] != 0x07 && !(b[j] == 0x1b && j+1 < len(b) && b[j+1] == '\\') {
				j++
			}
			if j < len(b) && b[j] == 0x1b {
				j++
			}
			i = j
		default:
			i++
		}
	}
	return dst
}
