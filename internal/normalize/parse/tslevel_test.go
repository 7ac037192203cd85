package parse

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// ---- shared test helpers for the hand-written text parsers (prefix "app") ----

// appWant lists the expected slots. Empty strings mean "unset or empty";
// time is RFC 3339 (UTC) for dated formats, or "01-02T15:04:05.000000"
// when noYear is set; extra must match f.Extra exactly (in order).
type appWant struct {
	format     string
	level      string
	msg        string
	logger     string
	time       string
	local      bool
	noYear     bool
	file       string
	line       string
	module     string
	function   string
	excClass   string
	excMsg     string
	service    string
	traceID    string
	spanID     string
	trackingID string
	errMsg     string
	extra      []string // key, value, key, value, ...
}

type appCase struct {
	name string
	line string
	want *appWant // nil: the parser must reject the line
}

func appCheck(t *testing.T, p Parser, line string, w *appWant) {
	t.Helper()
	var f Fields
	ok := p.Parse([]byte(line), &f)
	if w == nil {
		require.False(t, ok, "%s must reject %q (got format %q, msg %q)", p.Name(), line, f.Format, f.Message.B)
		return
	}
	require.True(t, ok, "%s must accept %q", p.Name(), line)
	require.Equal(t, w.format, f.Format, "format")
	require.Equal(t, w.level, string(f.Level), "level")
	require.Equal(t, w.msg, string(f.Message.B), "message")
	require.Equal(t, KindString, f.Message.Kind, "message kind")
	require.Equal(t, w.logger, string(f.Logger.B), "logger")
	switch {
	case w.time == "":
		require.False(t, f.HasTime, "HasTime")
	case w.noYear:
		require.True(t, f.HasTime, "HasTime")
		require.True(t, f.TimeNoYear, "TimeNoYear")
		require.Equal(t, w.time, f.Time.Format("01-02T15:04:05.000000"), "time")
	default:
		require.True(t, f.HasTime, "HasTime")
		require.False(t, f.TimeNoYear, "TimeNoYear")
		require.Equal(t, w.time, f.Time.UTC().Format(time.RFC3339Nano), "time")
	}
	if w.time != "" {
		require.Equal(t, w.local, f.TimeLocal, "TimeLocal")
	}
	require.Equal(t, w.file, string(f.Source.File.B), "source.file")
	require.Equal(t, w.line, string(f.Source.Line.B), "source.line")
	if w.line != "" {
		require.Equal(t, KindNumber, f.Source.Line.Kind, "source.line kind")
	}
	require.Equal(t, w.module, string(f.Source.Module.B), "source.module")
	require.Equal(t, w.function, string(f.Source.Function.B), "source.function")
	require.Equal(t, w.excClass, string(f.Exception.Class.B), "exception.class")
	require.Equal(t, w.excMsg, string(f.Exception.Message.B), "exception.message")
	require.Equal(t, w.service, string(f.Service.B), "service")
	require.Equal(t, w.traceID, string(f.TraceID.B), "trace_id")
	require.Equal(t, w.spanID, string(f.SpanID.B), "span_id")
	require.Equal(t, w.trackingID, string(f.TrackingID.B), "tracking_id")
	require.Equal(t, w.errMsg, string(f.Error.Message.B), "error.message")
	var extra []string
	for _, kv := range f.Extra {
		extra = append(extra, string(kv.Key), string(kv.Val.B))
	}
	require.Equal(t, w.extra, extra, "extra")
}

func appRun(t *testing.T, p Parser, cases []appCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			appCheck(t, p, c.line, c.want)
		})
	}
}

// appOtherLines are lines of formats none of the parsers in this group may
// accept (the structured fallback ts-level excepted where noted by
// appTSLed).
var appOtherLines = []string{
	"",
	" ",
	"hello world",
	"Traceback (most recent call last):",
	`  File "x.py", line 3, in f`,
	"KeyError: 'x'",
	"agent.PlannerError: cannot plan workflow for prompt 'please fail'",
	"During handling of the above exception, another exception occurred:",
	"main.main()",
	"\t/tmp/cw/go/slogtext/main.go:67 +0x79a",
	"goroutine 1 [running]:",
	"\tat com.x.Y(Y.java:10)",
	"Caused by: java.lang.X: y",
	"java.lang.NullPointerException: null",
	"\t... 42 more",
	`{"level":"info","msg":"hello","time":"2026-11-25T21:46:20Z"}`,
	`{"asctime": "2026-11-25 21:45:15,858", "levelname": "INFO", "name": "workflow_engine", "message": "workflow started"}`,
	`time=2026-11-25T21:46:20.770Z level=INFO source=/tmp/cw/go/slogtext/main.go:26 msg="workflow started" service=workflow-runner`,
	`time="2026-11-25T21:48:55.480680079Z" level=info msg="Starting up"`,
	`logger=settings t=2025-04-24T19:51:48.520963849Z level=info msg="Starting Grafana" version=11.5.2`,
	`127.0.0.1 - - [25/Nov/2026:21:43:45 +0000] "GET /favicon.ico HTTP/1.1" 404 153 "-" "curl/8.5.0"`,
	`2026/11/25 21:43:43 [notice] 19457#19457: using the "epoll" event method`,
	`2026/11/25 21:43:45 [error] 19458#19458: *7 open() "/tmp/www/favicon.ico" failed (2: No such file or directory), client: 127.0.0.1`,
	`[Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 35708:tid 4328636416] [client 72.15.99.187] File does not exist: /usr/local/apache2/htdocs/favicon.ico`,
	"Nov 25 21:43:43 myhost sshd[1234]: Accepted publickey for root from 10.0.0.1 port 22 ssh2",
	"<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - 'su root' failed for lonvick on /dev/pts/8",
	"INFO:     Started server process [22050]",
	`INFO:     127.0.0.1:54536 - "POST /generate-workflow HTTP/1.1" 200 OK`,
	"ERROR:    Exception in ASGI application",
	"WARNING: This is a development server. Do not use it in a production deployment.",
	" * Serving Flask app 'app.py'",
	"2026-11-25T21:52:10.674579677+00:00 stderr F [workflow-runner] 2026/11/25 21:52:10 starting workflow-runner",
	"E: Unable to locate package foo",
	"Error: connect ECONNREFUSED 127.0.0.1:5432",
	"12345",
	"C:\\Users\\me: permission denied",
	"\x00\x01\x02\xff\xfe",
}

// appFormatLines has a few accepted lines per parser; every parser must
// reject the lines of the other parsers (ts-level excepted: it accepts any
// line that starts with an ISO timestamp).
var appFormatLines = map[string][]string{
	"python": {
		"ERROR:workflow_agent:workflow generation failed tracking_id=03c4c8af-2c84-41c3-af19-2afacf9e0c84",
		"INFO:uvicorn.error:Started server process [22050]",
		"WARNING:root:disk almost full",
		"2024-01-15 10:30:45,123 - myapp.db - WARNING - slow query took 2.5s",
		"2024-01-15 10:30:45,123 [INFO] uvicorn.error: Started server process [1]",
		"[2024-01-15 10:30:45,123] ERROR in app: Exception on /boom [GET]",
		"2024-01-15 10:30:45,123:ERROR:root:bad thing",
		"INFO 2024-01-15 10:30:45,123 views 4321 140735 hello from django",
		"2024-01-15 10:30:45.123 | INFO     | __main__:<module>:12 - loguru says hi",
		"[2024-01-15 10:30:45 +0000] [12345] [INFO] Starting gunicorn 21.2.0",
		"[2024-01-15 10:30:45,123: INFO/MainProcess] Connected to redis://localhost:6379/0",
		"2024-01-15 10:30:45,123 myapp.area1  ERROR    The five boxing wizards jump quickly.",
	},
	"go-log": {
		"[workflow-runner] 2026/11/25 21:46:20 starting workflow-runner version=1.4.2 go=go1",
		"2009/11/10 23:00:00 Hello, log",
		"2009/11/10 23:00:00.123123 main.go:12: with micros and file",
		"2009/11/10 23:00:00 /home/me/src/app/server.go:88: long file",
		"myapp: 2009/11/10 23:00:00 prefixed",
	},
	"go-panic": {
		"panic: assignment to entry in nil map",
		"panic: runtime error: index out of range [5] with length 3",
		"fatal error: concurrent map writes",
		"panic: some error [recovered]",
	},
	"zap-console": {
		"2026-11-25T21:47:12.277Z\tINFO\tthirdparty/main.go:69\tstarting workflow-agent\t{\"version\": \"0.3.1\", \"pid\": 28246}",
		"2026-11-25T21:47:12.277Z\tINFO\tthirdparty/main.go:81\tprocessed 20 prompts",
		"2026-11-25T21:47:12.277+0100\tdebug\tapp.http\tserver/handler.go:42\trequest served\t{\"status\": 200}",
		"1.7325700322770002e+09\tinfo\tgot epoch time",
	},
	"klog": {
		"E0517 15:04:22.619632 1952452992 logging_unittest.cc:253] Log every 3, iteration 19",
		"I0517 15:04:22.619768      52992 logging_unittest.cc:269] const array",
		`I1025 00:15:15.525108       1 controller.go:116] "Pod status updated" pod="kube-system/kubedns" status="ready"`,
	},
	"java": {
		"2024-01-15 10:30:45.123  INFO 12345 --- [           main] c.e.demo.DemoApplication                 : Started DemoApplication in 2.5 seconds (JVM running for 3.1)",
		"2024-01-15T10:30:45.123+01:00  INFO 12345 --- [demo] [           main] c.e.demo.DemoApplication                 : Started DemoApplication in 2.5 seconds",
		"10:30:45.123 [main] INFO  com.example.App - message",
		"2024-01-15 10:30:45,123 INFO  [main] com.example.App - message",
		"2024-01-15 10:30:45.123 [main] ERROR com.example.App - message",
		"15-Jan-2024 10:30:45.123 INFO [main] org.apache.catalina.startup.Catalina.start Server startup in [1234] milliseconds",
		"[2024-01-15T10:30:45,123][INFO ][o.e.n.Node               ] [node-1] started",
		"17/06/09 20:10:40 INFO executor.CoarseGrainedExecutorBackend: Registered signal handlers for [TERM, HUP, INT]",
		"081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_38865049064139660 terminating",
		"2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774] - Notification time out: 3200",
	},
	"redis": {
		"1:M 25 Nov 2026 10:00:00.123 * Ready to accept connections tcp",
		"12:C 05 Nov 2026 10:00:02.500 - Child exited",
		"1:C 25 Apr 2024 05:32:35.018 * oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo",
	},
	"ruby-logger": {
		"E, [2026-11-25T10:00:00.123456 #1234] ERROR -- : Rails error happened",
		"I, [2026-11-25T10:00:00.123456 #99]  INFO -- sidekiq: Booting Sidekiq",
	},
	"alb":       {albLineHTTP, albLineErr},
	"openstack": {osLineWSGI, "2023-01-02 03:04:05.678 42 ERROR oslo_service.service [-] Error starting thread."},
	"haproxy":   {haLineHTTP},
	"logcat":    {"03-17 16:13:38.811  1702  2395 D WindowManager: printFreezingDisplayLogs opening app"},
	"envoy":     {envoyLine, istioLine},
	"ts-level": {
		"2024-01-15T10:30:45.123Z INFO starting worker",
		"2024-01-15T10:30:45+01:00 [warn] disk almost full",
		"2024-04-25T05:32:35.584725130Z  * Serving Flask app 'app.py'",
	},
}

// appCross checks that p rejects the other formats' lines and the generic
// non-matching lines.
func appCross(t *testing.T, p Parser, self ...string) {
	t.Helper()
	isSelf := func(name string) bool {
		for _, s := range self {
			if s == name {
				return true
			}
		}
		return false
	}
	for i, l := range appOtherLines {
		t.Run("other/"+string(rune('a'+i%26))+"_"+appShort(l), func(t *testing.T) {
			appCheck(t, p, l, nil)
		})
	}
	for name, lines := range appFormatLines {
		if isSelf(name) {
			continue
		}
		for _, l := range lines {
			if p.Name() == "ts-level" && appTSLed(l) {
				continue
			}
			t.Run("cross/"+name+"/"+appShort(l), func(t *testing.T) {
				appCheck(t, p, l, nil)
			})
		}
	}
}

// appTSLed reports whether l starts with an ISO timestamp (optionally
// bracketed): such lines are ts-level's by design.
func appTSLed(l string) bool {
	b := []byte(l)
	if len(b) > 0 && b[0] == '[' {
		b = b[1:]
	}
	_, _, _, ok := ISO(b)
	return ok
}

func appShort(s string) string {
	if len(s) > 24 {
		s = s[:24]
	}
	return s
}

// ---- ts-level ----

func TestTimestampLevelParser(t *testing.T) {
	p := &TimestampLevelParser{}
	require.Equal(t, "ts-level", p.Name())
	appRun(t, p, []appCase{
		{"iso-z-upper", "2024-01-15T10:30:45.123Z INFO starting worker", &appWant{
			format: "ts-level", level: "INFO", msg: "starting worker", time: "2024-01-15T10:30:45.123Z"}},
		{"offset-bracket-lower", "2024-01-15T10:30:45+01:00 [warn] disk almost full", &appWant{
			format: "ts-level", level: "warn", msg: "disk almost full", time: "2024-01-15T09:30:45Z"}},
		{"space-sep-local-colon", "2024-01-15 10:30:45,123 Error: connection refused", &appWant{
			format: "ts-level", level: "Error", msg: "connection refused", time: "2024-01-15T10:30:45.123Z", local: true}},
		{"bracketed-ts", "[2024-01-15T10:30:45.000001Z] CRITICAL database down", &appWant{
			format: "ts-level", level: "CRITICAL", msg: "database down", time: "2024-01-15T10:30:45.000001Z"}},
		{"dash-sep", "2024-01-15T10:30:45Z - ERR - broken pipe", &appWant{
			format: "ts-level", level: "ERR", msg: "broken pipe", time: "2024-01-15T10:30:45Z"}},
		{"pipe-sep-padded", "2024-01-15T10:30:45Z | NOTICE  | config reloaded", &appWant{
			format: "ts-level", level: "NOTICE", msg: "config reloaded", time: "2024-01-15T10:30:45Z"}},
		{"angle", "2024-01-15T10:30:45Z <emerg> kernel panic", &appWant{
			format: "ts-level", level: "emerg", msg: "kernel panic", time: "2024-01-15T10:30:45Z"}},
		{"level-only", "2024-01-15T10:30:45Z FATAL", &appWant{
			format: "ts-level", level: "FATAL", msg: "", time: "2024-01-15T10:30:45Z"}},
		{"tab", "2024-01-15T10:30:45Z\ttrace\tentering loop", &appWant{
			format: "ts-level", level: "trace", msg: "entering loop", time: "2024-01-15T10:30:45Z"}},
		{"docker-timestamps", "2024-04-25T05:32:35.584725130Z  * Serving Flask app 'app.py'", &appWant{
			format: "ts-text", msg: "* Serving Flask app 'app.py'", time: "2024-04-25T05:32:35.58472513Z"}},
		{"docker-timestamps-redis", "2024-04-25T05:32:35.019558005Z 1:C 25 Apr 2024 05:32:35.018 * Redis is starting", &appWant{
			format: "ts-text", msg: "1:C 25 Apr 2024 05:32:35.018 * Redis is starting", time: "2024-04-25T05:32:35.019558005Z"}},
		{"capitalised-bare-word-is-text", "2024-01-15T10:30:45Z Error occurred while saving", &appWant{
			format: "ts-text", msg: "Error occurred while saving", time: "2024-01-15T10:30:45Z"}},
		{"level-prefix-of-word-is-text", "2024-01-15T10:30:45Z INFORMATIONAL stuff", &appWant{
			format: "ts-text", msg: "INFORMATIONAL stuff", time: "2024-01-15T10:30:45Z"}},
		{"ts-only", "2024-01-15T10:30:45Z", &appWant{
			format: "ts-text", msg: "", time: "2024-01-15T10:30:45Z"}},
		{"python-asctime-too", "2024-01-15 10:30:45,123 - myapp - INFO - hi", &appWant{
			format: "ts-text", msg: "- myapp - INFO - hi", time: "2024-01-15T10:30:45.123Z", local: true}},
		{"postgres-pid-log", "2026-11-25 10:00:00.123 UTC [1234] LOG:  database system is ready to accept connections", &appWant{
			format: "ts-level", level: "LOG", msg: "database system is ready to accept connections", time: "2026-11-25T10:00:00.123Z",
			extra: []string{"pid", "1234"}}},
		{"postgres-pid-error", "2026-11-25 10:00:00.123 UTC [1235] ERROR:  relation \"foo\" does not exist", &appWant{
			format: "ts-level", level: "ERROR", msg: "relation \"foo\" does not exist", time: "2026-11-25T10:00:00.123Z",
			extra: []string{"pid", "1235"}}},
		{"mysql-thread-bracket", "2026-11-25T10:00:00.123456Z 0 [Warning] [MY-010068] [Server] CA certificate ca.pem is self signed.", &appWant{
			format: "ts-level", level: "Warning", msg: "[MY-010068] [Server] CA certificate ca.pem is self signed.", time: "2026-11-25T10:00:00.123456Z",
			extra: []string{"thread", "0"}}},
		{"mysql-note", "2026-11-25T10:00:00.123456Z 8 [Note] Aborted connection 8", &appWant{
			format: "ts-level", level: "Note", msg: "Aborted connection 8", time: "2026-11-25T10:00:00.123456Z",
			extra: []string{"thread", "8"}}},
		{"monolog-laravel", "[2024-01-15 10:30:45] production.ERROR: Laravel message {\"exception\":\"boom\"} []", &appWant{
			format: "ts-level", level: "ERROR", logger: "production", msg: "Laravel message {\"exception\":\"boom\"} []", time: "2024-01-15T10:30:45Z", local: true}},
		{"monolog-dotted-word-is-text", "2024-01-15T10:30:45Z app.Error: something", &appWant{
			format: "ts-text", msg: "app.Error: something", time: "2024-01-15T10:30:45Z"}},
		{"weak-word-bare-is-text", "2024-01-15T10:30:45Z log rotated", &appWant{
			format: "ts-text", msg: "log rotated", time: "2024-01-15T10:30:45Z"}},
		{"number-without-level-is-text", "2024-01-15T10:30:45Z 42 apples", &appWant{
			format: "ts-text", msg: "42 apples", time: "2024-01-15T10:30:45Z"}},
		// negatives
		{"cri", "2026-11-25T21:52:10.674579677+00:00 stderr F hello", nil},
		{"glued", "2024-01-15T10:30:45ZINFO x", nil},
		{"date-only", "2024-01-15 hello", nil},
		{"bad-month", "2024-13-15T10:30:45Z INFO x", nil},
		{"year-out-of-range", "0001-01-15T10:30:45Z INFO x", nil},
		{"unclosed-bracket", "[2024-01-15T10:30:45Z INFO x", nil},
		{"slashed", "2024/01/15 10:30:45 INFO x", nil},
		{"version", "1.2.3 INFO x", nil},
	})
	appCross(t, p, "ts-level")
}
