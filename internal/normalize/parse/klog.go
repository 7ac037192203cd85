package parse

import (
	"bytes"
	"time"
	"unicode/utf8"
)

// KlogParser parses the klog / glog header
//
//	Lmmdd hh:mm:ss.uuuuuu threadid file:line] msg
//	E0517 15:04:22.619632 1952452992 logging_unittest.cc:253] Log every 3, iteration 19
//
// where L is I, W, E or F (kept raw in Level) and threadid is space-padded.
// glog 0.7+ writes the year too ("Lyyyymmdd ..."): then the year is used,
// otherwise TimeNoYear is set. klog writes local time: TimeLocal is always
// set. file:line fills Source.File/Line and the thread id goes to Extra
// "thread".
//
// klog structured records (InfoS/ErrorS) carry a quoted message followed by
// key=value pairs: `"Pod status updated" pod="kube-system/kubedns" status="ready"`.
// The message is unquoted (Go syntax) into Message and every pair goes
// through Fields.SetKey (quoted values unquoted, numbers as numbers,
// true/false as booleans, anything else as a string). If the tail is not
// exactly that shape, Message is the raw text after "] ".
//
// Unquoted text lives in the parser's scratch buffer, valid until the next
// Parse: a KlogParser is not safe for concurrent use.
type KlogParser struct {
	scratch []byte
}

// Name implements Parser.
func (*KlogParser) Name() string { return "klog" }

// Parse implements Parser.
func (p *KlogParser) Parse(line []byte, f *Fields) bool {
	if len(line) < 20 {
		return false
	}
	switch line[0] {
	case 'I', 'W', 'E', 'F':
	default:
		return false
	}
	d := appDigitsEnd(line[1:])
	year, noYear := 0, true
	var date []byte
	switch d {
	case 4:
		date = line[1:5]
	case 8:
		year, _ = digits(line[1:], 4)
		if year < minYear || year > maxYear {
			return false
		}
		date, noYear = line[5:9], false
	default:
		return false
	}
	mo, _ := digits(date, 2)
	day, _ := digits(date[2:], 2)
	if mo < 1 || mo > 12 || day < 1 || day > 31 {
		return false
	}
	pos := 1 + d
	if pos >= len(line) || line[pos] != ' ' {
		return false
	}
	pos++
	clk, n, ok := Clock(line[pos:])
	if !ok {
		return false
	}
	pos += n
	if pos >= len(line) || line[pos] != ' ' {
		return false
	}
	for pos < len(line) && line[pos] == ' ' {
		pos++
	}
	ts := pos
	pos += appDigitsEnd(line[pos:])
	if pos == ts || pos >= len(line) || line[pos] != ' ' {
		return false
	}
	thread := line[ts:pos]
	pos++
	end := bytes.IndexByte(line[pos:], ']')
	if end <= 0 {
		return false
	}
	file, lineNo, ok := appFileLine(line[pos : pos+end])
	if !ok {
		return false
	}
	pos += end + 1
	if pos < len(line) {
		if line[pos] != ' ' {
			return false
		}
		pos++
	}
	msg := line[pos:]

	f.Format = "klog"
	f.Level = line[:1]
	f.Time = time.Date(year, time.Month(mo), day, 0, 0, 0, 0, time.UTC).Add(clk)
	f.HasTime, f.TimeLocal, f.TimeNoYear = true, true, noYear
	f.Source.File = Str(file)
	f.Source.Line = Num(lineNo)
	f.AddExtra(appKeyThread, Num(thread))

	if len(msg) > 1 && msg[0] == '"' && klogStructured(msg) {
		p.structured(msg, f)
		return true
	}
	f.Message = Str(msg)
	return true
}

// klogQuotedEnd returns the index just past the closing quote of the Go
// quoted string starting at b[0] == '"', or -1.
func klogQuotedEnd(b []byte) int {
	for i := 1; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// klogBareEnd returns the end of an unquoted value: the next space outside
// {}, [] or () nesting (klog prints structs with %+v).
func klogBareEnd(b []byte) int {
	depth := 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '{', '[', '(':
			depth++
		case '}', ']', ')':
			if depth > 0 {
				depth--
			}
		case ' ':
			if depth == 0 {
				return i
			}
		}
	}
	return len(b)
}

func klogKeyByte(c byte) bool {
	return c > ' ' && c != '=' && c != '"' && c != 0x7f
}

// klogStructured checks that msg is `"quoted" (key=value)*`.
func klogStructured(msg []byte) bool {
	e := klogQuotedEnd(msg)
	if e < 0 {
		return false
	}
	r := msg[e:]
	for len(r) > 0 {
		if r[0] != ' ' {
			return false
		}
		for len(r) > 0 && r[0] == ' ' {
			r = r[1:]
		}
		if len(r) == 0 {
			return true
		}
		k := 0
		for k < len(r) && klogKeyByte(r[k]) {
			k++
		}
		if k == 0 || k >= len(r) || r[k] != '=' {
			return false
		}
		r = r[k+1:]
		switch {
		case len(r) > 0 && r[0] == '"':
			q := klogQuotedEnd(r)
			if q < 0 {
				return false
			}
			r = r[q:]
		case len(r) == 1 && r[0] == '<':
			// multi-line value "key=<" continues on the next lines
			r = r[1:]
		default:
			r = r[klogBareEnd(r):]
		}
	}
	return true
}

// structured fills Message and the pairs of a validated structured tail.
func (p *KlogParser) structured(msg []byte, f *Fields) {
	if cap(p.scratch) < len(msg) {
		p.scratch = make([]byte, 0, len(msg)+64)
	}
	p.scratch = p.scratch[:0]
	e := klogQuotedEnd(msg)
	f.Message = Str(p.unquote(msg[1 : e-1]))
	r := msg[e:]
	for {
		for len(r) > 0 && r[0] == ' ' {
			r = r[1:]
		}
		if len(r) == 0 {
			return
		}
		k := 0
		for k < len(r) && klogKeyByte(r[k]) {
			k++
		}
		if k == 0 || k >= len(r) || r[k] != '=' {
			return // cannot happen after klogStructured
		}
		key := r[:k]
		r = r[k+1:]
		var v Value
		switch {
		case len(r) > 0 && r[0] == '"':
			q := klogQuotedEnd(r)
			v = Str(p.unquote(r[1 : q-1]))
			r = r[q:]
		case len(r) == 1 && r[0] == '<':
			v = Str(r[:0])
			r = r[1:]
		default:
			be := klogBareEnd(r)
			raw := r[:be]
			r = r[be:]
			switch {
			case IsJSONNumber(raw):
				v = Num(raw)
			case string(raw) == "true" || string(raw) == "false":
				v = Value{B: raw, Kind: KindBool}
			default:
				v = Str(raw)
			}
		}
		f.SetKey(key, v)
	}
}

// unquote decodes the body of a Go double-quoted string into the scratch
// buffer. Without escapes it returns s itself; on a malformed escape it
// returns s unchanged. Decoding never grows the text, and scratch has at
// least len(msg) capacity, so earlier results are never moved.
func (p *KlogParser) unquote(s []byte) []byte {
	if bytes.IndexByte(s, '\\') < 0 {
		return s
	}
	if cap(p.scratch)-len(p.scratch) < len(s) {
		return s
	}
	start := len(p.scratch)
	dst := p.scratch
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			dst = append(dst, c)
			continue
		}
		i++
		if i >= len(s) {
			return s
		}
		switch c = s[i]; c {
		case 'a':
			dst = append(dst, '\a')
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'v':
			dst = append(dst, '\v')
		case '\\', '"', '\'':
			dst = append(dst, c)
		case 'x', 'u', 'U':
			n := 2
			if c == 'u' {
				n = 4
			} else if c == 'U' {
				n = 8
			}
			if i+1+n > len(s) {
				return s
			}
			v, ok := klogHex(s[i+1 : i+1+n])
			if !ok {
				return s
			}
			i += n
			if c == 'x' {
				dst = append(dst, byte(v))
			} else {
				dst = utf8.AppendRune(dst, rune(v))
			}
		case '0', '1', '2', '3', '4', '5', '6', '7':
			if i+2 >= len(s) {
				return s
			}
			v := 0
			for j := 0; j < 3; j++ {
				o := s[i+j]
				if o < '0' || o > '7' {
					return s
				}
				v = v*8 + int(o-'0')
			}
			if v > 255 {
				return s
			}
			i += 2
			dst = append(dst, byte(v))
		default:
			return s
		}
	}
	p.scratch = dst
	return dst[start:len(dst):len(dst)]
}

func klogHex(b []byte) (uint32, bool) {
	var v uint32
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | uint32(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | uint32(c-'a'+10)
		case c >= 'A' && c <= 'F':
			v = v<<4 | uint32(c-'A'+10)
		default:
			return 0, false
		}
	}
	return v, true
}
