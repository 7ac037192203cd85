package parse

import (
	"bytes"
	"reflect"
	"testing"
	"unsafe"
)

// appFuzzSeeds returns every line the app parser tests use.
func appFuzzSeeds() []string {
	seeds := append([]string(nil), appOtherLines...)
	for _, lines := range appFormatLines {
		seeds = append(seeds, lines...)
	}
	seeds = append(seeds,
		"2024-01-15 10:30:45,123 - myapp.db - WARNING - slow query took 2.5s",
		"2024-01-15 10:30:45.123 | SUCCESS  | app.jobs:run:88 - done - really",
		"2024-01-15 10:30:45,123 INFO worker - job done",
		"2009/11/10 23:00:00 main.go:12: [api] listening on :8080",
		"2009/11/10 23:00:00 ???:0: no caller",
		"panic: boom [recovered, repanicked]",
		"INFO\tmain.go:12\thello\t{\"k\": true, \"n\": null, \"o\": {\"a\": [1, 2]}}",
		"2026-11-25T21:47:12.277Z\tINFO\tm.go:1\tq\t{\"query\": \"a \\\"b\\\"\\n\"}",
		"2026-11-25T21:47:12.277Z\tINFO\tmain.go:1\tmsg\t{not json}",
		`I1025 00:15:15.525108       1 c.go:1] "say \"hi\"\n\tbye \u00e9\x41\101" msg2="a\\b" k=<`,
		`I1025 00:15:15.525108       1 c.go:1] "Object" obj={Name:foo Kind:Pod} count=2 ok=true`,
		"I20240517 15:04:22.619632 1234 main.cc:10] with year",
		"2024-01-15T10:30:45.123Z  INFO 7 --- [shop] [backend] [           main] [6a2f1a1e9e2c4f3d8f6e0b1a2c3d4e5f-1a2b3c4d5e6f7a8b] c.e.shop.App : hi",
		"2024-01-15 10:30:45,123 INFO c.e.App [main] started in 3s",
		"[2024-01-15T10:30:45.000001Z] CRITICAL database down",
		"2024-01-15T10:30:45Z | NOTICE  | config reloaded",
	)
	return seeds
}

// appAllBytes collects every byte slice reachable from f (Values, Level,
// Extra keys and values).
func appAllBytes(f *Fields) [][]byte {
	var out [][]byte
	var walk func(v reflect.Value)
	bytesType := reflect.TypeOf([]byte(nil))
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				walk(v.Field(i))
			}
		case reflect.Slice:
			if v.Type() == bytesType {
				if v.Len() > 0 {
					out = append(out, v.Bytes())
				}
				return
			}
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i))
			}
		}
	}
	walk(reflect.ValueOf(f).Elem())
	return out
}

func appWithin(b, region []byte) bool {
	if len(b) == 0 {
		return true
	}
	if cap(region) == 0 {
		return false
	}
	region = region[:cap(region)]
	s := uintptr(unsafe.Pointer(&b[0]))
	r := uintptr(unsafe.Pointer(&region[0]))
	return s >= r && s+uintptr(len(b)) <= r+uintptr(len(region))
}

// appStatic are the package-level byte slices parsers may hand out.
var appStatic = func() [][]byte {
	s := [][]byte{appKeyThread, appKeyPid, appKeyRecovered, appKeyAppGroup, appKeyProcName, appTrue, redisKeyRole,
		albKeyType, albKeyELB, albKeyTarget, albKeyTargetState, albKeySSL, albKeyXRay, albKeyActions, albKeyError, albKeyClass,
		osKeyRequestID, osKeyGlobalRequestID, osKeyInstance, osKeyLogFile, haKeyFrontend, haKeyBackend, haKeyServer, haKeyTerm,
		envoyKeyFlags, envoyKeyReqID, envoyKeyUpstream}
	for _, r := range redisRoles {
		s = append(s, r.name)
	}
	return s
}()

// appFuzzCheck parses line with p and checks the contract: no panic, f
// untouched on false, every slice within the line (or scratch / static
// keys; unescaped JSON strings for zap), sane times.
func appFuzzCheck(t *testing.T, p Parser, line []byte, scratch func() []byte) {
	in := append([]byte(nil), line...)
	var f Fields
	ok := p.Parse(in, &f)
	if !bytes.Equal(in, line) {
		t.Fatalf("%s modified its input", p.Name())
	}
	if !ok {
		if !reflect.DeepEqual(f, Fields{}) {
			t.Fatalf("%s returned false but wrote fields for %q: %+v", p.Name(), line, f)
		}
		return
	}
	if f.Format == "" {
		t.Fatalf("%s accepted %q without a Format", p.Name(), line)
	}
	if f.Message.Kind != KindString {
		t.Fatalf("%s accepted %q without a message", p.Name(), line)
	}
	var sc []byte
	if scratch != nil {
		sc = scratch()
	}
	for _, b := range appAllBytes(&f) {
		if appWithin(b, in) || appWithin(b, sc) {
			continue
		}
		static := false
		for _, s := range appStatic {
			if appWithin(b, s) {
				static = true
			}
		}
		if static {
			continue
		}
		if p.Name() == "zap-console" && bytes.IndexByte(in, '\\') >= 0 {
			continue // gjson unescaped a JSON string: a fresh allocation
		}
		t.Fatalf("%s: slice %q of %q points outside the input", p.Name(), b, line)
	}
	if f.HasTime {
		y := f.Time.Year()
		if f.TimeNoYear {
			if y != 0 {
				t.Fatalf("%s: TimeNoYear with year %d for %q", p.Name(), y, line)
			}
		} else if y < 1970 || y > 2200 {
			t.Fatalf("%s: insane time %v for %q", p.Name(), f.Time, line)
		}
	} else if !f.Time.IsZero() || f.TimeLocal || f.TimeNoYear {
		t.Fatalf("%s: time flags without HasTime for %q", p.Name(), line)
	}
	// Parsing again must give the same answer (no hidden state).
	var g Fields
	if !p.Parse(in, &g) || g.Format != f.Format || !bytes.Equal(g.Message.B, f.Message.B) || len(g.Extra) != len(f.Extra) {
		t.Fatalf("%s: second parse of %q differs", p.Name(), line)
	}
}

func appFuzz(f *testing.F, p Parser, scratch func() []byte) {
	for _, s := range appFuzzSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		appFuzzCheck(t, p, line, scratch)
	})
}

func FuzzPython(f *testing.F)    { appFuzz(f, &PythonParser{}, nil) }
func FuzzGoLog(f *testing.F)     { appFuzz(f, &GoLogParser{}, nil) }
func FuzzGoPanic(f *testing.F)   { appFuzz(f, &GoPanicParser{}, nil) }
func FuzzZap(f *testing.F)       { appFuzz(f, &ZapConsoleParser{}, nil) }
func FuzzJava(f *testing.F)      { appFuzz(f, &JavaParser{}, nil) }
func FuzzTsLevel(f *testing.F)   { appFuzz(f, &TimestampLevelParser{}, nil) }
func FuzzRedis(f *testing.F)     { appFuzz(f, &RedisParser{}, nil) }
func FuzzRuby(f *testing.F)      { appFuzz(f, &RubyLoggerParser{}, nil) }
func FuzzOpenStack(f *testing.F) { appFuzz(f, &OpenStackParser{}, nil) }
func FuzzHAProxy(f *testing.F)   { appFuzz(f, &HAProxyParser{}, nil) }
func FuzzLogcat(f *testing.F)    { appFuzz(f, &LogcatParser{}, nil) }
func FuzzEnvoy(f *testing.F)     { appFuzz(f, &EnvoyParser{}, nil) }
func FuzzALB(f *testing.F) {
	p := &ALBParser{}
	appFuzz(f, p, func() []byte { return p.scratch })
}

func FuzzKlog(f *testing.F) {
	p := &KlogParser{}
	appFuzz(f, p, func() []byte { return p.scratch })
}
