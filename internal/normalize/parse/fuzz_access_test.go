package parse

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unsafe"
)

// accessStatic lists the package-level byte slices the access, error-log,
// uvicorn and syslog parsers may hand out (keys and fixed level names).
var accessStatic = accessStaticList()

func accessStaticList() [][]byte {
	s := [][]byte{
		accessKeyRequest, accessKeyIdent, accessKeyForwardedFor, accessKeyExtra,
		errlogKeyPid, errlogKeyTid, errlogKeyConnectionID, errlogKeyClientPort, errlogKeyServer, errlogKeyUpstream,
		syslogKeyFacility, syslogKeyAppname, syslogKeyProcid, syslogKeyMsgid,
	}
	s = append(s, accessKeyExtraN[:]...)
	s = append(s, syslogSeverities[:]...)
	s = append(s, syslogFacilities[:]...)
	return s
}

func accessWithin(b, region []byte) bool {
	if cap(region) == 0 {
		return false
	}
	region = region[:cap(region)]
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(region)))
	hi := lo + uintptr(len(region))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return p >= lo && p+uintptr(len(b)) <= hi
}

// accessCheck asserts the Parser contract on one result: slices point into
// the line, the parser's scratch or the parsers' static tables; numbers are
// JSON numbers; times are sane; a rejected line leaves f untouched.
func accessCheck(t *testing.T, name string, line []byte, ok bool, f *Fields, scratch []byte) {
	t.Helper()
	if !ok {
		if !reflect.DeepEqual(*f, Fields{}) {
			t.Fatalf("%s rejected %q but wrote %+v", name, line, *f)
		}
		return
	}
	checkB := func(what string, b []byte) {
		if len(b) == 0 {
			return
		}
		if accessWithin(b, line) || accessWithin(b, scratch) {
			return
		}
		for _, s := range accessStatic {
			if accessWithin(b, s) {
				return
			}
		}
		t.Fatalf("%s: %s %q does not point into the line %q", name, what, b, line)
	}
	checkV := func(what string, v Value) {
		switch v.Kind {
		case KindNone:
			if v.B != nil {
				t.Fatalf("%s: unset %s has bytes", name, what)
			}
			return
		case KindNumber:
			if !accessIsNum(v.B) {
				t.Fatalf("%s: %s %q is not a JSON number (line %q)", name, what, v.B, line)
			}
		case KindString:
		default:
			t.Fatalf("%s: %s has kind %d", name, what, v.Kind)
		}
		checkB(what, v.B)
	}
	var walk func(path string, rv reflect.Value)
	walk = func(path string, rv reflect.Value) {
		if rv.Type() == reflect.TypeOf(Value{}) {
			checkV(path, rv.Interface().(Value))
			return
		}
		if rv.Kind() == reflect.Struct {
			for i := 0; i < rv.NumField(); i++ {
				walk(path+"."+rv.Type().Field(i).Name, rv.Field(i))
			}
		}
	}
	walk("", reflect.ValueOf(*f))
	checkB("level", f.Level)
	for _, kv := range f.Extra {
		if len(kv.Key) == 0 {
			t.Fatalf("%s: empty Extra key (line %q)", name, line)
		}
		checkB("extra key", kv.Key)
		checkV("extra "+string(kv.Key), kv.Val)
	}
	if f.Format == "" {
		t.Fatalf("%s: accepted %q without a Format", name, line)
	}
	if f.HasTime {
		y := f.Time.Year()
		if f.TimeNoYear && y != 0 {
			t.Fatalf("%s: TimeNoYear with year %d", name, y)
		}
		if y < 0 || y > 10000 {
			t.Fatalf("%s: insane time %v from %q", name, f.Time, line)
		}
	} else if f.TimeLocal || f.TimeNoYear || !f.Time.IsZero() {
		t.Fatalf("%s: time flags without HasTime", name)
	}
	if f.LevelScheme == LevelSyslog && (f.LevelNum < 0 || f.LevelNum > 7) {
		t.Fatalf("%s: syslog severity %d", name, f.LevelNum)
	}
}

// accessSeed adds every test line plus the lines of the corpus samples
// that look like the family's format.
func accessSeed(f *testing.F, lines []string, samples ...string) {
	for _, l := range lines {
		f.Add([]byte(l))
	}
	for _, c := range accessForeignLines {
		f.Add([]byte(c.line))
	}
	for _, s := range samples {
		b, err := os.ReadFile(filepath.Join("/work/shared/corpus/samples", s))
		if err != nil {
			continue // corpus not present: the explicit seeds still run
		}
		for i, l := range strings.Split(string(b), "\n") {
			if i >= 40 {
				break
			}
			f.Add([]byte(l))
		}
	}
}

func accessFuzz(t *testing.T, line []byte, parsers ...Parser) {
	for _, p := range parsers {
		var f Fields
		ok := p.Parse(line, &f)
		var scratch []byte
		if s, isSys := p.(*Syslog5424Parser); isSys {
			scratch = s.scratch
		}
		accessCheck(t, p.Name(), line, ok, &f, scratch)
	}
}

func FuzzAccess(f *testing.F) {
	accessSeed(f, []string{
		accessLineNginx1, accessLineNginxQ, accessLineNginxDsh, accessLineApacheC, accessLineApacheCb,
		accessLineMain, accessLineTimed, accessLineTLS,
		`www.example.com:443 198.51.100.4 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 512 "-" "Wget/1.21"`,
		`10.1.2.3 - - [01/Feb/2024:03:04:05 +0000] "GET /a\"b HTTP/1.1" 304 - "-" "Agent \"X\" \\ 1.0"`,
		`10.0.0.1 - - [25/Nov/2026:21:43:45 +0000] "GET / HTTP/1.1" 200 1 "-" "curl" "abc" 12 urt="0.001, 0.002" k= ="x" a=b=c "`,
	}, "nginx-combined-access-utc.log")
	p := &AccessParser{}
	f.Fuzz(func(t *testing.T, line []byte) { accessFuzz(t, line, p) })
}

func FuzzNginxError(f *testing.F) {
	accessSeed(f, []string{
		errlogLineNginx7, errlogLineNginx10, errlogLineNginxN,
		`2026/11/25 21:43:45 [error] 7#7: *3 upstream sent invalid header: "X, client: evil" while reading, client: 10.0.0.1, server: a, request: "GET /?q=, client: x HTTP/1.1", upstream: "http://10.0.0.9:80/", host: "a"`,
		`2026/11/25 21:43:45 [error] 8#8: *1 connect() failed, udp client: 192.0.2.1, server: 0.0.0.0:53, upstream: "10.0.0.53:53", bytes from/to client:0/0, bytes from/to upstream:0/0`,
		`2026/11/25 21:43:45 [info] 7#7: *9 x, client: 10.0.0.1, server: _, request: "\x16\x03\x01", login: "bob", referrer: "r"`,
	}, "nginx-error-utc.log")
	p := &NginxErrorParser{}
	f.Fuzz(func(t *testing.T, line []byte) { accessFuzz(t, line, p) })
}

func FuzzApacheError(f *testing.F) {
	accessSeed(f, []string{
		errlogLineApache24, errlogLineApache22,
		`[Fri Sep 09 10:42:29.902022 2011] [proxy:error] [pid 35708] (111)Connection refused: [client 10.0.0.7:40000] AH00957: HTTP: attempt failed`,
		`[Thu May 12 08:28:57.652118 2011] [core:info] [pid 8777:tid 4326490112] [client ::1:58619] AH00128: File does not exist: /x, referer: http://localhost/`,
		`[2011-09-09 10:42:29.902022] [ssl:warn] [pid 9] AH01909: x`,
		`[Mon Jan  2 03:04:05 2006] [warn] child process 1 still did not exit`,
	})
	p := &ApacheErrorParser{}
	f.Fuzz(func(t *testing.T, line []byte) { accessFuzz(t, line, p) })
}

func FuzzUvicorn(f *testing.F) {
	accessSeed(f, []string{
		uviLineAccess, uviLineAccess2, uviLineBasic, uviLineGunicorn, uviLineStarted, uviLineError,
		`INFO:     ::1:51234 - "GET / HTTP/1.1" 307 Temporary Redirect`,
		`INFO:     [::1]:5000 - "DELETE /items/1 HTTP/2" 204 No Content`,
		`INFO:      - "GET / HTTP/1.1" 200 OK`,
		"\x1b[32mINFO\x1b[0m:     127.0.0.1:1 - \"GET / HTTP/1.1\" 200 OK",
		"\x1b[91mCRITICAL\x1b[0m: boom",
		`[2024-01-01 14:00:00 +0200] [7] [INFO] 10.1.1.1:80 - "PUT /a HTTP/1.1" 201 Created`,
		`WARNING:  Invalid HTTP request received.`,
	}, "fastapi-api-gateway-stream-utc.log", "fastapi-workflow-agent-stream-utc.log")
	pa, pd := &UvicornAccessParser{}, &UvicornParser{}
	f.Fuzz(func(t *testing.T, line []byte) { accessFuzz(t, line, pa, pd) })
}

func FuzzSyslog(f *testing.F) {
	accessSeed(f, []string{
		syslogLine5424a, syslogLine5424b, syslogLine5424c, syslogLine5424d, syslogLine5424e,
		syslogLine3164a, syslogLine3164b, syslogLine3164c,
		`<0>1 2026-11-25T21:43:45+01:00 h a p m [origin] `,
		`<13>Oct 11 22:14:15 myapp[4242]: hello`,
		`Oct 1 02:03:04 host kernel: [    0.000000] Linux version 6.1.0`,
		`<30>2026-11-25T22:43:45+01:00 web-1 systemd[1]: Started Session 3 of user root.`,
	})
	p5, p3 := &Syslog5424Parser{}, &Syslog3164Parser{}
	f.Fuzz(func(t *testing.T, line []byte) { accessFuzz(t, line, p5, p3) })
}
