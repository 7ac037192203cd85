package parse

import (
	"unsafe"

	"github.com/tidwall/gjson"
)

// JSONParser parses one JSON object per line with any key naming: aliases
// (see fields_keys.go) fill the schema slots, known nested objects (request,
// response, http, user, session, tracing, workflow, operation, error,
// exception, source, log) are walked, and everything else is kept in Extra
// in input order (nested objects as raw JSON).
//
// Strings without escapes point into the line; escaped strings and joined
// keys ("request.headers") live in the parser's arena until the next Parse.
type JSONParser struct {
	arena Arena
	bad   bool // a string with an invalid escape was seen: the line is not JSON
	// envelope detection (see Fields.Envelope)
	sawLog, sawContainer bool
	doc                  string // the line being parsed (for MemberCheck)
}

// MemberCheck checks the separators of an object walked with gjson's
// lenient ForEach, which skips any run of ':', ',' and whitespace: a
// member must follow '{' or exactly one ',', and its value exactly one
// ':'. Start it at the object (Result.Index of the object in doc, the
// whole document gjson parsed), call Member for each member, then End.
type MemberCheck struct {
	doc   string
	prev  int // index just past the previous value (or past '{')
	first bool
	close int // index of the closing '}'
}

// NewMemberCheck starts a check of the object obj, found in doc.
func NewMemberCheck(doc string, obj gjson.Result) MemberCheck {
	return MemberCheck{doc: doc, prev: obj.Index + 1, first: true, close: obj.Index + len(obj.Raw) - 1}
}

// Member reports whether key k and value v are separated as JSON wants.
// The usual case (exactly "," and ":") is decided without a scan.
func (m *MemberCheck) Member(k, v *gjson.Result) bool {
	ki, ke, vi := k.Index, k.Index+len(k.Raw), v.Index
	ok := (m.first && ki == m.prev) || (!m.first && ki == m.prev+1 && m.doc[m.prev] == ',') || m.slowSep(m.prev, ki)
	ok = ok && ((vi == ke+1 && m.doc[ke] == ':') || onlySep(m.doc, ke, vi, ':'))
	m.prev, m.first = vi+len(v.Raw), false
	return ok
}

func (m *MemberCheck) slowSep(from, to int) bool {
	if m.first {
		return onlySep(m.doc, from, to, 0)
	}
	return onlySep(m.doc, from, to, ',')
}

// End reports whether only whitespace follows the last member.
func (m *MemberCheck) End() bool { return onlySep(m.doc, m.prev, m.close, 0) }

// onlySep reports whether doc[from:to] is whitespace around exactly one
// sep (no sep at all when sep is 0).
func onlySep(doc string, from, to int, sep byte) bool {
	if from < 0 || to > len(doc) || from > to {
		return false
	}
	seen := sep == 0
	for i := from; i < to; i++ {
		switch c := doc[i]; c {
		case ' ', '\t', '\r', '\n':
		default:
			if c != sep || seen {
				return false
			}
			seen = true
		}
	}
	return seen
}

// ValidString reports whether a gjson string result can be trusted: its
// escapes (if any) are valid JSON escapes. The lenient iterator takes any
// backslash, so callers that skip gjson.Valid check each string they use.
func ValidString(r gjson.Result) bool {
	return r.Type != gjson.String || len(r.Str) == len(r.Raw)-2 || validEscapes(r.Raw)
}

// ValidValue reports whether a value found by gjson's lenient iterator is
// valid JSON: a string with valid escapes, a JSON number, an exact literal,
// or a valid object or array.
func ValidValue(r gjson.Result) bool {
	switch r.Type {
	case gjson.String:
		return ValidString(r)
	case gjson.Number:
		return IsJSONNumber(bstr(r.Raw))
	case gjson.True:
		return r.Raw == "true"
	case gjson.False:
		return r.Raw == "false"
	case gjson.Null:
		return r.Raw == "null"
	case gjson.JSON:
		return gjson.Valid(r.Raw)
	}
	return false
}

// validEscapes reports whether every backslash in a raw JSON string literal
// starts a valid escape (gjson's unescape would silently cut the string at
// an invalid one).
func validEscapes(raw string) bool {
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		if i+1 >= len(raw) {
			return false
		}
		switch raw[i+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			i++
		case 'u':
			if i+5 >= len(raw) {
				return false
			}
			for _, c := range []byte(raw[i+2 : i+6]) {
				if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
					return false
				}
			}
			i += 5
		default:
			return false
		}
	}
	return true
}

// checkString marks the parse bad when a string result holds an invalid
// escape. Strings without a backslash are not scanned again.
func (p *JSONParser) checkString(r gjson.Result) {
	if r.Type == gjson.String && len(r.Str) != len(r.Raw)-2 && !validEscapes(r.Raw) {
		p.bad = true
	}
}

// Name implements Parser.
func (*JSONParser) Name() string { return "json" }

// bstr views a string as bytes without copying. The bytes must not be written.
func bstr(s string) []byte {
	if s == "" {
		return nil
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// sstr views bytes as a string without copying. b must not change while the
// string is in use.
func sstr(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// JSONValue converts a gjson result into a Value. String results share
// memory with the parsed input unless they contained escapes. Values whose
// raw text is not valid JSON (gjson iterates leniently) become strings, so
// whatever is emitted stays valid JSON.
func JSONValue(r gjson.Result) Value {
	switch r.Type {
	case gjson.String:
		return Value{B: bstr(r.Str), Kind: KindString}
	case gjson.Number:
		if b := bstr(r.Raw); IsJSONNumber(b) {
			return Value{B: b, Kind: KindNumber}
		}
	case gjson.True, gjson.False:
		if r.Raw == "true" || r.Raw == "false" {
			return Value{B: bstr(r.Raw), Kind: KindBool}
		}
	case gjson.Null:
		if r.Raw == "null" {
			return Value{Kind: KindNull}
		}
	case gjson.JSON:
		if gjson.Valid(r.Raw) {
			return Value{B: bstr(r.Raw), Kind: KindJSON}
		}
	default:
		return Value{}
	}
	return Value{B: bstr(r.Raw), Kind: KindString}
}

// TrimSpace removes spaces, tabs and carriage returns around b.
func TrimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// Parse implements Parser.
//
// The object is walked once with gjson's lenient iterator instead of being
// validated first: the line is accepted only when the iteration reached the
// closing brace (a truncated or broken line is not JSON, it is text), and
// every value is checked as it is converted (JSONValue), so the output is
// valid JSON whatever the input. Nested objects kept whole are validated.
func (p *JSONParser) Parse(line []byte, f *Fields) bool {
	line = TrimSpace(line)
	if len(line) < 2 || line[0] != '{' || line[len(line)-1] != '}' {
		return false
	}
	p.arena.Reset()
	p.bad, p.sawLog, p.sawContainer = false, false, false
	p.doc = sstr(line)
	end := 1
	doc := gjson.Parse(p.doc)
	mc := NewMemberCheck(p.doc, doc)
	doc.ForEach(func(k, v gjson.Result) bool {
		end = v.Index + len(v.Raw)
		if !mc.Member(&k, &v) {
			p.bad = true
			return false
		}
		p.checkString(k)
		p.checkString(v)
		p.top(f, bstr(k.Str), v)
		return !p.bad && !(p.sawLog && p.sawContainer)
	})
	if p.bad {
		return false
	}
	if p.sawLog && p.sawContainer {
		// A container envelope: the caller unwraps (and validates) it.
		f.Envelope = true
		f.Format = "json"
		return true
	}
	// The values must run up to the final brace: a truncated or broken line
	// stops the iteration early and is text, not JSON (f is then discarded).
	for end < len(line)-1 && (line[end] == ' ' || line[end] == '\t' || line[end] == '\r' || line[end] == '\n') {
		end++
	}
	if end != len(line)-1 {
		return false
	}
	f.Format = "json"
	return true
}

func (p *JSONParser) top(f *Fields, key []byte, v gjson.Result) {
	if v.Type == gjson.String {
		switch string(key) {
		case "log":
			p.sawLog = true
		case "stream", "source", "container_id", "container_name":
			p.sawContainer = true
		}
	}
	if v.IsArray() && string(key) == "attributes" && p.otelAttributes(f, v) {
		return // OTLP/JSON log record attributes: [{key, value: {stringValue: …}}]
	}
	if v.IsObject() {
		switch string(key) {
		case "body": // OTLP/JSON log record: {"stringValue": "…"}
			if sv := v.Get("stringValue"); sv.Type == gjson.String && len(v.Raw) < len(sv.Raw)+32 {
				p.checkString(sv)
				f.SetKey(key, JSONValue(sv))
				return
			}
		case "resource": // OTLP/JSON resource: {"attributes": [...]}
			if a := v.Get("attributes"); a.IsArray() && p.otelAttributes(f, a) {
				return
			}
		case "fields": // Rust tracing-subscriber JSON: the event's fields, message included
			p.asTopLevel(f, v)
			return
		}
		if string(key) == "attrs" {
			// logshipd's own output read back: unknown fields stay unknown.
			v.ForEach(func(ck, cv gjson.Result) bool {
				p.checkString(ck)
				p.checkString(cv)
				f.AddExtra(bstr(ck.Str), JSONValue(cv))
				return true
			})
			return
		}
		if g := GroupOf(key); g != GroupNone {
			p.group(f, g, key, v)
			return
		}
	}
	f.SetKey(key, JSONValue(v))
}

// asTopLevel maps the members of obj through SetKey as if they were
// top-level keys (Rust tracing's "fields" object).
func (p *JSONParser) asTopLevel(f *Fields, obj gjson.Result) {
	mc := NewMemberCheck(p.doc, obj)
	obj.ForEach(func(k, v gjson.Result) bool {
		if !mc.Member(&k, &v) {
			p.bad = true
			return false
		}
		p.checkString(k)
		p.checkString(v)
		f.SetKey(bstr(k.Str), JSONValue(v))
		return true
	})
	if !p.bad && !mc.End() {
		p.bad = true
	}
}

// otelAttributes maps an OTLP/JSON KeyValue list ([{"key": "http.method",
// "value": {"stringValue": "GET"}}, ...]) through SetKey, as if each pair
// were a top-level key. It returns false, touching nothing, when the list
// is not of that shape (the array is then kept as it is).
func (p *JSONParser) otelAttributes(f *Fields, arr gjson.Result) bool {
	if !gjson.Valid(arr.Raw) {
		return false // kept as is: JSONValue marks it a string
	}
	ok := true
	arr.ForEach(func(_, el gjson.Result) bool {
		ok = el.IsObject() && el.Get("key").Type == gjson.String && otelAnyValue(el.Get("value")).Kind != KindNone
		return ok
	})
	if !ok {
		return false
	}
	arr.ForEach(func(_, el gjson.Result) bool {
		k := el.Get("key")
		p.checkString(k)
		v := otelAnyValue(el.Get("value"))
		f.SetKey(bstr(k.Str), v)
		return true
	})
	return true
}

// otelAnyValue converts an OTLP/JSON AnyValue ({"stringValue": "x"},
// {"intValue": "42"} (a string in OTLP/JSON), {"doubleValue": 1.5},
// {"boolValue": true}; arrays and maps kept as JSON).
func otelAnyValue(v gjson.Result) Value {
	if !v.IsObject() {
		return Value{}
	}
	var out Value
	v.ForEach(func(k, x gjson.Result) bool {
		switch k.Str {
		case "stringValue", "boolValue", "doubleValue", "bytesValue":
			out = JSONValue(x)
		case "intValue":
			if x.Type == gjson.String && IsJSONNumber(bstr(x.Str)) {
				out = Value{B: bstr(x.Str), Kind: KindNumber}
			} else {
				out = JSONValue(x)
			}
		case "arrayValue", "kvlistValue":
			out = JSONValue(x)
		}
		return false // one field per AnyValue
	})
	return out
}

// group walks a nested object of a known group.
func (p *JSONParser) group(f *Fields, g Group, key []byte, obj gjson.Result) {
	mc := NewMemberCheck(p.doc, obj)
	obj.ForEach(func(ck, cv gjson.Result) bool {
		if !mc.Member(&ck, &cv) {
			p.bad = true
			return false
		}
		p.checkString(ck)
		p.checkString(cv)
		ckey := bstr(ck.Str)
		val := JSONValue(cv)
		if cv.IsObject() {
			switch {
			case g == GroupLog && ck.Str == "origin":
				p.ecsOrigin(f, key, ckey, cv)
				return true
			case g == GroupHTTP && (ck.Str == "request" || ck.Str == "response"):
				sub := GroupRequest
				if ck.Str == "response" {
					sub = GroupResponse
				}
				p.group(f, sub, p.join(key, ckey), cv)
				return true
			case (g == GroupHTTP || g == GroupRequest) && ck.Str == "body":
				// http.request.body.bytes (ECS)
				if b := cv.Get("bytes"); b.Type == gjson.Number {
					setIf(&f.Request.Size, JSONValue(b))
					return true
				}
			}
		}
		if !f.SetGroupKey(g, ckey, val) {
			f.AddExtra(p.join(key, ckey), val)
		}
		return true
	})
	if !p.bad && !mc.End() {
		p.bad = true
	}
}

// ecsOrigin handles ECS log.origin {file:{name,line}, function}.
func (p *JSONParser) ecsOrigin(f *Fields, gkey, okey []byte, o gjson.Result) {
	if fn := o.Get("function"); fn.Type == gjson.String {
		setIf(&f.Source.Function, JSONValue(fn))
	}
	if fl := o.Get("file.name"); fl.Type == gjson.String {
		setIf(&f.Source.File, JSONValue(fl))
	}
	if ln := o.Get("file.line"); ln.Type == gjson.Number {
		setIf(&f.Source.Line, JSONValue(ln))
	}
}

func (p *JSONParser) join(a, b []byte) []byte {
	buf := p.arena.Alloc(len(a) + 1 + len(b))
	n := copy(buf, a)
	buf[n] = '.'
	copy(buf[n+1:], b)
	return buf
}

// Arena hands out byte slices that stay valid until Reset. Growing never
// moves bytes already handed out (a new chunk is started instead), so
// earlier slices stay intact.
type Arena struct {
	cur []byte
}

// Reset makes the arena's memory reusable. Slices handed out before are
// invalid afterwards.
func (a *Arena) Reset() { a.cur = a.cur[:0] }

// Alloc returns n bytes.
func (a *Arena) Alloc(n int) []byte {
	if cap(a.cur)-len(a.cur) < n {
		size := 4096
		if n > size {
			size = n
		}
		a.cur = make([]byte, 0, size)
	}
	start := len(a.cur)
	a.cur = a.cur[:start+n]
	return a.cur[start : start+n : start+n]
}

// Append copies b into the arena and returns the copy.
func (a *Arena) Append(b []byte) []byte {
	dst := a.Alloc(len(b))
	copy(dst, b)
	return dst
}
