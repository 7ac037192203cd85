package normalize

import (
	"bytes"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/starmates/logshipd/internal/event"
	"github.com/starmates/logshipd/internal/normalize/parse"
)

// Engine holds validated configuration and shared counters. Create one per
// pipeline; create one Stream per source (file, connection, stdin).
type Engine struct {
	cfg   Config
	stats *Stats
	parts sync.Pool // *Part
}

// New validates cfg and returns an Engine. stats may be nil.
func New(cfg Config, stats *Stats) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if stats == nil {
		stats = &Stats{}
	}
	return &Engine{cfg: cfg, stats: stats}, nil
}

// Stats returns the engine's counters.
func (e *Engine) Stats() *Stats { return e.stats }

// Config returns the engine's configuration.
func (e *Engine) Config() Config { return e.cfg }

// Emit receives each canonical record. The record and its JSON are valid
// only until Emit returns (see event.Record). Records under the level filter
// are passed on with BelowLevel set: log outputs must skip them.
type Emit func(*event.Record)

// Stream normalizes the lines of one source in order. It keeps multiline
// and container-partial state per container/stream key, so interleaved
// stdout/stderr or several containers in one file are joined correctly.
// A Stream is not safe for concurrent use.
type Stream struct {
	eng      *Engine
	enc      *encoder
	origin   Origin
	emit     Emit
	joiners  []*joiner
	u        unwrapped
	arena    parse.Arena
	lineNo   int64
	lastEnd  int64
	curStart int64

	// Counters kept here and added to the Engine's shared Stats every
	// publishEvery records and at flushes and commits: Streams on several
	// cores would otherwise contend for the same cache lines per line.
	lines   int64
	formats [len(formatNames)]int64
	unpub   int
}

const publishEvery = 256

// PublishStats adds the Stream's local counters to the Engine's Stats.
// Flush and FlushIdle do it too; callers publish at commits.
func (s *Stream) PublishStats() {
	st := s.eng.stats
	if s.lines > 0 {
		st.Lines.Add(s.lines)
		s.lines = 0
	}
	if s.enc.records > 0 {
		st.Records.Add(s.enc.records)
		s.enc.records = 0
	}
	if s.unpub > 0 {
		for i, n := range s.formats {
			if n > 0 {
				st.formats[i].Add(n)
				s.formats[i] = 0
			}
		}
		s.unpub = 0
	}
}

const maxJoiners = 64

// NewStream starts a stream whose records are passed to emit.
func (e *Engine) NewStream(origin Origin, emit Emit) *Stream {
	enc, err := newEncoder(&e.cfg, e.stats)
	if err != nil {
		panic("normalize: config was validated: " + err.Error()) // unreachable after New
	}
	return &Stream{eng: e, enc: enc, origin: origin, emit: emit}
}

type mlState uint8

const (
	stNone mlState = iota
	stPyTrace
	stPyDone
	stJava
	stGo
)

// joiner holds the multiline state of one container/stream key. Lines are
// copied into one of two buffers and parsed by one of two parser sets, so
// the pending record (slot) stays intact while the next line is parsed.
type joiner struct {
	key     []byte
	env     *envMeta
	det     [2]*detector
	fields  [2]parse.Fields
	bufs    [2][]byte
	slot    int
	has     bool
	p       pending
	body    []byte
	state   mlState
	last    time.Time
	partial []byte
	// Input offsets (-1 when unknown): where the pending record and the
	// pending partial chunks started.
	pendStart    int64
	partialStart int64
	partialLast  time.Time
}

const maxPartialBytes = 1 << 20

func (s *Stream) joinerFor(key []byte, meta *envMeta) *joiner {
	for _, j := range s.joiners {
		if bytes.Equal(j.key, key) && (j.env == nil) == (meta == nil) && (meta == nil || j.env.format == meta.format) {
			return j
		}
	}
	if len(s.joiners) >= maxJoiners {
		old := s.joiners[0]
		s.flushJoiner(old, time.Now())
		s.joiners = s.joiners[1:]
	}
	j := &joiner{key: append([]byte(nil), key...)}
	j.det[0] = newDetector(s.eng.cfg.Format)
	j.det[1] = newDetector(s.eng.cfg.Format)
	if meta != nil {
		// The strings point into the input line, which the caller reuses:
		// the joiner outlives it.
		j.env = &envMeta{
			format: meta.format, stream: strings.Clone(meta.stream),
			containerID: strings.Clone(meta.containerID), containerName: strings.Clone(meta.containerName),
			ecsCluster: strings.Clone(meta.ecsCluster), ecsTaskARN: strings.Clone(meta.ecsTaskARN),
			ecsTaskDef: strings.Clone(meta.ecsTaskDef),
		}
	}
	s.joiners = append(s.joiners, j)
	return j
}

// SetOrigin makes s normalize another input of the same source (a Stream
// reused for Parts of several lanes). Pending records are flushed first
// (they belong to the old input). Format detection stays sticky (per
// source); container joiners are dropped.
func (s *Stream) SetOrigin(o Origin, now time.Time) {
	if s.origin == o {
		return
	}
	s.Flush(now)
	s.origin = o
	s.enc.originFor = nil // the cached origin members name the old input
	k := 0
	for _, j := range s.joiners {
		if j.env == nil {
			s.joiners[k] = j
			k++
		}
	}
	clear(s.joiners[k:])
	s.joiners = s.joiners[:k]
}

// Write processes one physical line (without its newline). now is the
// ingest time used for records without a timestamp and for flush timeouts.
func (s *Stream) Write(line []byte, now time.Time) { s.WriteAt(line, -1, -1, now) }

// WriteAt is Write for inputs with byte offsets: start is the line's first
// byte, end the offset just after its newline. Watermark uses them.
func (s *Stream) WriteAt(line []byte, start, end int64, now time.Time) {
	s.lastEnd = end
	s.lines++
	s.lineNo++
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	s.arena.Reset()
	if bytes.IndexByte(line, 0x1b) >= 0 {
		line = stripANSI(s.arena.Alloc(len(line))[:0], line)
	}
	s.curStart = start
	// CRI and compose prefixes are recognised up front; JSON envelopes
	// (Docker json-file, FireLens) by the JSON parser itself, so plain JSON
	// lines are not scanned twice.
	if len(line) > 0 && line[0] != '{' && unwrap(line, &s.u, &s.arena) {
		s.envelope(start, now)
		return
	}
	// Docker json-file always starts with "log"; most FireLens/Fluent Bit
	// records do too: unwrap those directly instead of parsing them twice.
	if bytes.HasPrefix(line, prefixLog) && unwrapJSON(line, &s.u, &s.arena) {
		s.envelope(start, now)
		return
	}
	j := s.joinerFor(nil, nil)
	if s.line(j, line, time.Time{}, false, now, true) {
		return
	}
	if unwrapJSON(line, &s.u, &s.arena) {
		s.envelope(start, now)
		return
	}
	s.line(j, line, time.Time{}, false, now, false) // looked like an envelope, is not one
}

// envelope processes the unwrapped payload in s.u: partial re-joining,
// then the container/stream joiner.
func (s *Stream) envelope(start int64, now time.Time) {
	j := s.joinerFor(s.u.key, &s.u.meta)
	payload := s.u.payload
	if len(j.partial) > 0 {
		s.curStart = j.partialStart
	}
	if s.u.partial {
		if len(j.partial) == 0 {
			j.partialStart = start
		}
		j.partialLast = now
		j.partial = append(j.partial, payload...)
		if len(j.partial) < maxPartialBytes {
			s.eng.stats.PartialJoined.Add(1)
			return
		}
		s.eng.stats.PartialOverflow.Add(1)
		payload = j.partial
	} else if len(j.partial) > 0 {
		j.partial = append(j.partial, payload...)
		payload = j.partial
	}
	s.line(j, payload, s.u.time, s.u.hasTime, now, false)
	j.partial = j.partial[:0]
}

func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

// line feeds one payload line to joiner j. With envelopes set, a JSON line
// that looks like a container envelope is not consumed: line returns false
// and the caller unwraps it.
func (s *Stream) line(j *joiner, payload []byte, envTime time.Time, hasEnv bool, now time.Time, envelopes bool) bool {
	cur := 1 - j.slot
	if bytes.IndexByte(payload, 0x1b) >= 0 {
		j.bufs[cur] = stripANSI(j.bufs[cur][:0], payload)
	} else {
		j.bufs[cur] = append(j.bufs[cur][:0], payload...)
	}
	ln := j.bufs[cur]
	j.last = now
	if isBlank(ln) {
		if j.has && j.state != stNone {
			s.appendBody(j, ln[:0])
		} else {
			s.eng.stats.EmptyLines.Add(1)
		}
		return true
	}
	if j.has && s.indentCont(j, ln) {
		s.appendBody(j, ln)
		return true
	}
	idx := j.det[cur].parse(ln, &j.fields[cur])
	if envelopes && j.fields[cur].Envelope && idx == jsonIndex {
		return false
	}
	if idx == plainIndex && j.has && s.plainCont(j, ln) {
		s.appendBody(j, ln)
		return true
	}
	if j.has {
		s.flushJoiner(j, now)
	}
	j.slot = cur
	j.has = true
	j.body = j.body[:0]
	j.state = stNone
	j.p = pending{f: &j.fields[cur], format: idx, head: ln, lines: 1, envTime: envTime, hasEnv: hasEnv, lineNo: s.lineNo}
	j.pendStart = s.curStart
	if terminal[idx] {
		// A format that never continues on the next line: emit now rather
		// than waiting for the next line or the flush timeout (latency, and
		// Forward acks that wait for delivery).
		s.flushJoiner(j, now)
		return true
	}
	switch {
	case formatNames[idx] == "go-panic":
		j.state, j.p.trace = stGo, traceGo
	case idx == plainIndex && bytes.HasPrefix(ln, []byte("Traceback (most recent call last):")):
		j.state, j.p.trace = stPyTrace, tracePython
		// A bare traceback: the whole record is the trace.
	}
	return true
}

// indentCont handles indented continuation lines.
func (s *Stream) indentCont(j *joiner, ln []byte) bool {
	if ln[0] == '\t' || (len(ln) > 1 && ln[0] == ' ' && ln[1] == ' ') || (ln[0] == ' ' && j.state != stNone) {
		t := trimLeft(ln)
		switch {
		case j.state == stNone && bytes.HasPrefix(t, []byte("at ")):
			s.enter(j, stJava, traceJava)
		case j.state == stNone && ln[0] == '\t' && bytes.Contains(t, []byte(".go:")):
			s.enter(j, stGo, traceGo)
		case j.state == stNone && bytes.HasPrefix(t, []byte("File \"")) && bytes.Contains(t, []byte(", line ")):
			s.enter(j, stPyTrace, tracePython)
		}
		return true
	}
	return false
}

func (s *Stream) enter(j *joiner, st mlState, tk traceKind) {
	j.state = st
	if j.p.trace == traceNone {
		j.p.trace = tk
	}
}

// plainCont decides whether an unindented line without a recognised header
// continues the pending record.
func (s *Stream) plainCont(j *joiner, ln []byte) bool {
	switch {
	case bytes.HasPrefix(ln, []byte("Traceback (most recent call last):")):
		s.enter(j, stPyTrace, tracePython)
		return true
	case bytes.HasPrefix(ln, []byte("During handling of the above exception")) ||
		bytes.HasPrefix(ln, []byte("The above exception was the direct cause")):
		if j.p.trace == tracePython {
			j.state = stPyDone
			return true
		}
		return false
	case j.state == stPyTrace:
		j.state = stPyDone // the exception line
		return true
	case bytes.HasPrefix(ln, []byte("Caused by: ")) || bytes.HasPrefix(ln, []byte("Suppressed: ")):
		s.enter(j, stJava, traceJava)
		return true
	case looksLikeJavaException(ln) && (j.state == stJava || (j.state == stNone && j.p.lines == 1)):
		s.enter(j, stJava, traceJava)
		return true
	case bytes.HasPrefix(ln, []byte("goroutine ")) && bytes.HasSuffix(ln, []byte("]:")):
		s.enter(j, stGo, traceGo)
		return true
	case j.state == stGo:
		return looksLikeGoFrame(ln) || bytes.HasPrefix(ln, []byte("exit status ")) || bytes.HasPrefix(ln, []byte("[signal ")) ||
			bytes.HasPrefix(ln, []byte("panic: ")) || bytes.HasPrefix(ln, []byte("fatal error: "))
	case j.state == stNone && j.p.lines == 1 && bytes.IndexByte(ln, ' ') < 0 && looksLikeGoFrame(ln):
		s.enter(j, stGo, traceGo) // zap/logrus stack field printed after the message
		return true
	}
	return false
}

func (s *Stream) appendBody(j *joiner, ln []byte) {
	mc := &s.eng.cfg.Multiline
	if j.p.lines+1 > mc.MaxLines || len(j.p.head)+len(j.body)+1+len(ln) > mc.MaxBytes {
		if j.p.dropLines == 0 {
			s.eng.stats.MultilineTruncs.Add(1)
		}
		j.p.dropLines++
		j.p.dropBytes += len(ln) + 1
		return
	}
	if len(j.body) > 0 || j.p.lines > 1 {
		j.body = append(j.body, '\n')
	}
	j.body = append(j.body, ln...)
	j.p.lines++
}

func (s *Stream) flushJoiner(j *joiner, now time.Time) {
	if !j.has {
		return
	}
	j.has = false
	j.p.body = bytes.TrimRight(j.body, "\n \t")
	if !utf8.Valid(j.p.head) || !utf8.Valid(j.p.body) {
		s.eng.stats.InvalidUTF8.Add(1)
	}
	s.formats[j.p.format]++
	rec := s.enc.encode(&j.p, &s.origin, j.env, now)
	if s.unpub++; s.unpub >= publishEvery {
		s.PublishStats()
	}
	s.emit(rec)
}

// Watermark returns the input offset below which every line's records have
// been emitted: the start of the oldest pending (multiline or partial)
// record, else the end of the last line written. -1 when offsets are unknown.
func (s *Stream) Watermark() int64 {
	w := s.lastEnd
	for _, j := range s.joiners {
		if j.has && j.pendStart >= 0 && j.pendStart < w {
			w = j.pendStart
		}
		if len(j.partial) > 0 && j.partialStart >= 0 && j.partialStart < w {
			w = j.partialStart
		}
	}
	return w
}

// Pending reports whether a multiline or partial record is waiting.
func (s *Stream) Pending() bool {
	for _, j := range s.joiners {
		if j.has || len(j.partial) > 0 {
			return true
		}
	}
	return false
}

// Flush emits every pending record (call at end of input), including
// container partial pieces whose final piece never came.
func (s *Stream) Flush(now time.Time) {
	for _, j := range s.joiners {
		s.flushPartial(j, now)
		s.flushJoiner(j, now)
	}
	s.PublishStats()
}

// flushPartial emits the partial pieces j holds as one record: the rest
// of the line never came (the container stopped mid-line).
func (s *Stream) flushPartial(j *joiner, now time.Time) {
	if len(j.partial) == 0 {
		return
	}
	s.eng.stats.PartialUnfinished.Add(1)
	s.curStart = j.partialStart
	s.line(j, j.partial, time.Time{}, false, now, false)
	j.partial = j.partial[:0]
	s.flushJoiner(j, now)
}

// FlushIdle emits pending records that waited longer than the multiline
// flush timeout. It returns the earliest time a later call could flush
// something (zero when nothing is pending).
func (s *Stream) FlushIdle(now time.Time) time.Time {
	defer s.PublishStats()
	var next time.Time
	timeout := s.eng.cfg.Multiline.FlushTimeout
	for _, j := range s.joiners {
		if len(j.partial) > 0 {
			if due := j.partialLast.Add(timeout); !now.Before(due) {
				s.flushPartial(j, now)
			} else if next.IsZero() || due.Before(next) {
				next = due
			}
		}
		if !j.has {
			continue
		}
		if due := j.last.Add(timeout); !now.Before(due) {
			s.flushJoiner(j, now)
		} else if next.IsZero() || due.Before(next) {
			next = due
		}
	}
	return next
}
