package normalize

import (
	"bytes"
	"time"

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
	line = parse.TrimSpace(line)
	if len(line) < 2 || line[len(line)-1] != '}' || !bytes.Contains(line, keyLog) {
		return false
	}
	// One lenient walk instead of gjson.Valid plus a walk: the line is an
	// envelope only if the walk reaches the closing brace and every string
	// and nested value in it is valid (the same rule as parse.JSONParser).
	doc := gjson.Parse(sstr(line))
	var logv gjson.Result
	fromSource := false // fluentd-driver naming ("source"), not json-file ("stream")
	var stream, cid, cname, cluster, arn, taskdef, tm, partialMsg, partialLast gjson.Result
	bad := false
	mc := parse.NewMemberCheck(sstr(line), doc)
	doc.ForEach(func(k, v gjson.Result) bool {
		if !mc.Member(&k, &v) || !parse.ValidString(k) || !parse.ValidValue(v) {
			bad = true
			return false
		}
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
	if bad || !mc.End() {
		return false
	}
	if logv.Type != gjson.String || (stream.Type != gjson.String && cid.Type != gjson.String && cname.Type != gjson.String) {
		return false
	}
	*u = unwrapped{}
	u.payload = bstr(logv.Str) // already unescaped by the walk (its own copy when it had escapes)
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
