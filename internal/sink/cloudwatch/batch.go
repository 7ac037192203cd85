package cloudwatch

import (
	"bytes"
	"cmp"
	"slices"
	"strconv"
	"unicode/utf8"
	"unsafe"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/starmates/logshipd/internal/event"
	"github.com/starmates/logshipd/internal/sink"
)

// call is one PutLogEvents request of a plan.
type call struct {
	ss    *streamState
	in    cloudwatchlogs.PutLogEventsInput
	items []int // batch item index of each event, in event order
	sizes []int // message bytes + EventOverhead of each event
	bytes int
	done  bool // accepted (or refused for good) by an earlier Send
}

// plan is how one batch is delivered: the calls, which ones are done (a
// retried Send of the same batch re-sends only the others) and the
// records refused for good so far.
type plan struct {
	calls    []*call
	refused  []sink.ItemError
	accepted int   // events CloudWatch took
	permErr  error // last call-level permanent error
}

type bucket struct {
	ss  *streamState
	idx []int
}

// buildPlan groups b's items by (log group, log stream), sorts each group
// by timestamp (stable) and cuts it into calls obeying the size, count
// and 24 h span rules. Messages are the records' canonical JSON; ones over
// the event cap are truncated with a marker.
func (s *Sink) buildPlan(b *event.Batch) *plan {
	p := &plan{}
	ts := make([]int64, len(b.Items))
	keys := map[string]int{}
	var buckets []bucket
	var key, scratch []byte
	for i := range b.Items {
		it := &b.Items[i]
		ts[i] = it.Time.UnixMilli()
		in := nameInput{it: it, host: s.host}
		if s.needOrigin {
			in.origin = readOrigin(b.JSON(i))
		}
		st := s.streamT
		if s.fireLensT != nil && in.origin.forward {
			st = s.fireLensT
		}
		scratch = s.groupT.render(scratch[:0], &in)
		key = appendGroup(key[:0], scratch)
		gl := len(key)
		key = append(key, 0)
		scratch = st.render(scratch[:0], &in)
		key = appendStream(key, scratch)
		k, ok := keys[string(key)]
		if !ok {
			k = len(buckets)
			keys[string(key)] = k
			buckets = append(buckets, bucket{ss: s.stream(string(key[:gl]), string(key[gl+1:]))})
		}
		buckets[k].idx = append(buckets[k].idx, i)
	}

	evCap := s.cfg.eventCap()
	for _, bk := range buckets {
		slices.SortStableFunc(bk.idx, func(a, c int) int { return cmp.Compare(ts[a], ts[c]) })
		// Backing arrays for the SDK's pointer fields: one allocation each
		// per bucket instead of two per event.
		msgs := make([]string, len(bk.idx))
		stamps := make([]int64, len(bk.idx))
		var cur *call
		var first int64
		for k, i := range bk.idx {
			msg, removed := message(b.JSON(i), evCap)
			if msg == "" {
				p.refused = append(p.refused, sink.ItemError{Index: i, Reason: ReasonRefused, Detail: "empty record: CloudWatch needs a message of at least 1 byte"})
				s.stats.RejectedRefused.Add(1)
				continue
			}
			if removed > 0 {
				s.stats.TruncatedEvents.Add(1)
				s.stats.TruncatedBytes.Add(int64(removed))
			}
			msgs[k], stamps[k] = msg, ts[i]
			size := len(msg) + EventOverhead
			if cur == nil || len(cur.items) >= s.cfg.MaxBatchEvents || cur.bytes+size > s.cfg.MaxBatchBytes ||
				ts[i]-first > MaxSpan.Milliseconds() {
				cur = &call{ss: bk.ss}
				cur.in.LogGroupName = &bk.ss.group
				cur.in.LogStreamName = &bk.ss.name
				first = ts[i]
				p.calls = append(p.calls, cur)
			}
			cur.in.LogEvents = append(cur.in.LogEvents, types.InputLogEvent{Message: &msgs[k], Timestamp: &stamps[k]})
			cur.items = append(cur.items, i)
			cur.sizes = append(cur.sizes, size)
			cur.bytes += size
		}
	}
	return p
}

// message returns rec as a CloudWatch message of at most evCap bytes and
// the number of bytes truncation removed. A record within the cap and
// valid UTF-8 is not copied: the string aliases the batch buffer, which is
// immutable and outlives the plan (batches are shared read-only).
//
// A longer record is cut at a UTF-8 character boundary and gets the marker
// " [truncated N bytes]" (N: bytes removed); the result is no longer valid
// JSON. The normalizer already caps records at its own max_event_bytes, so
// this only happens when the two settings differ.
func message(rec []byte, evCap int) (string, int) {
	if !utf8.Valid(rec) {
		rec = bytes.ToValidUTF8(rec, []byte("\uFFFD"))
	} else if len(rec) <= evCap {
		if len(rec) == 0 {
			return "", 0
		}
		return unsafe.String(unsafe.SliceData(rec), len(rec)), 0
	}
	if len(rec) <= evCap {
		return string(rec), 0
	}
	// The marker's length depends on the number it carries: keep the most
	// bytes for which content + marker fit.
	keep := 0
	for d := len(strconv.Itoa(len(rec))); d >= 1; d-- {
		k := evCap - (len(markerPrefix) + d + len(markerSuffix))
		for k > 0 && !utf8.RuneStart(rec[k]) {
			k--
		}
		if k > keep && k+markerLen(len(rec)-k) <= evCap {
			keep = k
		}
	}
	removed := len(rec) - keep
	out := make([]byte, 0, keep+markerLen(removed))
	out = append(out, rec[:keep]...)
	out = appendMarker(out, removed)
	return string(out), removed
}

const markerPrefix, markerSuffix = " [truncated ", " bytes]"

func markerLen(n int) int {
	return len(markerPrefix) + len(strconv.Itoa(n)) + len(markerSuffix)
}

func appendMarker(dst []byte, n int) []byte {
	dst = append(dst, markerPrefix...)
	dst = strconv.AppendInt(dst, int64(n), 10)
	return append(dst, markerSuffix...)
}

// rejectedItems maps rejectedLogEventsInfo of c back to batch items.
// Indices are into the submitted events: events [0, tooOldEnd) were too
// old, [tooOldEnd, expiredEnd) older than the retention (expired), and
// [tooNewStart, n) too new. The ranges are clamped to the call.
// It also returns the batch bytes of the rejected events.
func rejectedItems(c *call, info *types.RejectedLogEventsInfo) ([]sink.ItemError, int) {
	if info == nil {
		return nil, 0
	}
	n := len(c.items)
	clamp := func(p *int32, def int) int {
		if p == nil {
			return def
		}
		return min(max(int(*p), 0), n)
	}
	oldEnd := clamp(info.TooOldLogEventEndIndex, 0)
	expEnd := clamp(info.ExpiredLogEventEndIndex, 0)
	newStart := clamp(info.TooNewLogEventStartIndex, n)
	var out []sink.ItemError
	size := 0
	for k := range n {
		var reason, detail string
		switch {
		case k < oldEnd:
			reason, detail = ReasonTooOld, "CloudWatch rejected the event: more than 14 days old (rejectedLogEventsInfo.tooOldLogEventEndIndex)"
		case k < expEnd:
			reason, detail = ReasonExpired, "CloudWatch rejected the event: older than the log group's retention (rejectedLogEventsInfo.expiredLogEventEndIndex)"
		case k >= newStart:
			reason, detail = ReasonTooNew, "CloudWatch rejected the event: more than 2 hours in the future (rejectedLogEventsInfo.tooNewLogEventStartIndex)"
		default:
			continue
		}
		out = append(out, sink.ItemError{Index: c.items[k], Reason: reason, Detail: detail})
		size += c.sizes[k]
	}
	return out, size
}
