package parse

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRedisParser(t *testing.T) {
	p := &RedisParser{}
	require.Equal(t, "redis", p.Name())
	appRun(t, p, []appCase{
		{"master-notice", "1:M 25 Nov 2026 10:00:00.123 * Ready to accept connections tcp", &appWant{
			format: "redis", level: "*", msg: "Ready to accept connections tcp", time: "2026-11-25T10:00:00.123Z", local: true,
			extra: []string{"pid", "1", "role", "master"}}},
		{"replica-warning", "7:S 01 Dec 2026 23:59:59.999 # WARNING overcommit_memory is set to 0!", &appWant{
			format: "redis", level: "#", msg: "WARNING overcommit_memory is set to 0!", time: "2026-12-01T23:59:59.999Z", local: true,
			extra: []string{"pid", "7", "role", "replica"}}},
		{"child-verbose-one-digit-day", "4242:C 5 Nov 2026 10:00:02.500 - Child exited", &appWant{
			format: "redis", level: "-", msg: "Child exited", time: "2026-11-05T10:00:02.5Z", local: true,
			extra: []string{"pid", "4242", "role", "child"}}},
		{"sentinel-debug-empty", "3:X 25 Nov 2026 10:00:00.123 .", &appWant{
			format: "redis", level: ".", msg: "", time: "2026-11-25T10:00:00.123Z", local: true,
			extra: []string{"pid", "3", "role", "sentinel"}}},
		// negatives
		{"unknown-role", "1:Q 25 Nov 2026 10:00:00.123 * x", nil},
		{"unknown-mark", "1:M 25 Nov 2026 10:00:00.123 ! x", nil},
		{"bad-month", "1:M 25 Foo 2026 10:00:00.123 * x", nil},
		{"bad-day", "1:M 32 Nov 2026 10:00:00.123 * x", nil},
		{"no-pid", ":M 25 Nov 2026 10:00:00.123 * x", nil},
		{"glued-mark", "1:M 25 Nov 2026 10:00:00.123 *x", nil},
		{"old-format", "[1234] 25 Nov 10:00:00.123 * x", nil},
	})
	appCross(t, p, "redis")
}

func TestRubyLoggerParser(t *testing.T) {
	p := &RubyLoggerParser{}
	require.Equal(t, "ruby-logger", p.Name())
	appRun(t, p, []appCase{
		{"error-no-progname", "E, [2026-11-25T10:00:00.123456 #1234] ERROR -- : Rails error happened", &appWant{
			format: "ruby-logger", level: "ERROR", msg: "Rails error happened", time: "2026-11-25T10:00:00.123456Z", local: true,
			extra: []string{"pid", "1234"}}},
		{"info-progname", "I, [2026-11-25T10:00:00.123456 #99]  INFO -- sidekiq: Booting Sidekiq: v7", &appWant{
			format: "ruby-logger", level: "INFO", msg: "Booting Sidekiq: v7", logger: "sidekiq", time: "2026-11-25T10:00:00.123456Z", local: true,
			extra: []string{"pid", "99"}}},
		{"warn-empty-message", "W, [2026-11-25T10:00:00.123456 #1]  WARN -- :", &appWant{
			format: "ruby-logger", level: "WARN", msg: "", time: "2026-11-25T10:00:00.123456Z", local: true,
			extra: []string{"pid", "1"}}},
		{"any-with-zone", "A, [2026-11-25T10:00:00.123456+01:00 #1]   ANY -- app: hi", &appWant{
			format: "ruby-logger", level: "ANY", msg: "hi", logger: "app", time: "2026-11-25T09:00:00.123456Z",
			extra: []string{"pid", "1"}}},
		// negatives
		{"letter-disagrees", "E, [2026-11-25T10:00:00.123456 #1234]  INFO -- : x", nil},
		{"no-pid", "E, [2026-11-25T10:00:00.123456] ERROR -- : x", nil},
		{"no-dashes", "E, [2026-11-25T10:00:00.123456 #1234] ERROR x", nil},
		{"bad-time", "E, [2026-13-25T10:00:00.123456 #1234] ERROR -- : x", nil},
		{"lower-severity", "E, [2026-11-25T10:00:00.123456 #1234] error -- : x", nil},
	})
	appCross(t, p, "ruby-logger")
}
