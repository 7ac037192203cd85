package parse

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestGoLogParser(t *testing.T) {
	p := &GoLogParser{}
	require.Equal(t, "go-log", p.Name())
	appRun(t, p, []appCase{
		// go-std-slogtext-panic-stderr.log
		{"prefix-bracket", "[workflow-runner] 2026/11/25 21:46:20 starting workflow-runner version=1.4.2 go=go1", &appWant{
			format: "go-log", logger: "workflow-runner", msg: "starting workflow-runner version=1.4.2 go=go1",
			time: "2026-11-25T21:46:20Z", local: true}},
		{"prefix-bracket-2", "[workflow-runner] 2026/11/25 21:46:20 deferred cleanup ran", &appWant{
			format: "go-log", logger: "workflow-runner", msg: "deferred cleanup ran", time: "2026-11-25T21:46:20Z", local: true}},
		// log package docs
		{"std-flags", "2009/11/10 23:00:00 Hello, log", &appWant{
			format: "go-log", msg: "Hello, log", time: "2009-11-10T23:00:00Z", local: true}},
		{"microseconds", "2009/11/10 23:00:00.123123 tick", &appWant{
			format: "go-log", msg: "tick", time: "2009-11-10T23:00:00.123123Z", local: true}},
		{"shortfile", "2009/11/10 23:00:00 main.go:12: with file", &appWant{
			format: "go-log", file: "main.go", line: "12", msg: "with file", time: "2009-11-10T23:00:00Z", local: true}},
		{"micro-longfile", "2009/11/10 23:00:00.000001 /home/me/src/app/server.go:88: long file", &appWant{
			format: "go-log", file: "/home/me/src/app/server.go", line: "88", msg: "long file",
			time: "2009-11-10T23:00:00.000001Z", local: true}},
		{"unknown-file", "2009/11/10 23:00:00 ???:0: no caller", &appWant{
			format: "go-log", file: "???", line: "0", msg: "no caller", time: "2009-11-10T23:00:00Z", local: true}},
		{"prefix-colon", "myapp: 2009/11/10 23:00:00 prefixed", &appWant{
			format: "go-log", logger: "myapp", msg: "prefixed", time: "2009-11-10T23:00:00Z", local: true}},
		{"prefix-plain", "worker 2009/11/10 23:00:00 main.go:7: x", &appWant{
			format: "go-log", logger: "worker", file: "main.go", line: "7", msg: "x", time: "2009-11-10T23:00:00Z", local: true}},
		{"msgprefix-bracket", "2009/11/10 23:00:00 main.go:12: [api] listening on :8080", &appWant{
			format: "go-log", logger: "api", file: "main.go", line: "12", msg: "listening on :8080", time: "2009-11-10T23:00:00Z", local: true}},
		{"msgprefix-no-file", "2009/11/10 23:00:00 [db] connected", &appWant{
			format: "go-log", logger: "db", msg: "connected", time: "2009-11-10T23:00:00Z", local: true}},
		{"slog-default-handler", "2023/08/04 16:09:19 INFO hello count=3", &appWant{
			format: "go-log", level: "INFO", msg: "hello count=3", time: "2023-08-04T16:09:19Z", local: true}},
		{"slog-default-handler-offset", "2023/08/04 16:09:19 main.go:9: ERROR+2 bad thing err=x", &appWant{
			format: "go-log", level: "ERROR+2", file: "main.go", line: "9", msg: "bad thing err=x", time: "2023-08-04T16:09:19Z", local: true}},
		{"logutils", "2023/08/04 16:09:19 [WARN] serf: EventMemberFailed: node1", &appWant{
			format: "go-log", level: "WARN", msg: "serf: EventMemberFailed: node1", time: "2023-08-04T16:09:19Z", local: true}},
		{"logutils-err-with-prefix", "[agent] 2023/08/04 16:09:19 [ERR] raft: failed", &appWant{
			format: "go-log", level: "ERR", logger: "agent", msg: "raft: failed", time: "2023-08-04T16:09:19Z", local: true}},
		{"info-word-not-level", "2023/08/04 16:09:19 INFORMATION follows", &appWant{
			format: "go-log", msg: "INFORMATION follows", time: "2023-08-04T16:09:19Z", local: true}},
		{"colon-in-message-not-file", "2009/11/10 23:00:00 error: x.txt:3: bad", &appWant{
			format: "go-log", msg: "error: x.txt:3: bad", time: "2009-11-10T23:00:00Z", local: true}},
		{"empty-message", "2009/11/10 23:00:00 ", &appWant{
			format: "go-log", msg: "", time: "2009-11-10T23:00:00Z", local: true}},
		{"prefix-bracket-spaces", "[my app] 2009/11/10 23:00:00 x", &appWant{
			format: "go-log", logger: "my app", msg: "x", time: "2009-11-10T23:00:00Z", local: true}},
		// negatives
		{"prose-with-date", "Downloaded file at 2009/11/10 23:00:00 ok", nil},
		{"nginx-notice", `2026/11/25 21:43:43 [notice] 19457#19457: using the "epoll" event method`, nil},
		{"nginx-error", `2026/11/25 21:43:45 [error] 19458#0: *7 open() failed`, nil},
		{"date-only", "2009/11/10 hello", nil},
		{"time-only", "23:00:00 hello", nil},
		{"glued", "2009/11/10 23:00:00hello", nil},
		{"numeric-prefix", "12 2009/11/10 23:00:00 x", nil},
		{"logfmt-prefix", "time=x 2009/11/10 23:00:00 x", nil},
		{"bad-date", "2009/13/10 23:00:00 x", nil},
		{"prefix-too-long", "a very long prefix that goes on and on and on and on and on and on 2009/11/10 23:00:00 x", nil},
	})
	appCross(t, p, "go-log")
}

func TestGoPanicParser(t *testing.T) {
	p := &GoPanicParser{}
	require.Equal(t, "go-panic", p.Name())
	appRun(t, p, []appCase{
		{"nil-map", "panic: assignment to entry in nil map", &appWant{
			format: "go-panic", msg: "panic: assignment to entry in nil map", excClass: "panic", excMsg: "assignment to entry in nil map"}},
		{"index", "panic: runtime error: index out of range [5] with length 3", &appWant{
			format: "go-panic", msg: "panic: runtime error: index out of range [5] with length 3", excClass: "panic",
			excMsg: "runtime error: index out of range [5] with length 3"}},
		{"fatal", "fatal error: concurrent map writes", &appWant{
			format: "go-panic", msg: "fatal error: concurrent map writes", excClass: "fatal error", excMsg: "concurrent map writes"}},
		{"deadlock", "fatal error: all goroutines are asleep - deadlock!", &appWant{
			format: "go-panic", msg: "fatal error: all goroutines are asleep - deadlock!", excClass: "fatal error",
			excMsg: "all goroutines are asleep - deadlock!"}},
		{"recovered", "panic: some error [recovered]", &appWant{
			format: "go-panic", msg: "panic: some error [recovered]", excClass: "panic", excMsg: "some error",
			extra: []string{"recovered", "true"}}},
		{"repanicked", "panic: boom [recovered, repanicked]", &appWant{
			format: "go-panic", msg: "panic: boom [recovered, repanicked]", excClass: "panic", excMsg: "boom",
			extra: []string{"recovered", "true"}}},
		{"nil-deref", "panic: runtime error: invalid memory address or nil pointer dereference", &appWant{
			format: "go-panic", msg: "panic: runtime error: invalid memory address or nil pointer dereference", excClass: "panic",
			excMsg: "runtime error: invalid memory address or nil pointer dereference"}},
		// negatives
		{"empty", "panic: ", nil},
		{"no-space", "panic:x", nil},
		{"nested", "\tpanic: inner", nil},
		{"word", "panicking: no", nil},
		{"upper", "PANIC: x", nil},
		{"signal", "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x0]", nil},
	})
	appCross(t, p, "go-panic")
}
