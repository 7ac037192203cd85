package metrics

import (
	"encoding/hex"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
)

// overflowValue replaces the variable labels of a sample whose metric has
// reached its series cap.
const overflowValue = "other"

// maxLabelValueBytes bounds one label value (cut on a rune boundary).
const maxLabelValueBytes = 128

// commonLabels start every derived metric's label list.
var commonLabels = []string{"environment", "project", "service"}

type familyKind uint8

const (
	kindCounter familyKind = iota
	kindHistogram
)

// family is one derived metric: a bounded map of series. Not safe for
// concurrent use: the Deriver's mutex guards every family.
type family struct {
	name      string
	kind      familyKind
	desc      *prometheus.Desc
	buckets   []float64
	exemplars bool

	maxSeries   int // regular label sets
	maxOverflow int // overflow label sets that keep the common labels
	series      map[string]*series
	regular     int
	overflowN   int

	overflows uint64 // samples folded into an overflow series
	expired   uint64 // series removed after the idle expiry
}

type series struct {
	values   []string
	overflow bool
	last     time.Time
	sum      float64  // counter value, or histogram sum
	count    uint64   // histogram count
	counts   []uint64 // histogram: per bucket, non-cumulative; last is +Inf
	ex       exemplar // counter: the latest
	bex      []exemplar
}

// exemplar is kept raw; labels are built at scrape time.
type exemplar struct {
	has      bool
	value    float64
	ts       time.Time
	hasTrace bool
	trace    [16]byte
	tracking string
}

// exemplarSrc is what one record offers as exemplar.
type exemplarSrc struct {
	hasTrace bool
	trace    [16]byte
	tracking string // "" when the record has no real tracking id
}

func (e *exemplarSrc) ok() bool { return e != nil && (e.hasTrace || e.tracking != "") }

func newFamily(name, help string, kind familyKind, labels []string, buckets []float64, exemplars bool, maxSeries int) *family {
	names := append(append([]string(nil), commonLabels...), labels...)
	f := &family{
		name:      name,
		kind:      kind,
		desc:      prometheus.NewDesc(name, help, names, nil),
		buckets:   buckets,
		exemplars: exemplars,
		series:    map[string]*series{},
	}
	// The cap counts Prometheus series: a histogram label set is one
	// series per bucket plus +Inf, _sum and _count.
	f.maxSeries = max(1, maxSeries/f.seriesPerSet())
	f.maxOverflow = max(10, f.maxSeries/10)
	return f
}

// seriesPerSet is the number of Prometheus series one label set exposes.
func (f *family) seriesPerSet() int {
	if f.kind == kindHistogram {
		return len(f.buckets) + 3
	}
	return 1
}

// get returns the series for vals (common labels first), creating it or
// folding it into an overflow series when the family is full. key is
// scratch space; it returns the (possibly grown) scratch.
func (f *family) get(vals []string, key []byte) (*series, []byte) {
	key = appendKey(key[:0], vals)
	if s, ok := f.series[string(key)]; ok {
		return s, key
	}
	if f.regular < f.maxSeries {
		s := f.create(key, false)
		f.regular++
		return s, key
	}
	// Over the cap: keep environment/project/service while the overflow
	// budget lasts, then fold everything into one series.
	f.overflows++
	key = key[:0]
	for i, v := range vals {
		if i < len(commonLabels) {
			key = appendLabel(key, v)
		} else {
			key = appendLabel(key, overflowValue)
		}
	}
	if s, ok := f.series[string(key)]; ok {
		return s, key
	}
	if f.overflowN >= f.maxOverflow {
		key = key[:0]
		for range vals {
			key = appendLabel(key, overflowValue)
		}
		if s, ok := f.series[string(key)]; ok {
			return s, key
		}
	}
	f.overflowN++
	return f.create(key, true), key
}

func (f *family) create(key []byte, overflow bool) *series {
	k := string(key)
	s := &series{overflow: overflow, values: splitKey(k)}
	if f.kind == kindHistogram {
		s.counts = make([]uint64, len(f.buckets)+1)
		if f.exemplars {
			s.bex = make([]exemplar, len(f.buckets)+1)
		}
	}
	f.series[k] = s
	return s
}

// add increases a counter.
func (f *family) add(vals []string, v float64, now time.Time, ex *exemplarSrc, key []byte) []byte {
	if !(v >= 0) || math.IsInf(v, 1) { // negative, NaN or +Inf: a counter cannot take it
		return key
	}
	s, key := f.get(vals, key)
	s.last = now
	s.sum += v
	if f.exemplars && ex.ok() {
		s.ex.set(v, now, ex)
	}
	return key
}

// observe adds a histogram observation.
func (f *family) observe(vals []string, v float64, now time.Time, ex *exemplarSrc, key []byte) []byte {
	if !(v >= 0) || math.IsInf(v, 0) {
		return key
	}
	s, key := f.get(vals, key)
	s.last = now
	s.sum += v
	s.count++
	i := len(f.buckets)
	for j, ub := range f.buckets {
		if v <= ub {
			i = j
			break
		}
	}
	s.counts[i]++
	if f.exemplars && ex.ok() {
		s.bex[i].set(v, now, ex)
	}
	return key
}

func (e *exemplar) set(v float64, now time.Time, src *exemplarSrc) {
	e.has = true
	e.value = v
	e.ts = now
	e.hasTrace = src.hasTrace
	e.trace = src.trace
	e.tracking = src.tracking
}

// labels returns the exemplar's labels within prometheus.ExemplarMaxRunes:
// trace_id and tracking_id (tracking_id is left out when it repeats the
// trace id or does not fit).
func (e *exemplar) labels() prometheus.Labels {
	l := prometheus.Labels{}
	runes := 0
	if e.hasTrace {
		id := hex.EncodeToString(e.trace[:])
		l["trace_id"] = id
		runes += len("trace_id") + len(id)
		if e.tracking == id {
			return l
		}
	}
	if e.tracking != "" {
		n := len("tracking_id") + utf8.RuneCountInString(e.tracking)
		if runes+n <= prometheus.ExemplarMaxRunes {
			l["tracking_id"] = e.tracking
		}
	}
	return l
}

// sweep removes series idle since before cutoff.
func (f *family) sweep(cutoff time.Time) {
	for k, s := range f.series {
		if s.last.Before(cutoff) {
			delete(f.series, k)
			f.expired++
			if s.overflow {
				f.overflowN--
			} else {
				f.regular--
			}
		}
	}
}

// collect emits every series.
func (f *family) collect(ch chan<- prometheus.Metric) {
	for _, s := range f.series {
		var m prometheus.Metric
		var err error
		var exs []prometheus.Exemplar
		switch f.kind {
		case kindCounter:
			m, err = prometheus.NewConstMetric(f.desc, prometheus.CounterValue, s.sum, s.values...)
			if err == nil && s.ex.has {
				exs = append(exs, s.ex.export())
			}
		case kindHistogram:
			cum := make(map[float64]uint64, len(f.buckets))
			var c uint64
			for i, ub := range f.buckets {
				c += s.counts[i]
				cum[ub] = c
			}
			m, err = prometheus.NewConstHistogram(f.desc, s.count, s.sum, cum, s.values...)
			for i := range s.bex {
				if err == nil && s.bex[i].has {
					exs = append(exs, s.bex[i].export())
				}
			}
		}
		if err != nil {
			ch <- prometheus.NewInvalidMetric(f.desc, err)
			continue
		}
		if len(exs) > 0 {
			if mx, xerr := prometheus.NewMetricWithExemplars(m, exs...); xerr == nil {
				m = mx
			}
		}
		ch <- m
	}
}

func (e *exemplar) export() prometheus.Exemplar {
	return prometheus.Exemplar{Value: e.value, Labels: e.labels(), Timestamp: e.ts}
}

// Keys join label values with 0xff, a byte that never occurs in UTF-8.
const keySep = 0xff

func appendKey(dst []byte, vals []string) []byte {
	for _, v := range vals {
		dst = appendLabel(dst, v)
	}
	return dst
}

func appendLabel(dst []byte, v string) []byte {
	if len(v) > maxLabelValueBytes {
		v = truncateUTF8(v, maxLabelValueBytes)
	}
	if !utf8.ValidString(v) {
		v = strings.ToValidUTF8(v, "\uFFFD")
	}
	dst = append(dst, v...)
	return append(dst, keySep)
}

func splitKey(k string) []string {
	out := make([]string, 0, strings.Count(k, "\xff"))
	for len(k) > 0 {
		i := strings.IndexByte(k, keySep)
		out = append(out, k[:i])
		k = k[i+1:]
	}
	return out
}

// truncateUTF8 cuts s to at most n bytes without splitting a rune.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
