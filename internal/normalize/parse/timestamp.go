package parse

import (
	"time"
)

// Timestamp parsing helpers shared by all parsers. They work on []byte
// without allocating. Each returns ok=false when b is not exactly of the form.
//
// "local" results carry the wall clock in time.UTC and must be reinterpreted in
// the configured zone by the caller (set Fields.TimeLocal).

func digits(b []byte, n int) (int, bool) {
	if len(b) < n {
		return 0, false
	}
	v := 0
	for i := 0; i < n; i++ {
		c := b[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// validDate checks the ranges of a written date. Years outside 1970..2200
// are not log timestamps (and "0000-01-01T00:00:00+01:00" would land in
// year -1): such text is not taken as a time.
func validDate(y, mo, d, h, mi, s int) bool {
	return mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h <= 24 && mi <= 59 && s <= 60 && y >= minYear && y <= maxYear
}

// The years a written timestamp may carry.
const (
	minYear = 1970
	maxYear = 2200
)

// fraction parses ".123456789" or ",123" at b[0]; returns nanoseconds and bytes used.
func fraction(b []byte) (ns int, n int) {
	if len(b) < 2 || (b[0] != '.' && b[0] != ',') || b[1] < '0' || b[1] > '9' {
		return 0, 0
	}
	i := 1
	scale := 100000000
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		if scale > 0 {
			ns += int(b[i]-'0') * scale
			scale /= 10
		}
		i++
	}
	return ns, i
}

// zone parses "Z", "+hh:mm", "+hhmm", "+hh" or " UTC"/" GMT"/" +0000" style
// suffixes at b[0]. n is the number of bytes used; found=false means no zone.
func zone(b []byte) (offset int, n int, found bool) {
	if len(b) == 0 {
		return 0, 0, false
	}
	switch b[0] {
	case 'Z', 'z':
		return 0, 1, true
	case '+', '-':
		sign := 1
		if b[0] == '-' {
			sign = -1
		}
		h, ok := digits(b[1:], 2)
		if !ok {
			return 0, 0, false
		}
		m := 0
		n = 3
		if len(b) >= 6 && b[3] == ':' {
			if m, ok = digits(b[4:], 2); !ok {
				return 0, 0, false
			}
			n = 6
		} else if mm, ok := digits(b[3:], 2); ok {
			m, n = mm, 5
		}
		if h > 23 || m > 59 {
			return 0, 0, false
		}
		return sign * (h*3600 + m*60), n, true
	case ' ':
		if len(b) >= 4 && (string(b[1:4]) == "UTC" || string(b[1:4]) == "GMT") {
			return 0, 4, true
		}
	}
	return 0, 0, false
}

// ISO parses an ISO-8601 / RFC 3339 timestamp at the start of b:
// "2006-01-02T15:04:05", "2006-01-02 15:04:05", optional fraction with '.'
// or ',', optional zone. It returns the number of bytes consumed.
// local is true when no zone was present.
func ISO(b []byte) (t time.Time, n int, local bool, ok bool) {
	if len(b) < 19 || b[4] != '-' || b[7] != '-' || (b[10] != 'T' && b[10] != ' ' && b[10] != 't') || b[13] != ':' || b[16] != ':' {
		return t, 0, false, false
	}
	y, ok1 := digits(b, 4)
	mo, ok2 := digits(b[5:], 2)
	d, ok3 := digits(b[8:], 2)
	h, ok4 := digits(b[11:], 2)
	mi, ok5 := digits(b[14:], 2)
	s, ok6 := digits(b[17:], 2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || !validDate(y, mo, d, h, mi, s) {
		return t, 0, false, false
	}
	n = 19
	ns, fn := fraction(b[n:])
	n += fn
	off, zn, found := zone(b[n:])
	n += zn
	if !found {
		return time.Date(y, time.Month(mo), d, h, mi, s, ns, time.UTC), n, true, true
	}
	t = time.Date(y, time.Month(mo), d, h, mi, s, ns, time.UTC).Add(-time.Duration(off) * time.Second)
	return t, n, false, true
}

var monthNames = [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// Month parses a three-letter English month abbreviation.
func Month(b []byte) (time.Month, bool) {
	if len(b) < 3 {
		return 0, false
	}
	for i, m := range monthNames {
		if b[0] == m[0] && b[1] == m[1] && b[2] == m[2] {
			return time.Month(i + 1), true
		}
	}
	return 0, false
}

// CLF parses the Apache/nginx time "10/Oct/2000:13:55:36 -0700" (without the
// brackets). It returns the bytes consumed.
func CLF(b []byte) (t time.Time, n int, ok bool) {
	if len(b) < 20 || b[2] != '/' || b[6] != '/' || b[11] != ':' || b[14] != ':' || b[17] != ':' {
		return t, 0, false
	}
	d, ok1 := digits(b, 2)
	mo, ok2 := Month(b[3:])
	y, ok3 := digits(b[7:], 4)
	h, ok4 := digits(b[12:], 2)
	mi, ok5 := digits(b[15:], 2)
	s, ok6 := digits(b[18:], 2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || !validDate(y, int(mo), d, h, mi, s) {
		return t, 0, false
	}
	n = 20
	ns, fn := fraction(b[n:])
	n += fn
	off := 0
	if len(b) > n+5 && b[n] == ' ' {
		if o, zn, found := zone(b[n+1:]); found {
			off = o
			n += 1 + zn
		}
	}
	return time.Date(y, mo, d, h, mi, s, ns, time.UTC).Add(-time.Duration(off) * time.Second), n, true
}

// Slashed parses "2006/01/02 15:04:05" with an optional ".000000" fraction
// (Go log, nginx error log). The result is local (no zone in the text).
func Slashed(b []byte) (t time.Time, n int, ok bool) {
	if len(b) < 19 || b[4] != '/' || b[7] != '/' || b[10] != ' ' || b[13] != ':' || b[16] != ':' {
		return t, 0, false
	}
	y, ok1 := digits(b, 4)
	mo, ok2 := digits(b[5:], 2)
	d, ok3 := digits(b[8:], 2)
	h, ok4 := digits(b[11:], 2)
	mi, ok5 := digits(b[14:], 2)
	s, ok6 := digits(b[17:], 2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || !validDate(y, mo, d, h, mi, s) {
		return t, 0, false
	}
	ns, fn := fraction(b[19:])
	return time.Date(y, time.Month(mo), d, h, mi, s, ns, time.UTC), 19 + fn, true
}

// Syslog parses the RFC 3164 "Jan  2 15:04:05" (day space-padded or not) with
// an optional fraction. The year is 0: the caller sets TimeNoYear and TimeLocal.
func Syslog(b []byte) (t time.Time, n int, ok bool) {
	if len(b) < 15 || b[3] != ' ' {
		return t, 0, false
	}
	mo, ok := Month(b)
	if !ok {
		return t, 0, false
	}
	var d int
	switch {
	case b[4] == ' ':
		dd, ok := digits(b[5:], 1)
		if !ok {
			return t, 0, false
		}
		d = dd
	default:
		dd, ok := digits(b[4:], 2)
		if !ok {
			// single digit day without padding: "Jan 2 15:04:05"
			if d1, ok1 := digits(b[4:], 1); ok1 && b[5] == ' ' {
				rest, n2, ok2 := clock(b[6:])
				if !ok2 {
					return t, 0, false
				}
				return time.Date(0, mo, d1, 0, 0, 0, 0, time.UTC).Add(rest), 6 + n2, true
			}
			return t, 0, false
		}
		d = dd
	}
	if b[6] != ' ' {
		return t, 0, false
	}
	rest, n2, ok := clock(b[7:])
	if !ok || d < 1 || d > 31 {
		return t, 0, false
	}
	return time.Date(0, mo, d, 0, 0, 0, 0, time.UTC).Add(rest), 7 + n2, true
}

// clock parses "15:04:05[.frac]" into a duration since midnight.
func clock(b []byte) (time.Duration, int, bool) {
	if len(b) < 8 || b[2] != ':' || b[5] != ':' {
		return 0, 0, false
	}
	h, ok1 := digits(b, 2)
	mi, ok2 := digits(b[3:], 2)
	s, ok3 := digits(b[6:], 2)
	if !(ok1 && ok2 && ok3) || h > 23 || mi > 59 || s > 60 {
		return 0, 0, false
	}
	ns, fn := fraction(b[8:])
	return time.Duration(h)*time.Hour + time.Duration(mi)*time.Minute + time.Duration(s)*time.Second + time.Duration(ns), 8 + fn, true
}

// Clock is the exported form of clock for formats that carry a date elsewhere
// (klog "0102 15:04:05.000000").
func Clock(b []byte) (time.Duration, int, bool) { return clock(b) }

// Epoch interprets a JSON number literal as seconds, milliseconds,
// microseconds or nanoseconds since the Unix epoch, chosen by magnitude.
func Epoch(b []byte) (time.Time, bool) {
	if len(b) == 0 || len(b) > 40 {
		return time.Time{}, false
	}
	var intPart, frac int64
	fracDigits := 0
	i := 0
	if b[0] == '-' {
		return time.Time{}, false
	}
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		if intPart > (1<<62)/10 {
			return time.Time{}, false
		}
		intPart = intPart*10 + int64(b[i]-'0')
	}
	if i == 0 {
		return time.Time{}, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
			if fracDigits < 9 {
				frac = frac*10 + int64(b[i]-'0')
				fracDigits++
			}
		}
	}
	if i != len(b) {
		return time.Time{}, false
	}
	for fracDigits < 9 {
		frac *= 10
		fracDigits++
	}
	switch {
	case intPart < 1e11: // seconds (until year 5138)
		return time.Unix(intPart, frac).UTC(), true
	case intPart < 1e14: // milliseconds
		return time.Unix(0, intPart*1e6+frac/1e3).UTC(), true
	case intPart < 1e17: // microseconds
		return time.Unix(0, intPart*1e3+frac/1e6).UTC(), true
	default: // nanoseconds
		return time.Unix(0, intPart).UTC(), true
	}
}

// AnyTime parses a timestamp value found under a time key in structured
// input (JSON, logfmt): ISO/RFC 3339 (any offset or none), epoch numbers,
// CLF, "2006/01/02 15:04:05", Python asctime "2006-01-02 15:04:05,000" and
// TAI64N "@4000000037c219bf2ef02e94". The whole of b must be consumed.
func AnyTime(b []byte) (t time.Time, local bool, ok bool) {
	if len(b) == 0 {
		return t, false, false
	}
	if t, n, loc, ok := ISO(b); ok && n == len(b) {
		return t, loc, true
	}
	if b[0] >= '0' && b[0] <= '9' {
		if t, ok := Epoch(b); ok {
			return t, false, true
		}
		if t, n, ok := Slashed(b); ok && n == len(b) {
			return t, true, true
		}
		if t, n, ok := CLF(b); ok && n == len(b) {
			return t, false, true
		}
	}
	if b[0] == '@' {
		if t, ok := TAI64N(b); ok {
			return t, false, true
		}
	}
	return t, false, false
}

// TAI64N parses "@" + 24 hex digits (daemontools/s6 timestamps). Leap
// seconds are ignored (TAI-UTC offset of 10 s as the label base, per
// libtai's convention); precise enough for logs.
func TAI64N(b []byte) (time.Time, bool) {
	if len(b) < 25 || b[0] != '@' {
		return time.Time{}, false
	}
	var secs, nanos uint64
	for i := 1; i < 25; i++ {
		c := b[i]
		var v uint64
		switch {
		case c >= '0' && c <= '9':
			v = uint64(c - '0')
		case c >= 'a' && c <= 'f':
			v = uint64(c-'a') + 10
		case c >= 'A' && c <= 'F':
			v = uint64(c-'A') + 10
		default:
			return time.Time{}, false
		}
		if i <= 16 {
			secs = secs<<4 | v
		} else {
			nanos = nanos<<4 | v
		}
	}
	const base = uint64(1) << 62
	if secs < base || nanos >= 1e9 {
		return time.Time{}, false
	}
	return time.Unix(int64(secs-base)-10, int64(nanos)).UTC(), true
}
