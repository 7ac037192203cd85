package parse

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// accessFlat renders every set slot of f as "slot" -> value so a test can
// assert the exact set of slots. Number values get a "#" suffix on the
// key, Extra keys are prefixed with "x." (repeated keys get "~N").
func accessFlat(f *Fields) map[string]string {
	m := map[string]string{}
	put := func(k string, v Value) {
		switch v.Kind {
		case KindNone:
			return
		case KindNumber:
			k += "#"
		case KindString:
		default:
			k += "?" + strconv.Itoa(int(v.Kind))
		}
		if v.Scale != 0 {
			k += "*" + strconv.FormatFloat(v.Scale, 'g', -1, 64)
		}
		if _, dup := m[k]; dup {
			for n := 2; ; n++ {
				if _, dup := m[k+"~"+strconv.Itoa(n)]; !dup {
					k += "~" + strconv.Itoa(n)
					break
				}
			}
		}
		m[k] = string(v.B)
	}
	m["format"] = f.Format
	if f.HasTime {
		m["time"] = f.Time.UTC().Format(time.RFC3339Nano)
	}
	if f.TimeLocal {
		m["time_local"] = "true"
	}
	if f.TimeNoYear {
		m["time_noyear"] = "true"
	}
	if f.Level != nil {
		m["level"] = string(f.Level)
	}
	if f.LevelNum != 0 || f.LevelScheme != LevelText {
		m["level_num"] = strconv.Itoa(f.LevelNum)
		m["level_scheme"] = strconv.Itoa(int(f.LevelScheme))
	}
	put("message", f.Message)
	put("logger", f.Logger)
	put("service", f.Service)
	put("environment", f.Environment)
	put("project", f.Project)
	put("host", f.Host)
	put("tracking_id", f.TrackingID)
	put("trace_id", f.TraceID)
	put("span_id", f.SpanID)
	put("traceparent", f.TraceParent)
	r := &f.Request
	put("request.method", r.Method)
	put("request.path", r.Path)
	put("request.protocol", r.Protocol)
	put("request.size", r.Size)
	put("request.duration", r.Duration)
	put("request.user_agent", r.UserAgent)
	put("request.ip", r.IP)
	put("request.referer", r.Referer)
	put("request.host", r.Host)
	put("response.status", f.Response.Status)
	put("response.size", f.Response.Size)
	put("response.content_type", f.Response.ContentType)
	put("user.id", f.User.ID)
	put("user.segment", f.User.Segment)
	put("session.id", f.Session.ID)
	put("session.duration", f.Session.Duration)
	put("workflow.id", f.Workflow.ID)
	put("workflow.type", f.Workflow.Type)
	put("workflow.status", f.Workflow.Status)
	put("operation.name", f.Operation.Name)
	put("operation.result", f.Operation.Result)
	put("operation.duration", f.Operation.Duration)
	put("error.type", f.Error.Type)
	put("error.code", f.Error.Code)
	put("error.message", f.Error.Message)
	put("error.category", f.Error.Category)
	put("exception.class", f.Exception.Class)
	put("exception.message", f.Exception.Message)
	put("exception.stack_trace", f.Exception.StackTrace)
	put("exception.file", f.Exception.File)
	put("exception.line", f.Exception.Line)
	put("source.module", f.Source.Module)
	put("source.function", f.Source.Function)
	put("source.file", f.Source.File)
	put("source.line", f.Source.Line)
	for _, kv := range f.Extra {
		put("x."+string(kv.Key), kv.Val)
	}
	return m
}

type accessCase struct {
	name string
	line string
	want map[string]string // nil: the parser must reject the line
}

func accessRun(t *testing.T, p Parser, cases []accessCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var f Fields
			ok := p.Parse([]byte(tc.line), &f)
			if tc.want == nil {
				require.False(t, ok, "%s must reject %q", p.Name(), tc.line)
				return
			}
			require.True(t, ok, "%s must accept %q", p.Name(), tc.line)
			require.Equal(t, tc.want, accessFlat(&f))
		})
	}
}

// accessForeignLines are lines of other formats that no parser in this
// family may accept (each parser's tests add the family members' lines).
var accessForeignLines = []accessCase{
	{name: "json", line: `{"time":"2026-11-25T21:43:45Z","level":"info","msg":"GET / HTTP/1.1 200","remote_addr":"127.0.0.1"}`},
	{name: "logfmt", line: `time=2026-11-25T21:43:45Z level=info msg="request served" method=GET path=/ status=200`},
	{name: "python", line: `2024-01-01 12:00:00,123 - app - INFO - msg`},
	{name: "python basic", line: `INFO:workflow_agent:generated workflow workflow_7ba4ba type=ai-assisted`},
	{name: "go log", line: `2026/11/25 21:46:20 msg with [brackets] and "quotes" 200 12`},
	{name: "plain", line: `Jan is a nice month to deploy 127.0.0.1 - - things`},
	{name: "plain warning", line: `WARNING: This is a development server. Do not use it in a production deployment.`},
	{name: "empty", line: ``},
	{name: "short", line: `x`},
	{name: "slog text", line: `time=2026-11-25T21:46:20.123Z level=INFO msg="GET /x" status=200`},
	{name: "zap console", line: `2026-11-25T21:46:20.123Z	INFO	app/main.go:12	started	{"port": 8080}`},
	{name: "glog", line: `I1125 21:46:20.123456   12345 main.go:42] Listening on :8080`},
	{name: "traceback", line: `Traceback (most recent call last):`},
	{name: "logrus text", line: `time="2026-11-25T21:46:20Z" level=info msg="API listen on /var/run/docker.sock"`},
}

var (
	accessLineNginx1   = `127.0.0.1 - - [25/Nov/2026:21:43:45 +0000] "GET / HTTP/1.1" 200 32 "http://logs.test/" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"`
	accessLineNginxQ   = `127.0.0.1 - - [25/Nov/2026:21:43:47 +0000] "GET /search?q=%22hello%20world%22&lang=zh-CN HTTP/1.1" 404 153 "-" "Mozilla/5.0 \x22quoted\x22 \x5Cbackslash"`
	accessLineNginxDsh = `127.0.0.1 - - [25/Nov/2026:21:43:47 +0000] "GET /health HTTP/1.1" 200 3 "-" "-"`
	accessLineApacheC  = `127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326`
	accessLineApacheCb = `127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"`
	accessLineMain     = `203.0.113.9 - alice [25/Nov/2026:21:43:45 +0100] "POST /api/v1/workflows HTTP/2.0" 502 157 "https://app.example/" "curl/8.5.0" "198.51.100.7, 10.0.0.2"`
	accessLineTimed    = `2001:db8::1 - - [25/Nov/2026:21:43:45 +0000] "GET /x HTTP/1.1" 200 5 "-" "curl/8.5.0" 0.123 rt=0.123 uct="0.001" uht="0.010" urt="0.011" cache=HIT`
	accessLineTLS      = `192.0.2.10 - - [25/Nov/2026:21:43:46 +0000] "\x16\x03\x01\x00\xF7\x01\x00\x00\xF3\x03\x03" 400 157 "-" "-"`
)

func TestAccessParser(t *testing.T) {
	accessRun(t, &AccessParser{}, []accessCase{
		{name: "nginx combined", line: accessLineNginx1, want: map[string]string{
			"format": "access-combined", "time": "2026-11-25T21:43:45Z",
			"request.ip": "127.0.0.1", "request.method": "GET", "request.path": "/", "request.protocol": "HTTP/1.1",
			"response.status#": "200", "response.size#": "32", "request.referer": "http://logs.test/",
			"request.user_agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
		}},
		{name: "nginx \\x22 escapes kept", line: accessLineNginxQ, want: map[string]string{
			"format": "access-combined", "time": "2026-11-25T21:43:47Z",
			"request.ip": "127.0.0.1", "request.method": "GET", "request.path": "/search?q=%22hello%20world%22&lang=zh-CN",
			"request.protocol": "HTTP/1.1", "response.status#": "404", "response.size#": "153",
			"request.user_agent": `Mozilla/5.0 \x22quoted\x22 \x5Cbackslash`,
		}},
		{name: "nginx dash referer and UA", line: accessLineNginxDsh, want: map[string]string{
			"format": "access-combined", "time": "2026-11-25T21:43:47Z",
			"request.ip": "127.0.0.1", "request.method": "GET", "request.path": "/health", "request.protocol": "HTTP/1.1",
			"response.status#": "200", "response.size#": "3", "request.user_agent": "-",
		}},
		{name: "apache common", line: accessLineApacheC, want: map[string]string{
			"format": "access-common", "time": "2000-10-10T20:55:36Z",
			"request.ip": "127.0.0.1", "user.id": "frank", "request.method": "GET", "request.path": "/apache_pb.gif",
			"request.protocol": "HTTP/1.0", "response.status#": "200", "response.size#": "2326",
		}},
		{name: "apache combined", line: accessLineApacheCb, want: map[string]string{
			"format": "access-combined", "time": "2000-10-10T20:55:36Z",
			"request.ip": "127.0.0.1", "user.id": "frank", "request.method": "GET", "request.path": "/apache_pb.gif",
			"request.protocol": "HTTP/1.0", "response.status#": "200", "response.size#": "2326",
			"request.referer": "http://www.example.com/start.html", "request.user_agent": "Mozilla/4.08 [en] (Win98; I ;Nav)",
		}},
		{name: "apache %b dash and escaped quote", line: `10.1.2.3 - - [01/Feb/2024:03:04:05 +0000] "GET /a\"b HTTP/1.1" 304 - "-" "Agent \"X\" \\ 1.0"`, want: map[string]string{
			"format": "access-combined", "time": "2024-02-01T03:04:05Z",
			"request.ip": "10.1.2.3", "request.method": "GET", "request.path": `/a\"b`, "request.protocol": "HTTP/1.1",
			"response.status#": "304", "request.user_agent": `Agent \"X\" \\ 1.0`,
		}},
		{name: "apache vhost_combined", line: `www.example.com:443 198.51.100.4 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 512 "-" "Wget/1.21"`, want: map[string]string{
			"format": "access-combined", "time": "2000-10-10T13:55:36Z", "request.host": "www.example.com:443",
			"request.ip": "198.51.100.4", "request.method": "GET", "request.path": "/", "request.protocol": "HTTP/1.1",
			"response.status#": "200", "response.size#": "512", "request.user_agent": "Wget/1.21",
		}},
		{name: "nginx $host prefix", line: `api.example.com 2001:db8::7 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 512`, want: map[string]string{
			"format": "access-common", "time": "2000-10-10T13:55:36Z", "request.host": "api.example.com",
			"request.ip": "2001:db8::7", "request.method": "GET", "request.path": "/", "request.protocol": "HTTP/1.1",
			"response.status#": "200", "response.size#": "512",
		}},
		{name: "apache hostname lookups and ident", line: `client-7.example.net ident42 bob [10/Oct/2000:13:55:36 -0000] "HEAD /index.html HTTP/1.1" 200 0`, want: map[string]string{
			"format": "access-common", "time": "2000-10-10T13:55:36Z",
			"request.ip": "client-7.example.net", "x.ident": "ident42", "user.id": "bob", "request.method": "HEAD",
			"request.path": "/index.html", "request.protocol": "HTTP/1.1", "response.status#": "200", "response.size#": "0",
		}},
		{name: "nginx main with x_forwarded_for", line: accessLineMain, want: map[string]string{
			"format": "access-combined", "time": "2026-11-25T20:43:45Z",
			"request.ip": "203.0.113.9", "user.id": "alice", "request.method": "POST", "request.path": "/api/v1/workflows",
			"request.protocol": "HTTP/2.0", "response.status#": "502", "response.size#": "157",
			"request.referer": "https://app.example/", "request.user_agent": "curl/8.5.0", "x.forwarded_for": "198.51.100.7, 10.0.0.2",
		}},
		{name: "nginx main with empty x_forwarded_for", line: `10.0.0.1 - - [25/Nov/2026:21:43:45 +0000] "GET / HTTP/1.1" 200 1 "-" "curl/8.5.0" "-"`, want: map[string]string{
			"format": "access-combined", "time": "2026-11-25T21:43:45Z",
			"request.ip": "10.0.0.1", "request.method": "GET", "request.path": "/", "request.protocol": "HTTP/1.1",
			"response.status#": "200", "response.size#": "1", "request.user_agent": "curl/8.5.0",
		}},
		{name: "IPv6 client, request_time and key=value timings", line: accessLineTimed, want: map[string]string{
			"format": "access-combined", "time": "2026-11-25T21:43:45Z",
			"request.ip": "2001:db8::1", "request.method": "GET", "request.path": "/x", "request.protocol": "HTTP/1.1",
			"response.status#": "200", "response.size#": "5", "request.user_agent": "curl/8.5.0",
			"request.duration#": "0.123", "x.rt#": "0.123", "x.uct#": "0.001", "x.uht#": "0.010", "x.urt#": "0.011", "x.cache": "HIT",
		}},
		{name: "trailing quoted non-IP and upstream list", line: `10.0.0.1 - - [25/Nov/2026:21:43:45 +0000] "GET / HTTP/1.1" 200 1 "-" "curl" "abc-tracking" 12 urt="0.001, 0.002" upstream=-`, want: map[string]string{
			"format": "access-combined", "time": "2026-11-25T21:43:45Z",
			"request.ip": "10.0.0.1", "request.method": "GET", "request.path": "/", "request.protocol": "HTTP/1.1",
			"response.status#": "200", "response.size#": "1", "request.user_agent": "curl",
			"x.extra_1": "abc-tracking", "x.extra_2#": "12", "x.urt": "0.001, 0.002",
		}},
		{name: "malformed request: TLS handshake", line: accessLineTLS, want: map[string]string{
			"format": "access-combined", "time": "2026-11-25T21:43:46Z",
			"request.ip": "192.0.2.10", "x.request": `\x16\x03\x01\x00\xF7\x01\x00\x00\xF3\x03\x03`,
			"response.status#": "400", "response.size#": "157", "request.user_agent": "-",
		}},
		{name: "malformed request: dash", line: `192.0.2.10 - - [25/Nov/2026:21:43:46 +0000] "-" 400 0 "-" "-"`, want: map[string]string{
			"format": "access-combined", "time": "2026-11-25T21:43:46Z",
			"request.ip": "192.0.2.10", "x.request": "-",
			"response.status#": "400", "response.size#": "0", "request.user_agent": "-",
		}},
		{name: "malformed request: empty", line: `192.0.2.10 - - [25/Nov/2026:21:43:46 +0000] "" 408 0 "-" "-"`, want: map[string]string{
			"format": "access-combined", "time": "2026-11-25T21:43:46Z",
			"request.ip": "192.0.2.10", "x.request": "",
			"response.status#": "408", "response.size#": "0", "request.user_agent": "-",
		}},
		{name: "HTTP/0.9 request line", line: `192.0.2.10 - - [25/Nov/2026:21:43:46 +0000] "GET /" 200 10`, want: map[string]string{
			"format": "access-common", "time": "2026-11-25T21:43:46Z",
			"request.ip": "192.0.2.10", "request.method": "GET", "request.path": "/",
			"response.status#": "200", "response.size#": "10",
		}},
		{name: "CONNECT authority target", line: `192.0.2.10 - - [25/Nov/2026:21:43:46 +0000] "CONNECT example.com:443 HTTP/1.1" 405 0 "-" "-"`, want: map[string]string{
			"format": "access-combined", "time": "2026-11-25T21:43:46Z",
			"request.ip": "192.0.2.10", "request.method": "CONNECT", "request.path": "example.com:443", "request.protocol": "HTTP/1.1",
			"response.status#": "405", "response.size#": "0", "request.user_agent": "-",
		}},
		{name: "gunicorn default access format", line: `127.0.0.1 - - [01/Jan/2024:12:00:00 +0000] "GET /api/items?id=3 HTTP/1.1" 200 17 "-" "python-requests/2.31.0"`, want: map[string]string{
			"format": "access-combined", "time": "2024-01-01T12:00:00Z",
			"request.ip": "127.0.0.1", "request.method": "GET", "request.path": "/api/items?id=3", "request.protocol": "HTTP/1.1",
			"response.status#": "200", "response.size#": "17", "request.user_agent": "python-requests/2.31.0",
		}},
		{name: "time with msec and single-digit zone hour", line: `127.0.0.1 - - [05/Mar/2025:01:02:03.456 +0530] "GET / HTTP/1.1" 200 0`, want: map[string]string{
			"format": "access-common", "time": "2025-03-04T19:32:03.456Z",
			"request.ip": "127.0.0.1", "request.method": "GET", "request.path": "/", "request.protocol": "HTTP/1.1",
			"response.status#": "200", "response.size#": "0",
		}},
		{name: "time without zone is local", line: `127.0.0.1 - - [05/Mar/2025:01:02:03] "GET / HTTP/1.1" 200 0`, want: map[string]string{
			"format": "access-common", "time": "2025-03-05T01:02:03Z", "time_local": "true",
			"request.ip": "127.0.0.1", "request.method": "GET", "request.path": "/", "request.protocol": "HTTP/1.1",
			"response.status#": "200", "response.size#": "0",
		}},
		{name: "status 000 has no status slot", line: `127.0.0.1 - - [05/Mar/2025:01:02:03 +0000] "GET / HTTP/1.1" 000 0 "-" "-"`, want: map[string]string{
			"format": "access-combined", "time": "2025-03-05T01:02:03Z",
			"request.ip": "127.0.0.1", "request.method": "GET", "request.path": "/", "request.protocol": "HTTP/1.1",
			"response.size#": "0", "request.user_agent": "-",
		}},
		{name: "user with space (basic auth)", line: `127.0.0.1 - John Smith [05/Mar/2025:01:02:03 +0000] "GET / HTTP/1.1" 401 0`, want: map[string]string{
			"format": "access-common", "time": "2025-03-05T01:02:03Z", "user.id": "John Smith",
			"request.ip": "127.0.0.1", "request.method": "GET", "request.path": "/", "request.protocol": "HTTP/1.1",
			"response.status#": "401", "response.size#": "0",
		}},
		{name: "reject bad time", line: `127.0.0.1 - - [32/Nov/2026:21:43:45 +0000] "GET / HTTP/1.1" 200 32 "-" "-"`},
		{name: "reject non-numeric status", line: `127.0.0.1 - - [25/Nov/2026:21:43:45 +0000] "GET / HTTP/1.1" OK 32 "-" "-"`},
		{name: "reject unterminated request", line: `127.0.0.1 - - [25/Nov/2026:21:43:45 +0000] "GET / HTTP/1.1 200 32`},
		{name: "reject missing size", line: `127.0.0.1 - - [25/Nov/2026:21:43:45 +0000] "GET / HTTP/1.1" 200`},
		{name: "reject two head tokens", line: `127.0.0.1 - [25/Nov/2026:21:43:45 +0000] "GET / HTTP/1.1" 200 32`},
		{name: "reject nginx error", line: `2026/11/25 21:43:45 [error] 19459#19459: *7 open() "/x" failed, client: 127.0.0.1, server: logs.test, request: "GET /favicon.ico HTTP/1.1", host: "127.0.0.1:18081"`},
		{name: "reject apache error", line: `[Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 35708:tid 4328636416] [client 72.15.99.187:1234] AH00128: File does not exist: /x`},
		{name: "reject uvicorn access", line: `INFO:     127.0.0.1:44104 - "GET /health HTTP/1.1" 200 OK`},
		{name: "reject syslog 3164", line: `<34>Oct 11 22:14:15 mymachine su[123]: 'su root' failed for lonvick on /dev/pts/8`},
		{name: "reject syslog 5424", line: `<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3"] An application event`},
	})
	accessRun(t, &AccessParser{}, accessForeignLines)
}

const accessCorpusDir = "/work/shared/corpus/samples"

// TestAccessCorpusCrossCheck runs every line of every corpus sample through
// all parsers of this family: each line must be taken by exactly the
// expected parsers (no false positives on the other formats), and the
// hand-checked sample records must come out with the expected slots.
func TestAccessCorpusCrossCheck(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(accessCorpusDir, "*"))
	if len(files) == 0 {
		t.Skip("corpus not available")
	}
	parsers := []Parser{&AccessParser{}, &NginxErrorParser{}, &ApacheErrorParser{}, &UvicornAccessParser{}, &UvicornParser{}, &Syslog5424Parser{}, &Syslog3164Parser{}}
	uviAccess := regexp.MustCompile(`^[A-Z]+: +[0-9]`)
	uviDefault := regexp.MustCompile(`^(INFO|ERROR|WARNING|DEBUG|CRITICAL|TRACE):\s`)
	for _, fn := range files {
		base := filepath.Base(fn)
		if strings.HasSuffix(base, ".expect.json") {
			continue
		}
		t.Run(base, func(t *testing.T) {
			b, err := os.ReadFile(fn)
			require.NoError(t, err)
			lines := strings.Split(string(b), "\n")
			for n, l := range lines {
				want := ""
				switch {
				case l == "":
				case base == "nginx-combined-access-utc.log":
					want = "access"
				case base == "nginx-error-utc.log":
					want = "nginx-error"
				case strings.HasPrefix(base, "fastapi-") && uviAccess.MatchString(l):
					want = "uvicorn-access+uvicorn"
				case strings.HasPrefix(base, "fastapi-") && uviDefault.MatchString(l):
					want = "uvicorn"
				}
				var got []string
				for _, p := range parsers {
					var f Fields
					if p.Parse([]byte(l), &f) {
						got = append(got, p.Name())
					}
				}
				require.Equal(t, want, strings.Join(got, "+"), "line %d: %q", n+1, l)
			}

			if !strings.HasPrefix(base, "nginx-") && !strings.HasPrefix(base, "fastapi-") {
				return // wrapped (Docker, FireLens) or other formats
			}
			eb, err := os.ReadFile(fn + ".expect.json")
			if err != nil {
				return
			}
			var exp struct {
				Records []struct {
					Line     int            `json:"line"`
					LastLine int            `json:"last_line"`
					Expect   map[string]any `json:"expect"`
					Source   map[string]any `json:"source"`
				} `json:"sample_records"`
			}
			require.NoError(t, json.Unmarshal(eb, &exp))
			checked := 0
			defer func() { require.NotZero(t, checked, "no sample record checked") }()
			for _, r := range exp.Records {
				var p Parser
				switch {
				case base == "nginx-combined-access-utc.log":
					p = &AccessParser{}
				case base == "nginx-error-utc.log":
					p = &NginxErrorParser{}
				case r.Source["format"] == "uvicorn-access":
					p = &UvicornAccessParser{}
				case r.Source["format"] == "uvicorn-default":
					p = &UvicornParser{}
				default:
					continue
				}
				line := lines[r.Line-1]
				var f Fields
				require.True(t, p.Parse([]byte(line), &f), "line %d", r.Line)
				for k, v := range r.Expect {
					var got string
					switch k {
					case "request.method":
						got = string(f.Request.Method.B)
					case "request.path":
						got = string(f.Request.Path.B)
						if i := strings.IndexByte(got, '?'); i >= 0 {
							got = got[:i] // the normalizer splits the query off
						}
					case "response.status":
						got = string(f.Response.Status.B)
						v = strconv.Itoa(int(v.(float64)))
					case "request.ip":
						got = string(f.Request.IP.B)
					case "request.user_agent":
						got = string(f.Request.UserAgent.B)
					case "message":
						got = string(f.Message.B)
					case "message_prefix":
						got = string(f.Message.B)
						if len(got) > len(v.(string)) {
							got = got[:len(v.(string))]
						}
					case "@timestamp":
						if !f.HasTime {
							got = "no time"
						} else {
							got = f.Time.UTC().Format("2006-01-02T15:04:05.000Z") // corpus zone is UTC
						}
					default:
						continue // level mapping etc. belong to the normalizer
					}
					require.Equal(t, v, got, "line %d %s", r.Line, k)
					checked++
				}
			}
		})
	}
}
