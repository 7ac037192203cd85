package loki

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// A 400 from Loki lists what it refused in text (the formats of Loki 2.x
// and 3.x distributors and ingesters); valid entries of the same push were
// accepted. attribute turns that text into the entries refused, or reports
// that it cannot (then the whole push is treated as refused).
//
// Rules, each applied to every entry of the push:
//
//   - "entry with timestamp T ignored, reason: 'R'" (ingester): the entries
//     of that stream at T; when R names "oldest acceptable timestamp is: C"
//     also every entry of the stream before C (out_of_order).
//   - "has timestamp too old: T[, oldest acceptable timestamp is: C]":
//     every entry before C (else at or before T) (too_old).
//   - "has timestamp too new: T": every entry at or after T (too_new).
//   - "Max entry size 'L' bytes exceeded": every line longer than L
//     (line_too_long).
//   - invalid labels of stream S: every entry of S (invalid_labels).
//
// Counts ("N errors like: …", "total ignored: N out of M") must be covered
// by the entries found; any line that matches no rule, a stream that
// matches no pushed stream, or a count not covered, and attribute gives up.
// Thresholds printed to the second are widened by one second toward
// refusing: a few accepted entries may then be dead-lettered as well
// (a duplicate, never a loss).

const tsRE = `(\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?: [+-]\d{4}(?: [A-Za-z0-9+-]+)?|Z|[+-]\d{2}:\d{2})?)`

var (
	reCount    = regexp.MustCompile(`^(\d+) errors? like: (.*)$`)
	reIgnored  = regexp.MustCompile(`^entry with timestamp ` + tsRE + ` ignored, reason: '([^']*)'(?: for stream: (\{.*\}))?,?$`)
	reTotal    = regexp.MustCompile(`total ignored: (\d+) out of (\d+)(?: for stream: (\{.*\}))?`)
	reTooOld   = regexp.MustCompile(`entry for stream '(\{.*\})' has timestamp too old: ` + tsRE + `(?:, oldest acceptable timestamp is: ` + tsRE + `)?`)
	reTooNew   = regexp.MustCompile(`entry for stream '(\{.*\})' has timestamp too new: ` + tsRE)
	reTooLong  = regexp.MustCompile(`Max entry size '(\d+)' bytes exceeded for stream '(\{.*\})' while adding an entry with length '(\d+)' bytes`)
	reLabels   = regexp.MustCompile(`(?:Error parsing labels '(\{.*\})' with error|stream '(\{.*\})' has (?:label name too long|label value too long|duplicate label name)|entry for stream '(\{.*\})' has \d+ label names; limit)`)
	reCutoff   = regexp.MustCompile(`oldest acceptable timestamp is: ` + tsRE)
	tsLayouts  = []string{"2006-01-02 15:04:05.999999999 -0700 MST", "2006-01-02 15:04:05.999999999 -0700", time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00"}
	maxRetryAt = 10 * time.Minute
)

// parseTS parses a timestamp as Loki prints it; coarse reports that it has
// no fractional seconds (it may have been cut to the second).
func parseTS(s string) (t time.Time, coarse bool, ok bool) {
	for _, l := range tsLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, !strings.Contains(s, "."), true
		}
	}
	return time.Time{}, false, false
}

type pushEntry struct {
	stream  int
	ts      time.Time
	lineLen int
	item    int
}

// attribution is the result of attribute: a reason per entry of the push
// ("" = accepted), in push order.
type attribution struct {
	entries []pushEntry
	reason  []string
}

func flatten(pp *pushPlan) []pushEntry {
	out := make([]pushEntry, 0, pp.entries)
	for si := range pp.req.Streams {
		for ei := range pp.req.Streams[si].Entries {
			e := &pp.req.Streams[si].Entries[ei]
			out = append(out, pushEntry{stream: si, ts: e.Timestamp, lineLen: len(e.Line), item: pp.items[si][ei]})
		}
	}
	return out
}

// attribute maps a 400 body onto the entries of pp; ok is false when it
// cannot be done with confidence.
func attribute(pp *pushPlan, body string) (a attribution, ok bool) {
	a.entries = flatten(pp)
	a.reason = make([]string, len(a.entries))
	streams := make([]map[string]string, len(pp.req.Streams))
	for i := range pp.req.Streams {
		streams[i], _ = parseLabels(pp.req.Streams[i].Labels)
	}
	// findStream returns the pushed stream whose labels are all in the
	// printed set (Loki may add labels such as service_name), preferring
	// the one with the most labels.
	findStream := func(printed string) int {
		ls, ok := parseLabels(printed)
		if !ok {
			return -1
		}
		best, bestN := -1, -1
		for i, st := range streams {
			match := true
			for k, v := range st {
				if ls[k] != v {
					match = false
					break
				}
			}
			if match && len(st) > bestN {
				best, bestN = i, len(st)
			}
		}
		return best
	}
	mark := func(reason string, pred func(e *pushEntry) bool) int {
		n := 0
		for i := range a.entries {
			if pred(&a.entries[i]) {
				if a.reason[i] == "" {
					a.reason[i] = reason
				}
				n++
			}
		}
		return n
	}
	type check struct {
		stream int // -1: any
		want   int
	}
	var checks []check
	var pending []time.Time // ingester lines not yet tied to a stream
	var pendingCutoff []time.Time
	lastStream := -1

	applyIngester := func(stream int) {
		for i, t := range pending {
			mark(ReasonOutOfOrder, func(e *pushEntry) bool { return e.stream == stream && e.ts.Equal(t) })
			if c := pendingCutoff[i]; !c.IsZero() {
				mark(ReasonOutOfOrder, func(e *pushEntry) bool { return e.stream == stream && e.ts.Before(c) })
			}
		}
		pending, pendingCutoff = pending[:0], pendingCutoff[:0]
		lastStream = stream
	}

	for _, line := range strings.Split(strings.TrimSpace(body), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		want := 1
		if m := reCount.FindStringSubmatch(line); m != nil {
			want, _ = strconv.Atoi(m[1])
			line = m[2]
		}
		switch {
		case reIgnored.MatchString(line):
			m := reIgnored.FindStringSubmatch(line)
			t, _, tok := parseTS(m[1])
			if !tok {
				return a, false
			}
			var cutoff time.Time
			if c := reCutoff.FindStringSubmatch(m[2]); c != nil {
				ct, coarse, cok := parseTS(c[1])
				if cok {
					if coarse {
						ct = ct.Add(time.Second)
					}
					cutoff = ct
				}
			}
			pending = append(pending, t)
			pendingCutoff = append(pendingCutoff, cutoff)
			if m[3] != "" {
				si := findStream(m[3])
				if si < 0 {
					return a, false
				}
				applyIngester(si)
			}
		case reTotal.MatchString(line):
			m := reTotal.FindStringSubmatch(line)
			n, _ := strconv.Atoi(m[1])
			si := -1
			if m[3] != "" {
				if si = findStream(m[3]); si < 0 {
					return a, false
				}
			} else if len(pending) == 0 && lastStream >= 0 {
				si = lastStream // the old format names the stream on each entry line
			} else if len(streams) == 1 {
				si = 0
			} else {
				return a, false
			}
			applyIngester(si)
			checks = append(checks, check{si, n})
		case reTooOld.MatchString(line):
			m := reTooOld.FindStringSubmatch(line)
			if m[3] != "" {
				c, coarse, cok := parseTS(m[3])
				if !cok {
					return a, false
				}
				if coarse {
					c = c.Add(time.Second)
				}
				mark(ReasonTooOld, func(e *pushEntry) bool { return e.ts.Before(c) })
			} else {
				t, coarse, tok := parseTS(m[2])
				if !tok {
					return a, false
				}
				if coarse {
					t = t.Add(time.Second)
				}
				mark(ReasonTooOld, func(e *pushEntry) bool { return !e.ts.After(t) })
			}
			checks = append(checks, check{-1, want})
		case reTooNew.MatchString(line):
			m := reTooNew.FindStringSubmatch(line)
			t, _, tok := parseTS(m[2])
			if !tok {
				return a, false
			}
			t = t.Truncate(time.Second)
			mark(ReasonTooNew, func(e *pushEntry) bool { return !e.ts.Before(t) })
			checks = append(checks, check{-1, want})
		case reTooLong.MatchString(line):
			m := reTooLong.FindStringSubmatch(line)
			limit, err := strconv.Atoi(m[1])
			if err != nil {
				return a, false
			}
			mark(ReasonLineTooLong, func(e *pushEntry) bool { return e.lineLen > limit })
			checks = append(checks, check{-1, want})
		case reLabels.MatchString(line):
			m := reLabels.FindStringSubmatch(line)
			printed := m[1] + m[2] + m[3]
			si := findStream(printed)
			if si < 0 {
				return a, false
			}
			mark(ReasonInvalidLabels, func(e *pushEntry) bool { return e.stream == si })
		default:
			return a, false
		}
	}
	if len(pending) > 0 {
		if len(streams) != 1 {
			return a, false
		}
		applyIngester(0)
	}
	found := 0
	for _, r := range a.reason {
		if r != "" {
			found++
		}
	}
	if found == 0 {
		return a, false
	}
	for _, c := range checks {
		n := 0
		for i, r := range a.reason {
			if r != "" && (c.stream < 0 || a.entries[i].stream == c.stream) {
				n++
			}
		}
		if n < c.want {
			return a, false
		}
	}
	return a, true
}

// parseLabels parses a Loki/Prometheus label set {a="x", b="y"}.
func parseLabels(s string) (map[string]string, bool) {
	s = strings.TrimSpace(s)
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		return nil, false
	}
	s = strings.TrimSpace(s[1 : len(s)-1])
	out := map[string]string{}
	for s != "" {
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			return nil, false
		}
		name := strings.TrimSpace(s[:eq])
		s = strings.TrimSpace(s[eq+1:])
		q, err := strconv.QuotedPrefix(s)
		if err != nil {
			return nil, false
		}
		v, err := strconv.Unquote(q)
		if err != nil {
			return nil, false
		}
		out[name] = v
		s = strings.TrimSpace(s[len(q):])
		if s == "" {
			break
		}
		if s[0] != ',' {
			return nil, false
		}
		s = strings.TrimSpace(s[1:])
	}
	return out, true
}

// retryAfter parses a Retry-After header (seconds or an HTTP date), capped
// at 10 minutes; 0 when absent or unparsable.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseFloat(v, 64); err == nil {
		d = time.Duration(n * float64(time.Second))
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAt)
}

// summarize shortens a response body for error messages and dead letters.
func summarize(body []byte) string {
	s := strings.TrimSpace(string(body))
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 512 {
		cut := 512
		for cut > 0 && !utf8RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
