package jsonx

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

func TestAppendString(t *testing.T) {
	for in, want := range map[string]string{
		"plain":           `"plain"`,
		"q\"b\\n\n\t\r":   `"q\"b\\n\n\t\r"`,
		"\x00\x1f":        `"\u0000\u001f"`,
		"bad \xff utf8":   `"bad \ufffd utf8"`,
		"sep \u2028 ok é": `"sep \u2028 ok é"`,
	} {
		if got := string(AppendString(nil, []byte(in))); got != want {
			t.Errorf("AppendString(%q) = %s, want %s", in, got, want)
		}
		if got := string(AppendStr(nil, in)); got != want {
			t.Errorf("AppendStr(%q) = %s, want %s", in, got, want)
		}
	}
}

// FuzzAppendString: any bytes give a valid JSON string that decodes to the
// input (with invalid UTF-8 replaced).
func FuzzAppendString(f *testing.F) {
	f.Add([]byte("hello \"world\"\n"))
	f.Add([]byte{0xff, 0x00, 0xe2, 0x80, 0xa8})
	f.Fuzz(func(t *testing.T, b []byte) {
		out := AppendString(nil, b)
		var s string
		if err := json.Unmarshal(out, &s); err != nil {
			t.Fatalf("invalid JSON %q: %v", out, err)
		}
		if utf8.Valid(b) && s != string(b) {
			t.Fatalf("round trip: %q -> %q", b, s)
		}
	})
}

func FuzzAppendRawJSON(f *testing.F) {
	f.Add([]byte(`{"a":"b\u0001","c":[1,2,{"d":null}]}`))
	f.Add([]byte("{\"a\":\"\xff\x01\"}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) {
			return
		}
		if out := AppendRawJSON(nil, b); !json.Valid(out) {
			t.Fatalf("repaired JSON is invalid: %q", out)
		}
	})
}

// appendBodyRef is the byte-at-a-time reference for AppendStringBody.
func appendBodyRef(dst, b []byte) []byte {
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c >= 0x80:
			r, size := utf8.DecodeRune(b[i:])
			switch {
			case r == utf8.RuneError && size == 1:
				dst = append(dst, `\ufffd`...)
			case r == '\u2028' || r == '\u2029':
				dst = append(dst, `\u202`...)
				dst = append(dst, hexDigits[r&0xF])
			default:
				dst = append(dst, b[i:i+size]...)
			}
			i += size
			continue
		case c == '"':
			dst = append(dst, '\\', '"')
		case c == '\\':
			dst = append(dst, '\\', '\\')
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
		default:
			dst = append(dst, c)
		}
		i++
	}
	return dst
}

// The word-at-a-time fast path must agree with the reference for every
// byte value at every position of a word.
func TestAppendStringBodyMatchesReference(t *testing.T) {
	base := []byte("abcdefghijklmnopqrstuvwxyz0123456789")
	for c := range 256 {
		for pos := range 17 {
			b := append([]byte(nil), base...)
			b[pos] = byte(c)
			if got, want := string(AppendStringBody(nil, b)), string(appendBodyRef(nil, b)); got != want {
				t.Fatalf("byte %#x at %d: got %q, want %q", c, pos, got, want)
			}
		}
	}
}

func FuzzAppendStringBodyMatchesReference(f *testing.F) {
	f.Add([]byte("0123456789abcdef\"\\\x01\xe2\x80\xa8\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := string(AppendStringBody(nil, b)), string(appendBodyRef(nil, b)); got != want {
			t.Fatalf("%q: got %q, want %q", b, got, want)
		}
	})
}

func BenchmarkAppendStringBody(b *testing.B) {
	s := []byte("GET /api/v1/workflows/run - 200 processed in 12.5ms for user_82080 segment premium")
	dst := make([]byte, 0, 256)
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		dst = AppendStringBody(dst[:0], s)
	}
}
