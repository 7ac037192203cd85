package normalize

import (
	"bytes"
	"github.com/starmates/logshipd/internal/jsonx"
	"strconv"
	"time"

	"github.com/tidwall/gjson"

	"github.com/starmates/logshipd/internal/event"
	"github.com/starmates/logshipd/internal/normalize/parse"
)

// pending is one logical record waiting to be encoded: the parsed header
// line plus any continuation lines.
type pending struct {
	f         *parse.Fields
	format    int
	head      []byte // header line as received (after unwrapping)
	body      []byte // continuation lines joined with '\n'
	lines     int
	trace     traceKind
	dropBytes int // continuation bytes dropped at the multiline bound
	dropLines int
	envTime   time.Time
	hasEnv    bool
	lineNo    int64 // stream line number of the header line
}

// envMeta is the container metadata of one joiner key.
type envMeta struct {
	format        string // docker-json, cri, firelens, compose
	stream        string
	containerID   string
	containerName string
	ecsCluster    string
	ecsTaskARN    string
	ecsTaskDef    string
}

// Origin says where a stream's lines come from (see event.Origin).
type Origin = event.Origin

// encoder turns pending records into canonical JSON. One per Stream.
type encoder struct {
	cfg      *Config
	loc      *time.Location
	atFields bool
	minLevel map[string]event.Level
	stats    *Stats
	intern   map[string]string

	out   []byte
	arena parse.Arena
	rec   event.Record
	tc    timeCache

	lastIntern string

	// encoding caches (see identity and originPrefix)
	idBytes                     []byte
	idService, idEnv, idProject string
	originBytes                 []byte
	originFor                   *Origin
	originEnv                   *envMeta
	originLeaves                int
	keys                        [][]byte   // attrs keys already written (dedup)
	spill                       []parse.KV // slot values of the wrong type, written under attrs

	records int64 // emitted since the Stream last published its counters
}

func newEncoder(cfg *Config, stats *Stats) (*encoder, error) {
	loc, err := time.LoadLocation(cfg.Timezone)
	if err != nil {
		return nil, err
	}
	e := &encoder{cfg: cfg, loc: loc, atFields: cfg.AtFields == nil || *cfg.AtFields, stats: stats,
		minLevel: map[string]event.Level{}, intern: map[string]string{}}
	for env, lv := range cfg.LevelFilter {
		l, _ := event.ParseLevel(lv)
		e.minLevel[env] = l
	}
	return e, nil
}

// internStr returns a stable string for b, bounded so that hostile input
// cannot grow the table without limit.
func (e *encoder) internStr(b []byte) string {
	if e.lastIntern != "" && string(b) == e.lastIntern {
		return e.lastIntern // the common case: the same service as the last record
	}
	if s, ok := e.intern[string(b)]; ok {
		e.lastIntern = s
		return s
	}
	s := string(b)
	if len(e.intern) < 4096 && len(b) <= 256 {
		e.intern[s] = s
	}
	return s
}

// levelOf applies the level policy. rawOK reports a raw token with a
// canonical meaning.
func levelOf(p *pending) (lv event.Level, rawOK bool) {
	f := p.f
	if lv, ok := mapLevel(f); ok {
		return lv, true
	}
	if st := f.Response.Status; st.Set() {
		if n, ok := atoi(st.B); ok {
			switch {
			case n >= 500:
				return event.LevelError, false
			case n >= 400:
				return event.LevelWarn, false
			}
			return event.LevelInfo, false
		}
	}
	if len(f.Level) == 0 && (f.Exception.Class.Set() || p.trace != traceNone) {
		return event.LevelError, false
	}
	return event.LevelInfo, false
}

func atoi(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// recordTime resolves the record time and reports its source.
func (e *encoder) recordTime(p *pending, now time.Time) (time.Time, string) {
	f := p.f
	if f.HasTime {
		t := f.Time
		if f.TimeLocal {
			y, mo, d := t.Date()
			h, mi, s := t.Clock()
			if f.TimeNoYear {
				y = now.In(e.loc).Year()
			}
			t = time.Date(y, mo, d, h, mi, s, t.Nanosecond(), e.loc)
			if f.TimeNoYear && t.After(now.Add(48*time.Hour)) {
				t = t.AddDate(-1, 0, 0) // December lines read in January
			}
		}
		return t.UTC(), ""
	}
	if p.hasEnv {
		return p.envTime.UTC(), "container"
	}
	return now.UTC(), "ingest"
}

// timeCache remembers the formatted "2006-01-02T15:04:05" of the last
// second seen: consecutive records share it, and formatting the date is
// the costly part.
type timeCache struct {
	sec    int64
	prefix [19]byte
}

// appendTimeCached is appendTime with the second's prefix cached.
func (c *timeCache) appendTime(dst []byte, t time.Time, frac int) []byte {
	sec := t.Unix()
	if sec != c.sec || c.prefix[0] == 0 {
		c.sec = sec
		b := appendTime(c.prefix[:0], t, 0)
		copy(c.prefix[:], b[1:20])
	}
	dst = append(dst, '"')
	dst = append(dst, c.prefix[:]...)
	return appendFrac(dst, t, frac)
}

// appendFrac ends a quoted timestamp: the fraction (frac 3 or 6 digits), Z and
// the closing quote.
func appendFrac(dst []byte, t time.Time, frac int) []byte {
	dst = append(dst, '.')
	ns := t.Nanosecond()
	if frac == 3 {
		dst = appendInt(dst, ns/1e6, 3)
	} else {
		dst = appendInt(dst, ns/1e3, 6)
	}
	return append(dst, 'Z', '"')
}

// appendTime writes "2006-01-02T15:04:05.000Z" with digits digits of fraction (3 or 6).
func appendTime(dst []byte, t time.Time, frac int) []byte {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	dst = append(dst, '"')
	dst = appendInt(dst, y, 4)
	dst = append(dst, '-')
	dst = appendInt(dst, int(mo), 2)
	dst = append(dst, '-')
	dst = appendInt(dst, d, 2)
	dst = append(dst, 'T')
	dst = appendInt(dst, h, 2)
	dst = append(dst, ':')
	dst = appendInt(dst, mi, 2)
	dst = append(dst, ':')
	dst = appendInt(dst, s, 2)
	return appendFrac(dst, t, frac)
}

func appendInt(dst []byte, v, width int) []byte {
	var b [12]byte
	i := len(b)
	if v < 0 {
		v = 0
	}
	for v > 0 || width > 0 {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		width--
	}
	return append(dst, b[i:]...)
}

// isUUIDv4 reports whether b is a canonical UUID v4 (any case).
func isUUIDv4(b []byte) bool {
	if len(b) != 36 || b[8] != '-' || b[13] != '-' || b[18] != '-' || b[23] != '-' {
		return false
	}
	if !allHex(b[0:8]) || !allHex(b[9:13]) || !allHex(b[14:18]) || !allHex(b[19:23]) || !allHex(b[24:36]) {
		return false
	}
	v := b[19] | 0x20
	return b[14] == '4' && (v == '8' || v == '9' || v == 'a' || v == 'b')
}

var hexTable = func() (t [256]bool) {
	for _, c := range "0123456789abcdefABCDEF" {
		t[c] = true
	}
	return t
}()

func isHex(c byte) bool { return hexTable[c] }

// allHex reports whether every byte of b is a hex digit.
func allHex(b []byte) bool {
	ok := true
	for _, c := range b {
		ok = ok && hexTable[c]
	}
	return ok
}

func isHexN(b []byte, n int) bool {
	if len(b) != n {
		return false
	}
	zero := true
	for _, c := range b {
		if !isHex(c) {
			return false
		}
		if c != '0' {
			zero = false
		}
	}
	return !zero
}

var lowerTable = func() (t [256]byte) {
	for i := range t {
		t[i] = byte(i)
		if i >= 'A' && i <= 'Z' {
			t[i] = byte(i) + 'a' - 'A'
		}
	}
	return t
}()

func lowerInto(dst []byte, b []byte) []byte {
	n := len(dst)
	dst = append(dst, b...)
	for i := n; i < len(dst); i++ {
		dst[i] = lowerTable[dst[i]]
	}
	return dst
}

func hexDecode(dst []byte, src []byte) {
	for i := 0; i < len(dst); i++ {
		dst[i] = unhex(src[2*i])<<4 | unhex(src[2*i+1])
	}
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10
	}
	return 0
}

// traceIDs resolves trace and span ids (lower-case hex) from the fields.
func traceIDs(f *parse.Fields) (trace, span []byte) {
	if tp := f.TraceParent.B; f.TraceParent.Kind == parse.KindString && len(tp) >= 55 && tp[2] == '-' && tp[35] == '-' && tp[52] == '-' {
		if isHexN(tp[3:35], 32) {
			trace = tp[3:35]
		}
		if isHexN(tp[36:52], 16) {
			span = tp[36:52]
		}
	}
	if t := f.TraceID.B; f.TraceID.Kind == parse.KindString && trace == nil {
		switch {
		case isHexN(t, 32):
			trace = t
		case len(t) >= 55 && t[2] == '-' && isHexN(t[3:35], 32):
			trace = t[3:35] // a traceparent under a trace_id key
			if span == nil && isHexN(t[36:52], 16) {
				span = t[36:52]
			}
		}
	}
	if s := f.SpanID.B; f.SpanID.Kind == parse.KindString && isHexN(s, 16) {
		span = s
	}
	return trace, span
}

var trackingKey = []byte("tracking_id=")

// trackingFromText finds "tracking_id=<uuid>" in free text.
func trackingFromText(msg []byte) []byte {
	i := bytes.Index(msg, trackingKey)
	if i < 0 {
		return nil
	}
	v := msg[i+len(trackingKey):]
	if len(v) > 0 && (v[0] == '"' || v[0] == '\'') {
		v = v[1:]
	}
	if len(v) >= 36 && isUUIDv4(v[:36]) {
		return v[:36]
	}
	if len(v) >= 32 && isHexN(v[:32], 32) && (len(v) == 32 || !isHex(v[32])) {
		return v[:32]
	}
	return nil
}

// group writer: writes `"name":{` lazily on the first member.
type groupWriter struct {
	dst    []byte
	opened bool
	leaves int
	name   string
	spill  *[]parse.KV // values whose type does not fit the schema slot go to attrs
}

func (g *groupWriter) misfit(k string, v parse.Value) {
	if g.spill != nil {
		*g.spill = append(*g.spill, parse.KV{Key: []byte(g.name + "." + k), Val: v})
	}
}

func (g *groupWriter) key(k string) {
	if !g.opened {
		g.dst = append(g.dst, ',')
		g.dst = jsonx.AppendKey(g.dst, g.name)
		g.dst = append(g.dst, '{')
		g.opened = true
	} else {
		g.dst = append(g.dst, ',')
	}
	g.dst = jsonx.AppendKey(g.dst, k)
	g.leaves++
}

// str writes a string slot. The check is inlined at the call sites (most
// slots are empty); the writing is not.
func (g *groupWriter) str(k string, v parse.Value) {
	if v.Kind >= parse.KindString && v.Kind <= parse.KindBool { // set, not null, not an object
		g.writeStr(k, v.B)
	}
}

func (g *groupWriter) writeStr(k string, b []byte) {
	g.key(k)
	g.dst = jsonx.AppendString(g.dst, b)
}

// identity appends the service/environment/project members, reusing the
// encoding of the last triple (they rarely change within a stream).
func (e *encoder) identity(dst []byte, service, environment, project string) []byte {
	if service != e.idService || environment != e.idEnv || project != e.idProject || e.idBytes == nil {
		b := append(e.idBytes[:0], `,"service":`...)
		b = jsonx.AppendStr(b, service)
		b = append(b, `,"environment":`...)
		b = jsonx.AppendStr(b, environment)
		b = append(b, `,"project":`...)
		b = jsonx.AppendStr(b, project)
		e.idBytes, e.idService, e.idEnv, e.idProject = b, service, environment, project
	}
	return append(dst, e.idBytes...)
}

// originPrefix returns the encoded origin members that come before
// "format" (kind, file and the container wrapper), each followed by ','.
func (e *encoder) originPrefix(origin *Origin, env *envMeta) []byte {
	if e.originFor == origin && e.originEnv == env && e.originBytes != nil {
		return e.originBytes
	}
	b := e.originBytes[:0]
	n := 0
	member := func(k, v string) {
		if v == "" {
			return
		}
		b = append(b, '"')
		b = append(b, k...)
		b = append(b, '"', ':')
		b = jsonx.AppendStr(b, v)
		b = append(b, ',')
		n++
	}
	if origin != nil {
		member("kind", origin.Kind)
		member("file", origin.Path)
	}
	if env != nil {
		member("wrapper", env.format)
		member("stream", env.stream)
		member("container_id", env.containerID)
		member("container_name", env.containerName)
		member("ecs_cluster", env.ecsCluster)
		member("ecs_task_arn", env.ecsTaskARN)
		member("ecs_task_definition", env.ecsTaskDef)
	}
	e.originBytes, e.originFor, e.originEnv, e.originLeaves = b, origin, env, n
	return b
}

// hexID writes an already validated hex id in lower case (nothing for nil).
func (g *groupWriter) hexID(k string, id []byte) {
	if id == nil {
		return
	}
	g.key(k)
	g.dst = append(g.dst, '"')
	g.dst = lowerInto(g.dst, id)
	g.dst = append(g.dst, '"')
}

// num writes a numeric slot; numbers written as strings ("200", "1.5") are
// converted, anything else is written as a string so no data is lost.
func (g *groupWriter) num(k string, v parse.Value) {
	if v.Kind >= parse.KindString && v.Kind <= parse.KindBool { // set, not null, not an object
		g.writeNum(k, v)
	}
}

func (g *groupWriter) writeNum(k string, v parse.Value) {
	if v.Kind == parse.KindNumber || (v.Kind == parse.KindString && parse.IsJSONNumber(v.B)) {
		g.key(k)
		g.dst = append(g.dst, v.B...)
		return
	}
	g.misfit(k, v)
}

// int writes an integer slot; non-integers are written as strings.
func (g *groupWriter) int(k string, v parse.Value) {
	if v.Kind >= parse.KindString && v.Kind <= parse.KindBool { // set, not null, not an object
		g.writeInt(k, v)
	}
}

func (g *groupWriter) writeInt(k string, v parse.Value) {
	if n, ok := atoi(v.B); ok {
		g.key(k)
		g.dst = strconv.AppendInt(g.dst, int64(n), 10)
		return
	}
	g.misfit(k, v)
}

// seconds writes a duration in seconds: numbers are scaled, Go duration
// strings ("2.5ms") are parsed.
func (g *groupWriter) seconds(k string, v parse.Value) {
	if v.Kind >= parse.KindString && v.Kind <= parse.KindBool { // set, not null, not an object
		g.writeSeconds(k, v)
	}
}

func (g *groupWriter) writeSeconds(k string, v parse.Value) {
	if v.Kind == parse.KindNumber || parse.IsJSONNumber(v.B) {
		if v.Scale == 0 || v.Scale == 1 {
			g.key(k)
			g.dst = append(g.dst, v.B...)
			return
		}
		if f, err := strconv.ParseFloat(sstr(v.B), 64); err == nil {
			g.key(k)
			g.dst = jsonx.AppendFloat(g.dst, f*v.Scale)
			return
		}
	}
	if d, err := time.ParseDuration(sstr(v.B)); err == nil {
		g.key(k)
		g.dst = jsonx.AppendFloat(g.dst, d.Seconds())
		return
	}
	g.misfit(k, v)
}

func (g *groupWriter) close() []byte {
	if g.opened {
		g.dst = append(g.dst, '}')
		g.opened = false
	}
	return g.dst
}

// next closes the current group and starts group name: one writer serves
// every group of a record (leaves add up), members are written lazily.
func (g *groupWriter) next(name string) {
	if g.opened {
		g.dst = append(g.dst, '}')
		g.opened = false
	}
	g.name = name
}

// countLeaves counts the flattened leaf fields of a raw JSON value the way
// Logs Insights flattens them (objects with dots, arrays with indexes).
func countLeaves(raw []byte) int {
	r := gjson.Parse(sstr(raw))
	if !r.IsObject() && !r.IsArray() {
		return 1
	}
	n := 0
	r.ForEach(func(_, v gjson.Result) bool {
		if v.IsObject() || v.IsArray() {
			n += countLeaves(bstr(v.Raw))
		} else {
			n++
		}
		return true
	})
	if n == 0 {
		return 1
	}
	return n
}

// encode builds the canonical record for p. Records under the level filter
// are still built (metrics count them) and marked BelowLevel.
func (e *encoder) encode(p *pending, origin *Origin, env *envMeta, now time.Time) *event.Record {
	f := p.f
	e.arena.Reset()
	lv, rawOK := levelOf(p)
	environment := e.cfg.Environment
	if f.Environment.Kind == parse.KindString && len(f.Environment.B) > 0 {
		environment = e.internStr(f.Environment.B)
	}
	below := false
	if minLv, ok := e.minLevel[environment]; ok && lv < minLv {
		e.stats.LevelFiltered.Add(1)
		below = true
	}
	t, timeSource := e.recordTime(p, now)
	if timeSource == "ingest" {
		e.stats.TimeMissing.Add(1)
	}

	// Message and stack trace.
	msg := f.Message.B
	if !f.Message.Set() || f.Message.Kind == parse.KindJSON {
		msg = nil
		if f.Message.Kind == parse.KindJSON {
			f.AddExtra(keyMessage, f.Message)
		}
		if p.format == plainIndex || f.Format != "json" {
			msg = p.head
		}
	}
	stack := f.Exception.StackTrace.B
	if len(p.body) > 0 || p.dropBytes > 0 {
		body := p.body
		if p.dropBytes > 0 {
			b := e.arena.Alloc(len(body) + 64)[:0]
			b = append(b, body...)
			b = append(b, "\n[truncated "...)
			b = strconv.AppendInt(b, int64(p.dropBytes), 10)
			b = append(b, " bytes, "...)
			b = strconv.AppendInt(b, int64(p.dropLines), 10)
			b = append(b, " lines]"...)
			body = b
		}
		if p.trace != traceNone && len(stack) == 0 {
			stack = body
		} else {
			b := e.arena.Alloc(len(msg) + 1 + len(body))[:0]
			b = append(b, msg...)
			b = append(b, '\n')
			b = append(b, body...)
			msg = b
		}
	}
	var ti traceInfo
	if len(stack) > 0 {
		ti = analyzeTrace(stack)
	}
	if ti.class == nil && p.trace == traceJava {
		// "Exception in thread "main" java.lang.X: msg" is the header itself.
		if hi := analyzeJava(p.head); hi.class != nil {
			ti.class, ti.message = hi.class, hi.message
		}
	}
	excClass := f.Exception.Class.B
	if !f.Exception.Class.Set() && ti.class != nil {
		excClass = ti.class
	}

	// Identity.
	service := e.cfg.Service
	if f.Service.Kind == parse.KindString && len(f.Service.B) > 0 {
		service = e.internStr(f.Service.B)
	}
	if service == "" {
		service = "unknown"
	}
	project := e.cfg.Project
	if f.Project.Kind == parse.KindString && len(f.Project.B) > 0 {
		project = e.internStr(f.Project.B)
	}
	traceID, spanID := traceIDs(f)
	var tracking []byte
	var invalidTracking []byte
	if tv := f.TrackingID; tv.Set() {
		if isUUIDv4(tv.B) || isHexN(tv.B, 32) {
			tracking = tv.B
		} else {
			invalidTracking = tv.B
			e.stats.InvalidTracking.Add(1)
		}
	}
	if tracking == nil && !f.TrackingID.Set() {
		tracking = trackingFromText(msg)
	}
	if tracking == nil {
		tracking = traceID
	}
	rec := &e.rec
	*rec = event.Record{Time: t, Level: lv, Service: service, Environment: environment, Project: project, Line: p.lineNo, BelowLevel: below}
	if tracking != nil {
		n := len(lowerInto(rec.TrackingID[:0], tracking))
		rec.TrackingIDLen = uint8(n)
	} else {
		rec.TrackingIDLen = uint8(copy(rec.TrackingID[:], e.cfg.TrackingIDFallback))
	}
	if traceID != nil {
		hexDecode(rec.TraceID[:], traceID)
		rec.HasTrace = true
	}
	if spanID != nil {
		hexDecode(rec.SpanID[:], spanID)
		rec.HasSpan = true
	}

	for attempt := 0; ; attempt++ {
		out := e.write(p, origin, env, rec, msg, stack, excClass, &ti, traceID, spanID, invalidTracking, timeSource, rawOK, tracking != nil)
		if len(out) <= e.cfg.MaxEventBytes || attempt >= 64 {
			e.out = out
			break
		}
		over := len(out) - e.cfg.MaxEventBytes
		if !e.cut(&msg, &stack, f, over) {
			e.out = out
			break
		}
		if attempt == 0 {
			e.stats.SizeTruncations.Add(1)
		}
	}
	rec.JSON = e.out
	e.records++ // published by the Stream (shared atomics are contended)
	if p.lines > 1 {
		e.stats.MultilineJoined.Add(1)
	}
	return rec
}

const truncMarkerMax = 40

// cut shortens the longest free-text field so the record shrinks by at
// least over bytes, marking the cut. It reports whether anything was cut.
func (e *encoder) cut(msg, stack *[]byte, f *parse.Fields, over int) bool {
	type cand struct {
		b    *[]byte
		mult int
	}
	cands := [...]cand{{msg, 1 + boolInt(e.atFields)}, {stack, 1}, {&f.Error.Message.B, 1}, {&f.Request.UserAgent.B, 1}, {&f.Request.Path.B, 1}}
	best, bestLen := -1, 0
	for i, c := range cands {
		if l := len(*c.b) * c.mult; l > bestLen {
			best, bestLen = i, l
		}
	}
	// Any other text slot can be the long one too (an input may put 4 KiB
	// of invalid UTF-8 in request.method, each byte written as \ufffd).
	var slot *[]byte
	for _, v := range [...]*parse.Value{&f.Request.Method, &f.Request.Referer, &f.Request.Host, &f.Request.IP,
		&f.Request.Protocol, &f.Response.ContentType, &f.Logger, &f.Host, &f.User.ID, &f.User.Segment, &f.Session.ID,
		&f.Workflow.ID, &f.Workflow.Type, &f.Workflow.Status, &f.Operation.Name, &f.Operation.Result,
		&f.Error.Type, &f.Error.Code, &f.Error.Category, &f.Exception.Class, &f.Exception.Message, &f.Exception.File,
		&f.Source.Module, &f.Source.Function, &f.Source.File} {
		if v.Kind == parse.KindString && len(v.B) > bestLen {
			slot, bestLen = &v.B, len(v.B)
		}
	}
	// attrs string values and keys (a key can be as long as a value)
	var extra *[]byte
	var extraVal *parse.Value
	for i := range f.Extra {
		kv := &f.Extra[i]
		if (kv.Val.Kind == parse.KindString || kv.Val.Kind == parse.KindJSON) && len(kv.Val.B) > bestLen {
			extra, extraVal, bestLen = &kv.Val.B, &kv.Val, len(kv.Val.B)
		}
		if len(kv.Key) > bestLen {
			extra, extraVal, bestLen = &kv.Key, nil, len(kv.Key)
		}
	}
	if extraVal != nil {
		extraVal.Kind = parse.KindString // a nested object or array too big to keep is cut as text
	}
	var target *[]byte
	mult := 1
	switch {
	case extra != nil:
		target = extra
	case slot != nil:
		target = slot
	case best >= 0:
		target, mult = cands[best].b, cands[best].mult
	default:
		return false
	}
	old := *target
	// Escaping can grow bytes up to 6x; cut on the raw side generously.
	remove := (over+mult-1)/mult + truncMarkerMax
	keep := len(old) - remove
	if keep < 0 {
		keep = 0
	}
	for keep > 0 && keep < len(old) && old[keep]&0xC0 == 0x80 {
		keep-- // do not split a UTF-8 sequence
	}
	removed := len(old) - keep
	b := e.arena.Alloc(keep + truncMarkerMax)[:0]
	b = append(b, old[:keep]...)
	b = append(b, "…[truncated "...)
	b = strconv.AppendInt(b, int64(removed), 10)
	b = append(b, " bytes]"...)
	*target = b
	return removed > 0
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// write encodes the record once. Field counting follows Logs Insights'
// flattening; attrs that do not fit max_fields are moved into one
// stringified attrs_overflow field, last ones first.
func (e *encoder) write(p *pending, origin *Origin, env *envMeta, rec *event.Record, msg, stack, excClass []byte,
	ti *traceInfo, traceID, spanID, invalidTracking []byte, timeSource string, rawOK, trackingValid bool) []byte {
	f := p.f
	dst := e.out[:0]
	e.spill = e.spill[:0]
	leaves := 0
	dst = append(dst, `{"timestamp":`...)
	ts := len(dst)
	dst = e.tc.appendTime(dst, rec.Time, 6) // "2006-01-02T15:04:05.000000Z"
	leaves++
	if e.atFields {
		// @timestamp is the same text truncated to milliseconds.
		dst = append(dst, `,"@timestamp":`...)
		dst = append(dst, dst[ts:ts+24]...)
		dst = append(dst, 'Z', '"')
		leaves++
	}
	lvName := rec.Level.String()
	dst = append(dst, `,"level":"`...)
	dst = append(dst, lvName...)
	dst = append(dst, '"')
	leaves++
	if e.atFields {
		dst = append(dst, `,"@level":"`...)
		dst = append(dst, lvName...)
		dst = append(dst, '"')
		leaves++
	}
	dst = e.identity(dst, rec.Service, rec.Environment, rec.Project)
	dst = append(dst, `,"tracking_id":`...)
	if trackingValid {
		dst = append(dst, '"') // a validated UUID or hex id: nothing to escape
		dst = append(dst, rec.TrackingID[:rec.TrackingIDLen]...)
		dst = append(dst, '"')
	} else {
		dst = jsonx.AppendString(dst, rec.TrackingID[:rec.TrackingIDLen])
	}
	dst = append(dst, `,"message":`...)
	ms := len(dst)
	dst = jsonx.AppendString(dst, msg)
	me := len(dst)
	leaves += 5
	if e.atFields {
		// The twin is the same encoded text: copy it instead of escaping twice.
		dst = append(dst, `,"@message":`...)
		dst = append(dst, dst[ms:me]...)
		leaves++
	}

	hasHTTP := f.Request.Method.Set() || f.Response.Status.Set() || (f.Request.Path.Set() && f.Request.PathKey == nil)
	g := groupWriter{dst: dst, name: "request", spill: &e.spill}
	g.str("method", f.Request.Method)
	if path := f.Request.Path; path.Set() && (hasHTTP || f.Request.PathKey == nil) {
		b := path.B
		if path.Kind == parse.KindString {
			b = urlPath(b)
		}
		g.str("path", parse.Str(b))
	}
	g.int("size", f.Request.Size)
	if hasHTTP || f.Request.DurationKey == nil {
		g.seconds("duration", f.Request.Duration)
	}
	g.str("user_agent", f.Request.UserAgent)
	g.str("ip", f.Request.IP)
	g.next("response")
	if st := f.Response.Status; st.Set() {
		if n, ok := atoi(st.B); ok && n >= 100 && n <= 599 {
			g.int("status", st)
		} else {
			g.misfit("status", st) // not an HTTP status: kept under attrs
		}
	}
	g.int("size", f.Response.Size)
	g.str("content_type", f.Response.ContentType)
	g.next("user")
	g.str("id", asString(f.User.ID))
	g.str("segment", f.User.Segment)
	g.next("session")
	g.str("id", asString(f.Session.ID))
	g.seconds("duration", f.Session.Duration)
	g.next("tracing")
	g.hexID("trace_id", traceID)
	g.hexID("span_id", spanID)
	g.next("workflow")
	g.str("id", asString(f.Workflow.ID))
	g.str("type", f.Workflow.Type)
	g.str("status", f.Workflow.Status)
	g.next("operation")
	g.str("name", f.Operation.Name)
	g.str("result", f.Operation.Result)
	g.seconds("duration", f.Operation.Duration)
	g.next("error")
	errType := f.Error.Type
	if !errType.Set() && excClass != nil {
		errType = parse.Str(excClass)
	}
	errMsg := asString(f.Error.Message)
	if !errMsg.Set() {
		if f.Exception.Message.Set() {
			errMsg = f.Exception.Message
		} else if ti.message != nil {
			errMsg = parse.Str(ti.message)
		}
	}
	if rec.Level == event.LevelError || f.Error.Type.Set() || f.Error.Message.Set() {
		g.str("type", errType)
		g.str("code", asString(f.Error.Code))
		g.str("message", errMsg)
		cat := f.Error.Category
		if !cat.Set() && rec.Level == event.LevelError {
			cat = errorCategory(f, errType.B, errMsg.B)
		}
		g.str("category", cat)
	}
	g.next("exception")
	if excClass != nil {
		g.str("class", parse.Str(excClass))
	}
	if len(stack) > 0 {
		g.str("stack_trace", parse.Str(stack))
	}
	excFile, excLine := f.Exception.File, f.Exception.Line
	if !excFile.Set() && ti.file != nil {
		excFile, excLine = parse.Str(ti.file), parse.Num(ti.line)
	}
	g.str("file", excFile)
	g.int("line", excLine)
	g.next("source")
	g.str("module", f.Source.Module)
	g.str("function", f.Source.Function)
	g.int("line", f.Source.Line)
	g.str("file", f.Source.File)
	// The origin's source and container members are constant per stream and
	// joiner: they are encoded once and copied.
	g.next("origin")
	g.dst = append(g.dst, `,"origin":{`...)
	g.opened = true
	g.dst = append(g.dst, e.originPrefix(origin, env)...)
	g.dst = append(g.dst, `"format":`...)
	g.leaves += e.originLeaves + 1
	g.dst = append(g.dst, '"')
	g.dst = append(g.dst, formatNames[p.format]...) // a constant: nothing to escape
	g.dst = append(g.dst, '"')
	if len(f.Level) > 0 {
		g.key("level_raw")
		g.dst = jsonx.AppendString(g.dst, f.Level)
		if !rawOK {
			g.key("level_unmapped")
			g.dst = append(g.dst, "true"...)
		}
	}
	if timeSource != "" {
		g.key("timestamp_source")
		g.dst = jsonx.AppendStr(g.dst, timeSource)
	}
	if invalidTracking != nil {
		g.key("invalid_tracking_id")
		g.dst = jsonx.AppendString(g.dst, invalidTracking)
	}
	g.str("host", f.Host)
	g.str("logger", f.Logger)
	if p.lines > 1 {
		g.key("lines")
		g.dst = strconv.AppendInt(g.dst, int64(p.lines), 10)
	}
	originAt := len(g.dst)
	dst = g.close()
	leaves += g.leaves

	// attrs: schema-less fields in input order, then HTTP details.
	budget := e.cfg.MaxFields - leaves - 2 // room for origin.fields_dropped and attrs_overflow
	dst, dropped, droppedLeaves := e.writeAttrs(dst, p, hasHTTP, budget)
	if dropped > 0 {
		// Insert origin.fields_dropped: rewrite the tail after the origin object.
		tail := append(e.arena.Alloc(len(dst) - originAt)[:0], dst[originAt:]...)
		dst = dst[:originAt]
		dst = append(dst, `,"fields_dropped":`...)
		dst = strconv.AppendInt(dst, int64(droppedLeaves), 10)
		dst = append(dst, tail...)
		e.stats.FieldCapDrops.Add(1)
		e.stats.FieldsDropped.Add(int64(droppedLeaves))
	}
	dst = append(dst, '}')
	return dst
}

// asString turns a numeric id into its text so id slots are always strings.
func asString(v parse.Value) parse.Value {
	if v.Kind == parse.KindNumber || v.Kind == parse.KindBool {
		v.Kind = parse.KindString
	}
	return v
}

// writeAttrs writes the attrs object and, when the field cap is hit, the
// attrs_overflow string. It returns the entries and leaves moved.
func (e *encoder) writeAttrs(dst []byte, p *pending, hasHTTP bool, budget int) ([]byte, int, int) {
	f := p.f
	e.keys = e.keys[:0]
	opened := false
	used := 0
	var overflow []byte
	dropped, droppedLeaves := 0, 0
	emit := func(key []byte, v parse.Value) {
		n := 1
		if v.Kind == parse.KindJSON {
			n = countLeaves(v.B)
		}
		for _, k := range e.keys {
			if bytes.Equal(k, key) {
				return // duplicate key: the first one wins (JSON objects have unique keys)
			}
		}
		if len(e.keys) < 256 {
			e.keys = append(e.keys, key)
		}
		if overflow != nil || used+n > budget {
			if overflow == nil {
				overflow = append(e.arena.Alloc(256)[:0], '{')
			} else {
				overflow = append(overflow, ',')
			}
			overflow = jsonx.AppendString(overflow, key)
			overflow = append(overflow, ':')
			overflow = appendValue(overflow, v)
			dropped++
			droppedLeaves += n
			return
		}
		if !opened {
			dst = append(dst, `,"attrs":{`...)
			opened = true
		} else {
			dst = append(dst, ',')
		}
		dst = jsonx.AppendString(dst, key)
		dst = append(dst, ':')
		dst = appendValue(dst, v)
		used += n
	}
	for i := range f.Extra {
		kv := &f.Extra[i]
		if kv.Val.Kind == parse.KindNone {
			continue
		}
		emit(kv.Key, kv.Val)
	}
	for _, kv := range e.spill {
		emit(kv.Key, kv.Val)
	}
	if !hasHTTP && f.Request.DurationKey != nil && f.Request.Duration.Set() {
		emit(f.Request.DurationKey, f.Request.Duration)
	}
	if !hasHTTP && f.Request.PathKey != nil {
		emit(f.Request.PathKey, f.Request.Path)
	} else if path := f.Request.Path; path.Kind == parse.KindString {
		if u := urlPath(path.B); len(u) != len(path.B) {
			emit(keyRequestTarget, path)
		}
	}
	if f.Request.Protocol.Set() {
		emit(keyHTTPProtocol, f.Request.Protocol)
	}
	if f.Request.Referer.Set() {
		emit(keyHTTPReferer, f.Request.Referer)
	}
	if f.Request.Host.Set() {
		emit(keyHTTPHost, f.Request.Host)
	}
	if f.Exception.Message.Set() && f.Error.Message.Set() && !bytes.Equal(f.Exception.Message.B, f.Error.Message.B) {
		emit(keyExceptionMessage, f.Exception.Message)
	}
	if opened {
		dst = append(dst, '}')
	}
	if overflow != nil {
		overflow = append(overflow, '}')
		dst = append(dst, `,"attrs_overflow":`...)
		dst = jsonx.AppendString(dst, overflow)
	}
	return dst, dropped, droppedLeaves
}

// Fixed attrs keys (package-level so that using them does not allocate).
var (
	keyRequestTarget    = []byte("request_target")
	keyHTTPProtocol     = []byte("http_protocol")
	keyHTTPReferer      = []byte("http_referer")
	keyHTTPHost         = []byte("http_host")
	keyExceptionMessage = []byte("exception_message")
	keyMessage          = []byte("message")
	catTimeout          = []byte("timeout")
	catNetwork          = []byte("network")
	catServer           = []byte("server")
	catClient           = []byte("client")
)

// containsFold reports whether s contains the lower-case ASCII sub,
// ignoring ASCII case in s.
func containsFold(s []byte, sub string) bool {
	n := len(sub)
	for i := 0; i+n <= len(s); i++ {
		j := 0
		for j < n {
			c := s[i+j]
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != sub[j] {
				break
			}
			j++
		}
		if j == n {
			return true
		}
	}
	return false
}

// appendValue writes a parsed value as JSON.
func appendValue(dst []byte, v parse.Value) []byte {
	switch v.Kind {
	case parse.KindNumber, parse.KindBool:
		return append(dst, v.B...)
	case parse.KindNull:
		return append(dst, "null"...)
	case parse.KindJSON:
		return jsonx.AppendRawJSON(dst, v.B)
	}
	return jsonx.AppendString(dst, v.B)
}

// urlPath strips scheme, host and query from a request target.
func urlPath(b []byte) []byte {
	// An origin-form target ("/path") has no scheme to look for.
	if len(b) == 0 || b[0] != '/' {
		if i := bytes.Index(b, []byte("://")); i > 0 && i < 10 {
			rest := b[i+3:]
			if j := bytes.IndexByte(rest, '/'); j >= 0 {
				b = rest[j:]
			} else {
				return []byte("/")
			}
		}
	}
	for i, c := range b { // bytes.IndexAny builds a set per call
		if c == '?' || c == '#' {
			return b[:i]
		}
	}
	return b
}

// errorCategory derives error.category (client|server|network|timeout).
func errorCategory(f *parse.Fields, typ, msg []byte) parse.Value {
	if n, ok := atoi(f.Response.Status.B); ok && f.Response.Status.Set() {
		switch {
		case n == 408 || n == 504:
			return parse.Str(catTimeout)
		case n == 502 || n == 503:
			return parse.Str(catNetwork)
		case n >= 500:
			return parse.Str(catServer)
		case n >= 400:
			return parse.Str(catClient)
		}
	}
	switch {
	case containsFold(typ, "timeout") || containsFold(msg, "timed out") || containsFold(msg, "deadline exceeded") || containsFold(msg, "timeout"):
		return parse.Str(catTimeout)
	case containsFold(typ, "connection") || containsFold(typ, "network") || containsFold(msg, "connection refused") ||
		containsFold(msg, "connection reset") || containsFold(msg, "no route to host"):
		return parse.Str(catNetwork)
	}
	return parse.Str(catServer)
}
