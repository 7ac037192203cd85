package parse

import (
	"bytes"
	"testing"
	"unsafe"
)

// within reports whether b lies inside line or is empty (slices the
// parsers return must point into the input or the parser's arena).
func within(b, line []byte) bool {
	if len(b) == 0 || len(line) == 0 {
		return true
	}
	start := uintptr(unsafe.Pointer(&line[0]))
	p := uintptr(unsafe.Pointer(&b[0]))
	return p >= start && p+uintptr(len(b)) <= start+uintptr(len(line))
}

func FuzzJSON(f *testing.F) {
	for _, s := range []string{
		`{"time":"2026-11-25T21:45:15.348927Z","level":"INFO","msg":"x","request":{"method":"GET","path":"/a"},"response":{"status":200}}`,
		`{"a":{"b":[1,2,{"c":null}]},"msg":"\u00e9\n","level":30,"ts":1700000000.5}`,
		`{"log":{"logger":"app","origin":{"file":{"line":42,"name":"x.py"},"function":"main"}},"log.level":"debug"}`,
		`{"attrs":{"k":"v"},"error":{"type":"E","message":"m"},"exception":{"class":"C","stack_trace":"s"}}`,
		`{"x":`, `{}`, `{"":""}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		orig := bytes.Clone(line)
		p := &JSONParser{}
		var fl Fields
		if p.Parse(line, &fl) {
			if fl.Format != "json" {
				t.Fatalf("format %q", fl.Format)
			}
			for _, kv := range fl.Extra {
				if kv.Val.Kind == KindNumber && !IsJSONNumber(kv.Val.B) {
					t.Fatalf("number %q is not a JSON number", kv.Val.B)
				}
			}
		}
		if !bytes.Equal(orig, line) {
			t.Fatal("input modified")
		}
	})
}

func FuzzLogfmt(f *testing.F) {
	for _, s := range []string{
		`time=2026-11-25T21:46:20.770Z level=INFO source=/tmp/main.go:26 msg="workflow started" tracking_id=7d3c7a4e-3f7b-4c55-8c1e-2f3b9b6d8a10 steps=3`,
		`logger=settings t=2025-04-24T19:51:48.520963849Z level=info msg="Starting Grafana" version=11.5.2`,
		`time="2021-09-15T21:17:10.220731Z" level=error msg="a \"quoted\" \\ value" reason= status=Pending`,
		`a=1 b`, `k="unterminated`, `=x y=z`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		orig := bytes.Clone(line)
		p := &LogfmtParser{}
		var fl Fields
		if p.Parse(line, &fl) {
			for _, kv := range fl.Extra {
				if !within(kv.Key, line) {
					t.Fatalf("key %q does not point into the line", kv.Key)
				}
				if kv.Val.Kind == KindNumber && !IsJSONNumber(kv.Val.B) {
					t.Fatalf("number %q", kv.Val.B)
				}
			}
		}
		if !bytes.Equal(orig, line) {
			t.Fatal("input modified")
		}
	})
}
