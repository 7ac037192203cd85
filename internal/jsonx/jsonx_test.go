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
