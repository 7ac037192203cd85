package loki

import (
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/grafana/loki/pkg/push"
	"github.com/tidwall/gjson"

	"github.com/starmates/logshipd/internal/event"
)

// field is where a label or metadata value comes from.
type field uint8

const (
	fService field = iota
	fEnvironment
	fProject
	fLevel
	fSource
	fStream
	fTrackingID
	fTraceID
	fSpanID
	fPath // a gjson path into the record
)

var fieldByName = map[string]field{
	"service": fService, "environment": fEnvironment, "project": fProject, "level": fLevel,
	"source": fSource, "stream": fStream, "tracking_id": fTrackingID, "trace_id": fTraceID, "span_id": fSpanID,
	"tracing.trace_id": fTraceID, "tracing.span_id": fSpanID,
}

// labelSlot is one stream label, in name order.
type labelSlot struct {
	name   string
	from   field
	static string // value of a static label (from unused)
}

type metaSpec struct {
	name string
	from field
	path string // gjson path (fPath only)
}

func itemString(it *event.Item, f field) string {
	switch f {
	case fService:
		return it.Service
	case fEnvironment:
		return it.Environment
	case fProject:
		return it.Project
	case fLevel:
		return it.Level.String()
	case fSource:
		return it.Source
	case fStream:
		return it.Stream
	case fTrackingID:
		return it.TrackingID
	}
	return ""
}

// compileLabels returns the label slots sorted by name (Loki's canonical
// order), static labels included.
func compileLabels(cfg *Config) []labelSlot {
	var out []labelSlot
	for _, spec := range cfg.Labels {
		name, src := splitSpec(spec)
		out = append(out, labelSlot{name: name, from: fieldByName[src]})
	}
	for name, v := range cfg.StaticLabels {
		out = append(out, labelSlot{name: name, static: v})
	}
	slices.SortFunc(out, func(a, b labelSlot) int { return strings.Compare(a.name, b.name) })
	return out
}

func compileMeta(cfg *Config) []metaSpec {
	var out []metaSpec
	for _, spec := range cfg.StructuredMetadata {
		name, src := splitSpec(spec)
		f, ok := fieldByName[src]
		if !ok {
			f = fPath
		}
		out = append(out, metaSpec{name: name, from: f, path: escapePath(src)})
	}
	return out
}

// escapePath escapes the characters gjson gives a meaning to (except the
// dot that separates levels), so "@timestamp" is a key, not a modifier.
func escapePath(p string) string {
	if !strings.ContainsAny(p, `@*?|#\!=<>%`) {
		return p
	}
	var sb strings.Builder
	for _, r := range p {
		if strings.ContainsRune(`@*?|#\!=<>%`, r) {
			sb.WriteByte('\\')
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

// appendLabels appends the Loki label string of it ({a="x", b="y"}, names
// sorted, values Go-quoted: the form Loki prints in its errors). Empty
// values are left out; a stream with no label at all gets its first label
// set to "unknown", as Loki refuses label-less streams.
func appendLabels(dst []byte, slots []labelSlot, it *event.Item) []byte {
	dst = append(dst, '{')
	n := 0
	for i := range slots {
		v := slots[i].static
		if v == "" {
			v = itemString(it, slots[i].from)
		}
		if v == "" {
			continue
		}
		if n > 0 {
			dst = append(dst, ", "...)
		}
		dst = append(dst, slots[i].name...)
		dst = append(dst, '=')
		dst = strconv.AppendQuote(dst, v)
		n++
	}
	if n == 0 && len(slots) > 0 {
		dst = append(dst, slots[0].name...)
		dst = append(dst, `="unknown"`...)
	}
	return append(dst, '}')
}

// plan is one batch cut into pushes. It is kept across retries of the same
// batch so that pushes already acknowledged are not sent again.
type plan struct {
	b       *event.Batch
	pushes  []*pushPlan
	done    int              // pushes finished (acknowledged or refused for good)
	refused []refusedEntries // entries refused so far
}

type refusedEntries struct {
	items  []int
	reason string
	detail string
	status int
	whole  bool // the whole push, not attributed to entries
}

// pushPlan is one push request and, for each of its entries, the batch item
// it came from.
type pushPlan struct {
	req     push.PushRequest
	items   [][]int // per stream, parallel to req.Streams[i].Entries
	bytes   int     // encoded (uncompressed) size
	entries int
	lines   int // line bytes
}

// buildPlan groups the batch into streams, sorts each stream by time
// (stable), truncates long lines and cuts pushes of at most MaxPushBytes.
func (s *Sink) buildPlan(b *event.Batch) *plan {
	type stream struct {
		labels string
		items  []int
	}
	var streams []*stream
	byLabels := make(map[string]*stream)
	for i := range b.Items {
		s.scratch = appendLabels(s.scratch[:0], s.labels, &b.Items[i])
		st := byLabels[string(s.scratch)]
		if st == nil {
			st = &stream{labels: string(s.scratch)}
			byLabels[st.labels] = st
			streams = append(streams, st)
		}
		st.items = append(st.items, i)
	}

	nm := len(s.meta)
	metaArena := make([]push.LabelAdapter, 0, len(b.Items)*nm)
	var strArena []byte
	if s.needHex {
		strArena = make([]byte, 0, len(b.Items)*48)
	}
	arenaString := func(start int) string {
		return unsafe.String(&strArena[start], len(strArena)-start)
	}

	p := &plan{b: b}
	var cur *pushPlan
	curStream := -1
	newPush := func() {
		cur = &pushPlan{}
		p.pushes = append(p.pushes, cur)
		curStream = -1
	}
	newPush()
	for _, st := range streams {
		slices.SortStableFunc(st.items, func(x, y int) int { return b.Items[x].Time.Compare(b.Items[y].Time) })
		streamHdr := len(st.labels) + 2*protoFrame
		inPush := false
		for _, i := range st.items {
			it := &b.Items[i]
			raw := b.JSON(i)
			line := bytesString(raw)
			if len(raw) > s.cfg.MaxLineBytes {
				t, removed := truncateLine(raw, s.cfg.MaxLineBytes)
				line = string(t)
				s.stats.Truncated.Add(1)
				s.stats.TruncatedRem.Add(int64(removed))
			}
			start := len(metaArena)
			for _, m := range s.meta {
				var v string
				switch m.from {
				case fTraceID:
					if it.HasTrace {
						off := len(strArena)
						strArena = hex.AppendEncode(strArena, it.TraceID[:])
						v = arenaString(off)
					}
				case fSpanID:
					if it.HasSpan {
						off := len(strArena)
						strArena = hex.AppendEncode(strArena, it.SpanID[:])
						v = arenaString(off)
					}
				case fPath:
					r := gjson.GetBytes(raw, m.path)
					if r.Type == gjson.String {
						v = r.Str
					} else if r.Exists() && r.Type != gjson.Null {
						v = r.Raw
					}
				default:
					v = itemString(it, m.from)
				}
				if v != "" {
					metaArena = append(metaArena, push.LabelAdapter{Name: m.name, Value: v})
				}
			}
			e := push.Entry{Timestamp: it.Time, Line: line}
			if len(metaArena) > start {
				e.StructuredMetadata = metaArena[start:len(metaArena):len(metaArena)]
			}
			size := e.Size() + protoFrame
			need := size
			if !inPush {
				need += streamHdr
			}
			if cur.entries > 0 && cur.bytes+need > s.cfg.MaxPushBytes {
				newPush()
				inPush = false
				need = size + streamHdr
			}
			if !inPush {
				cur.req.Streams = append(cur.req.Streams, push.Stream{Labels: st.labels})
				cur.items = append(cur.items, nil)
				curStream = len(cur.req.Streams) - 1
				inPush = true
			}
			ps := &cur.req.Streams[curStream]
			ps.Entries = append(ps.Entries, e)
			cur.items[curStream] = append(cur.items[curStream], i)
			cur.bytes += need
			cur.entries++
			cur.lines += len(line)
		}
	}
	if cur.entries == 0 {
		p.pushes = p.pushes[:len(p.pushes)-1]
	}
	return p
}

// protoFrame bounds a field's tag and length prefix.
const protoFrame = 6

func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
