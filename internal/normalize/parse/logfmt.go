package parse

// LogfmtParser parses logfmt lines (key=value pairs separated by spaces,
// values optionally double-quoted): Go log/slog TextHandler, logrus text,
// Grafana, Heroku-style logfmt. Keys map through SetKey. Unquoted values
// that are valid JSON numbers become numbers, true/false become booleans,
// everything else is a string.
//
// Quoted values are unescaped for \" and \\ only; other backslash sequences
// (\n, \t, \u00e9) are kept as written so a record stays one line and the
// text is not reinterpreted (Vector and Fluent Bit do the same).
//
// To keep auto-detection honest the parser is strict: the line must start
// with key=, hold at least two pairs, and contain no bare words.
type LogfmtParser struct {
	arena Arena
}

// Name implements Parser.
func (*LogfmtParser) Name() string { return "logfmt" }

// isKeyByte reports whether c may appear in a logfmt key: any printable
// byte except space, '=' and '"' (keys such as graphdriver(s) occur).
func isKeyByte(c byte) bool {
	return c > ' ' && c != '=' && c != '"' && c < 0x7f
}

// IsJSONNumber reports whether b is a JSON number literal.
func IsJSONNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return false
	}
	if b[i] == '0' {
		i++
	} else if b[i] >= '1' && b[i] <= '9' {
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	} else {
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	return i == len(b)
}

// Parse implements Parser.
func (p *LogfmtParser) Parse(line []byte, f *Fields) bool {
	if len(line) < 3 || !isKeyByte(line[0]) {
		return false
	}
	// Cheap shape check before doing any work: first token must be key=.
	i := 0
	for i < len(line) && isKeyByte(line[i]) {
		i++
	}
	if i == 0 || i >= len(line) || line[i] != '=' {
		return false
	}
	p.arena.Reset()
	pairs := 0
	pos := 0
	for pos < len(line) {
		for pos < len(line) && line[pos] == ' ' {
			pos++
		}
		if pos >= len(line) {
			break
		}
		ks := pos
		for pos < len(line) && isKeyByte(line[pos]) {
			pos++
		}
		if pos == ks || pos >= len(line) || line[pos] != '=' {
			return false // bare word or junk: not logfmt
		}
		key := line[ks:pos]
		pos++ // '='
		var val Value
		if pos < len(line) && line[pos] == '"' {
			end, esc := -1, false
			for j := pos + 1; j < len(line); j++ {
				c := line[j]
				if c == '\\' && j+1 < len(line) {
					esc = true
					j++
					continue
				}
				if c == '"' {
					end = j
					break
				}
			}
			if end < 0 {
				return false
			}
			raw := line[pos+1 : end]
			if esc {
				raw = p.unescape(raw)
			}
			val = Str(raw)
			pos = end + 1
			if pos < len(line) && line[pos] != ' ' {
				return false
			}
		} else {
			vs := pos
			for pos < len(line) && line[pos] != ' ' {
				if line[pos] == '"' {
					return false
				}
				pos++
			}
			raw := line[vs:pos]
			switch {
			case IsJSONNumber(raw):
				val = Num(raw)
			case string(raw) == "true" || string(raw) == "false":
				val = Value{B: raw, Kind: KindBool}
			default:
				val = Str(raw)
			}
		}
		f.SetKey(key, val)
		pairs++
	}
	if pairs < 2 {
		return false
	}
	f.Format = "logfmt"
	return true
}

// unescape resolves \" and \\ into the arena.
func (p *LogfmtParser) unescape(raw []byte) []byte {
	dst := p.arena.Alloc(len(raw))[:0]
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c == '\\' && i+1 < len(raw) && (raw[i+1] == '"' || raw[i+1] == '\\') {
			i++
			c = raw[i]
		}
		dst = append(dst, c)
	}
	return dst
}
