package forward

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/klauspost/compress/zstd"
)

// Mode is the Forward protocol mode of a frame.
type Mode uint8

// The Forward protocol modes (spec v1), detected from a frame's shape.
const (
	ModeMessage    Mode = iota // [tag, time, record, option?]
	ModeForward                // [tag, [[time, record], ...], option?]
	ModePacked                 // [tag, bin|str of concatenated [time, record], option?]
	ModeCompressed             // PackedForward with option compressed: gzip|zstd
	numModes
)

func (m Mode) String() string {
	switch m {
	case ModeMessage:
		return "message"
	case ModeForward:
		return "forward"
	case ModePacked:
		return "packed_forward"
	case ModeCompressed:
		return "compressed_packed_forward"
	}
	return "unknown"
}

var (
	errKey       = errors.New("map key is not a scalar")
	errOversize  = errors.New("frame exceeds max_message_bytes")
	errNotFrame  = errors.New("frame is not an array of 2 to 4 elements")
	errJSONFrame = errors.New("JSON-encoded requests are not supported (fluent-logger MarshalAsJSON)")
)

// frameError is a malformed frame: what was wrong, for the log.
type frameError struct {
	what string
	err  error
}

func (e *frameError) Error() string {
	if e.err == nil {
		return e.what
	}
	return e.what + ": " + e.err.Error()
}

func (e *frameError) Unwrap() error { return e.err }

func malformed(what string, err error) error { return &frameError{what: what, err: err} }

// Keys the normalizer reads as a record time (normalize/parse setKey).
// A record with any of them keeps its own time; otherwise the event time
// is added as "time". Container envelopes (FireLens, Docker fluentd
// driver) only count "time", which is the one container.go reads.
var timeKeys = [...]string{"time", "ts", "timestamp", "@timestamp", "asctime", "datetime", "t", "date",
	"eventTime", "event_time", "logtime", "timeMillis", "timestamp_ms", "created"}

// isTimeAlias reports whether key is one of timeKeys other than "time".
func isTimeAlias(key []byte) bool {
	switch string(key) {
	case "ts", "timestamp", "@timestamp", "asctime", "datetime", "t", "date",
		"eventTime", "event_time", "logtime", "timeMillis", "timestamp_ms", "created":
		return true
	}
	return false
}

// decoder turns one complete frame into JSON lines. One per connection;
// not safe for concurrent use. Everything it returns is valid until the
// next decode.
type decoder struct {
	max  int
	meta *ecsMeta // ECS metadata to add (nil: none)
	zstd *zstd.Decoder

	mode      Mode
	keepalive bool   // the frame was nil (keep-alive): no tag, no lines
	tag       []byte // points into the frame
	chunk     []byte // raw msgpack of option.chunk, points into the frame (nil: no ack wanted)
	out       []byte // JSON lines back to back
	ends      []int  // end of line k in out
	tagJSON   []byte // ,"fluent_tag":"..."
	plain     []byte // decompressed entries
	gz        *gzip.Reader
	br        bytes.Reader
}

// shrink drops buffers a large frame left behind.
func (d *decoder) shrink() {
	const keep = 4 << 20
	if cap(d.out) > keep {
		d.out = nil
	}
	if cap(d.plain) > keep {
		d.plain = nil
	}
	if cap(d.ends) > keep/8 {
		d.ends = nil
	}
}

// lines returns the number of decoded records.
func (d *decoder) lines() int { return len(d.ends) }

// line returns record k's JSON.
func (d *decoder) line(k int) []byte {
	start := 0
	if k > 0 {
		start = d.ends[k-1]
	}
	return d.out[start:d.ends[k]]
}

// decode decodes one frame. A nil frame (the keep-alive) gives zero lines
// and no chunk. A malformed frame returns a *frameError and no lines: a
// frame is accepted whole or not at all.
func (d *decoder) decode(b []byte) error {
	d.out, d.ends, d.tag, d.chunk, d.keepalive = d.out[:0], d.ends[:0], nil, nil, false
	if err := d.frame(b); err != nil {
		d.out, d.ends, d.chunk = d.out[:0], d.ends[:0], nil
		return err
	}
	return nil
}

func (d *decoder) frame(b []byte) error {
	var v mval
	i, err := head(b, 0, &v)
	if err != nil {
		return malformed("frame", err)
	}
	switch {
	case v.kind == mkNil && i == len(b):
		d.keepalive = true
		return nil
	case v.kind != mkArray || v.n < 2 || v.n > 4:
		if b[0] == '[' || b[0] == '{' {
			return malformed("frame", errJSONFrame)
		}
		return malformed("frame", errNotFrame)
	}
	n := v.n
	// tag
	if i, err = head(b, i, &v); err != nil || (v.kind != mkStr && v.kind != mkBin) {
		return malformed("tag is not a string", err)
	}
	d.tag = v.raw
	d.tagJSON = append(d.tagJSON[:0], `,"fluent_tag":`...)
	d.tagJSON = appendJSONString(d.tagJSON, d.tag)
	second := i
	if _, err = head(b, second, &v); err != nil {
		return malformed("frame", err)
	}
	switch v.kind {
	case mkArray:
		if d.isEntries(b, second) {
			if n > 3 {
				return malformed("forward mode frame has more than 3 elements", nil)
			}
			return d.forward(b, second, n)
		}
		return d.message(b, second, n)
	case mkInt, mkUint, mkFloat, mkExt:
		return d.message(b, second, n)
	case mkStr, mkBin:
		if n > 3 {
			return malformed("packed forward frame has more than 3 elements", nil)
		}
		return d.packed(b, second, n)
	}
	return malformed("second element is not a time, an array or a bin/str", nil)
}

// isEntries tells Forward mode ([[time, record], ...]) from a Message whose
// time is the v1.5 [EventTime, metadata] pair: entries hold arrays.
func (d *decoder) isEntries(b []byte, i int) bool {
	var v mval
	j, err := head(b, i, &v)
	if err != nil || v.n == 0 {
		return true // empty entries: Forward mode with nothing in it
	}
	_, err = head(b, j, &v)
	return err == nil && v.kind == mkArray
}

// option reads the option map at b[i] when present (the frame has the
// element count that includes it); otherwise b must end at i.
func (d *decoder) option(b []byte, i int, present bool) (compressed string, err error) {
	if !present {
		if i != len(b) {
			return "", malformed("trailing bytes after the last element", nil)
		}
		return "", nil
	}
	var v mval
	j, err := head(b, i, &v)
	if err != nil {
		return "", malformed("option", err)
	}
	if v.kind == mkNil {
		if j != len(b) {
			return "", malformed("trailing bytes after option", nil)
		}
		return "", nil
	}
	if v.kind != mkMap {
		return "", malformed("option is not a map", nil)
	}
	for k := int64(0); k < v.n; k++ {
		var key mval
		if _, err = head(b, j, &key); err != nil {
			return "", malformed("option", err)
		}
		if j, err = skip(b, j); err != nil { // the key may be a container
			return "", malformed("option", err)
		}
		valStart := j
		var val mval
		if _, err = head(b, j, &val); err != nil {
			return "", malformed("option", err)
		}
		if j, err = skip(b, j); err != nil {
			return "", malformed("option", err)
		}
		if key.kind != mkStr && key.kind != mkBin {
			continue
		}
		switch string(key.raw) {
		case "chunk":
			if val.kind != mkNil {
				d.chunk = b[valStart:j]
			}
		case "compressed":
			if val.kind == mkStr || val.kind == mkBin {
				compressed = string(val.raw)
			}
		}
	}
	if j != len(b) {
		return "", malformed("trailing bytes after option", nil)
	}
	return compressed, nil
}

// message decodes [tag, time, record, option?] from the time at b[i].
func (d *decoder) message(b []byte, i int, n int64) error {
	if n < 3 {
		return malformed("message mode frame has fewer than 3 elements", nil)
	}
	d.mode = ModeMessage
	t, j, err := readTime(b, i)
	if err != nil {
		return err
	}
	recStart := j
	if j, err = skip(b, j); err != nil {
		return malformed("record", err)
	}
	if _, err := d.option(b, j, n == 4); err != nil {
		return err
	}
	return d.record(b, recStart, t)
}

// forward decodes [tag, [[time, record], ...], option?].
func (d *decoder) forward(b []byte, i int, n int64) error {
	d.mode = ModeForward
	end, err := skip(b, i)
	if err != nil {
		return malformed("entries", err)
	}
	if _, err := d.option(b, end, n == 3); err != nil {
		return err
	}
	var v mval
	j, _ := head(b, i, &v) // checked by skip
	for k := int64(0); k < v.n; k++ {
		if j, err = d.entry(b[:end], j); err != nil {
			return err
		}
	}
	return nil
}

// packed decodes PackedForward and CompressedPackedForward.
func (d *decoder) packed(b []byte, i int, n int64) error {
	var v mval
	j, _ := head(b, i, &v) // checked by decode
	compressed, err := d.option(b, j, n == 3)
	if err != nil {
		return err
	}
	entries := v.raw
	d.mode = ModePacked
	switch compressed {
	case "", "text": // fluentd writes compressed: text for uncompressed chunks
	case "gzip":
		d.mode = ModeCompressed
		if entries, err = d.gunzip(entries); err != nil {
			return err
		}
	case "zstd":
		d.mode = ModeCompressed
		if entries, err = d.unzstd(entries); err != nil {
			return err
		}
	default:
		return malformed(fmt.Sprintf("unsupported compression %q", compressed), nil)
	}
	for k := 0; k < len(entries); {
		if k, err = d.entry(entries, k); err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) gunzip(b []byte) ([]byte, error) {
	d.br.Reset(b)
	var err error
	if d.gz == nil {
		d.gz, err = gzip.NewReader(&d.br)
	} else {
		err = d.gz.Reset(&d.br)
	}
	if err != nil {
		return nil, malformed("gzip", err)
	}
	// Concatenated members are read as one stream (multistream is on).
	buf := bytes.NewBuffer(d.plain[:0])
	n, err := io.Copy(buf, io.LimitReader(d.gz, int64(d.max)+1))
	d.plain = buf.Bytes()
	if err != nil {
		return nil, malformed("gzip", err)
	}
	if n > int64(d.max) {
		return nil, errOversize
	}
	return d.plain, nil
}

func (d *decoder) unzstd(b []byte) ([]byte, error) {
	if d.zstd == nil {
		return nil, malformed("zstd", errors.New("decoder unavailable"))
	}
	out, err := d.zstd.DecodeAll(b, d.plain[:0])
	if errors.Is(err, zstd.ErrDecoderSizeExceeded) {
		return nil, errOversize
	}
	if err != nil {
		return nil, malformed("zstd", err)
	}
	if len(out) > d.max {
		return nil, errOversize
	}
	d.plain = out
	return out, nil
}

// entry decodes one [time, record] at b[i] and returns the index after it.
func (d *decoder) entry(b []byte, i int) (int, error) {
	var v mval
	j, err := head(b, i, &v)
	if err != nil {
		return j, malformed("entry", err)
	}
	if v.kind != mkArray || v.n != 2 {
		return j, malformed("entry is not a [time, record] pair", nil)
	}
	t, j, err := readTime(b, j)
	if err != nil {
		return j, err
	}
	recStart := j
	if j, err = skip(b, j); err != nil {
		return j, malformed("record", err)
	}
	return j, d.record(b[:j], recStart, t)
}

// readTime reads an event time: integer seconds, float seconds, EventTime
// (ext 0) or the v1.5 [time, metadata] pair.
func readTime(b []byte, i int) (time.Time, int, error) {
	var v mval
	j, err := head(b, i, &v)
	if err != nil {
		return time.Time{}, j, malformed("time", err)
	}
	if v.kind == mkArray {
		if v.n < 1 {
			return time.Time{}, j, malformed("time is an empty array", nil)
		}
		t, k, err := scalarTime(b, j) // one level only: no recursion on hostile nesting
		if err != nil {
			return t, k, err
		}
		for m := int64(1); m < v.n; m++ {
			if k, err = skip(b, k); err != nil {
				return t, k, malformed("time metadata", err)
			}
		}
		return t, k, nil
	}
	return toTime(&v, j)
}

// scalarTime reads a time that is not an array.
func scalarTime(b []byte, i int) (time.Time, int, error) {
	var v mval
	j, err := head(b, i, &v)
	if err != nil {
		return time.Time{}, j, malformed("time", err)
	}
	return toTime(&v, j)
}

func toTime(v *mval, j int) (time.Time, int, error) {
	switch v.kind {
	case mkInt:
		return time.Unix(v.i, 0), j, nil
	case mkFloat:
		if math.IsNaN(v.f) || math.IsInf(v.f, 0) || math.Abs(v.f) > 1<<40 {
			return time.Time{}, j, malformed("time is not a finite number", nil)
		}
		sec, frac := math.Modf(v.f)
		return time.Unix(int64(sec), int64(frac*1e9)), j, nil
	case mkExt:
		if t, ok := extTime(v.ext, v.raw); ok {
			return t, j, nil
		}
		return time.Time{}, j, malformed(fmt.Sprintf("time: extension type %d of %d bytes", v.ext, len(v.raw)), nil)
	}
	return time.Time{}, j, malformed("time is not an integer or EventTime", nil)
}

// record appends the record map at b[i] as one JSON line.
func (d *decoder) record(b []byte, i int, t time.Time) error {
	var v mval
	j, err := head(b, i, &v)
	if err != nil {
		return malformed("record", err)
	}
	if v.kind != mkMap {
		return malformed("record is not a map", nil)
	}
	start := len(d.out)
	d.out = append(d.out, '{')
	var (
		hasTime, hasAlias, hasLog, hasEnv, hasName bool
		hasCluster, hasARN, hasDef, hasAZ          bool
		key                                        []byte
	)
	for k := int64(0); k < v.n; k++ {
		if k > 0 {
			d.out = append(d.out, ',')
		}
		if d.out, j, key, err = appendKey(d.out, b, j); err != nil {
			d.out = d.out[:start]
			return malformed("record key", err)
		}
		d.out = append(d.out, ':')
		valStart := j
		if d.out, j, err = appendValue(d.out, b, j, 1); err != nil {
			d.out = d.out[:start]
			return malformed("record value", err)
		}
		switch string(key) {
		case "time":
			hasTime = true
		case "log":
			hasLog = b[valStart] >= 0xa0 && b[valStart] <= 0xbf || b[valStart] >= 0xd9 && b[valStart] <= 0xdb ||
				b[valStart] >= 0xc4 && b[valStart] <= 0xc6
		case "source", "stream", "container_id":
			hasEnv = true
		case "container_name":
			hasEnv, hasName = true, true
		case "ecs_cluster":
			hasCluster = true
		case "ecs_task_arn":
			hasARN = true
		case "ecs_task_definition":
			hasDef = true
		case "ecs_availability_zone":
			hasAZ = true
		default:
			hasAlias = hasAlias || isTimeAlias(key)
		}
	}
	envelope := hasLog && hasEnv
	if !hasTime && (envelope || !hasAlias) {
		if v.n > 0 {
			d.out = append(d.out, ',')
		}
		d.out = append(d.out, `"time":`...)
		d.out = appendTime(d.out, t)
	}
	if !hasName {
		d.out = d.appendExtra(d.out, d.tagJSON)
	}
	if m := d.meta; m != nil {
		if !hasCluster {
			d.out = d.appendExtra(d.out, m.cluster)
		}
		if !hasARN {
			d.out = d.appendExtra(d.out, m.taskARN)
		}
		if !hasDef {
			d.out = d.appendExtra(d.out, m.taskDef)
		}
		if !hasAZ {
			d.out = d.appendExtra(d.out, m.az)
		}
	}
	d.out = append(d.out, '}')
	d.ends = append(d.ends, len(d.out))
	return nil
}

// appendExtra appends a `,"key":value` fragment, dropping its comma when
// the object is still empty.
func (d *decoder) appendExtra(dst, frag []byte) []byte {
	if len(frag) == 0 {
		return dst
	}
	if dst[len(dst)-1] == '{' {
		return append(dst, frag[1:]...)
	}
	return append(dst, frag...)
}
