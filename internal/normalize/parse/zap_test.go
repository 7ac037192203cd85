package parse

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestZapConsoleParser(t *testing.T) {
	p := &ZapConsoleParser{}
	require.Equal(t, "zap-console", p.Name())
	const ts = "2026-11-25T21:47:12.277Z"
	appRun(t, p, []appCase{
		// go-zap-development-console.log
		{"info-ctx", "2026-11-25T21:47:12.277Z\tINFO\tthirdparty/main.go:69\tstarting workflow-agent\t{\"version\": \"0.3.1\", \"pid\": 28246}", &appWant{
			format: "zap-console", level: "INFO", file: "thirdparty/main.go", line: "69", msg: "starting workflow-agent", time: ts,
			extra: []string{"version", "0.3.1", "pid", "28246"}}},
		{"debug-tracking", "2026-11-25T21:47:12.277Z\tDEBUG\tthirdparty/main.go:72\tprompt received\t{\"tracking_id\": \"5f0c6e2a-8b1d-4e3f-a7c9-1d2e3f4a5b6c\", \"tokens\": 120}", &appWant{
			format: "zap-console", level: "DEBUG", file: "thirdparty/main.go", line: "72", msg: "prompt received", time: ts,
			trackingID: "5f0c6e2a-8b1d-4e3f-a7c9-1d2e3f4a5b6c", extra: []string{"tokens", "120"}}},
		{"error-ctx", "2026-11-25T21:47:12.277Z\tERROR\tthirdparty/main.go:78\tmodel call failed\t{\"tracking_id\": \"5f0c6e2a-8b1d-4e3f-a7c9-1d2e3f4a5b6c\", \"error\": \"context deadline exceeded\", \"model\": \"gpt-4o-mini\", \"provider\": \"openai\"}", &appWant{
			format: "zap-console", level: "ERROR", file: "thirdparty/main.go", line: "78", msg: "model call failed", time: ts,
			trackingID: "5f0c6e2a-8b1d-4e3f-a7c9-1d2e3f4a5b6c", errMsg: "context deadline exceeded",
			extra: []string{"model", "gpt-4o-mini", "provider", "openai"}}},
		{"no-ctx", "2026-11-25T21:47:12.277Z\tINFO\tthirdparty/main.go:81\tprocessed 20 prompts", &appWant{
			format: "zap-console", level: "INFO", file: "thirdparty/main.go", line: "81", msg: "processed 20 prompts", time: ts}},
		// zap docs / encoder variants
		{"logger-and-caller", "2026-11-25T21:47:12.277+0100\tdebug\tapp.http\tserver/handler.go:42\trequest served\t{\"status\": 200}", &appWant{
			format: "zap-console", level: "debug", logger: "app.http", file: "server/handler.go", line: "42", msg: "request served",
			time: "2026-11-25T20:47:12.277Z"}},
		{"logger-no-caller", "2026-11-25T21:47:12.277Z\tWARN\tmyLogger\tcareful now", &appWant{
			format: "zap-console", level: "WARN", logger: "myLogger", msg: "careful now", time: ts}},
		{"message-only", "2026-11-25T21:47:12.277Z\tDPANIC\tsomething odd happened", &appWant{
			format: "zap-console", level: "DPANIC", msg: "something odd happened", time: ts}},
		{"epoch-exp", "1.7325700322770002e+09\tinfo\tgot epoch time", &appWant{
			format: "zap-console", level: "info", msg: "got epoch time", time: "2024-11-25T21:27:12.277000188Z"}},
		{"epoch-plain", "1732570032.277\tinfo\tx", &appWant{
			format: "zap-console", level: "info", msg: "x", time: "2024-11-25T21:27:12.277Z"}},
		{"epoch-nanos", "1732570032277000000\tFATAL\tx", &appWant{
			format: "zap-console", level: "FATAL", msg: "x", time: "2024-11-25T21:27:12.277Z"}},
		{"no-time", "INFO\tmain.go:12\thello\t{\"k\": true, \"n\": null, \"o\": {\"a\": [1, 2]}}", &appWant{
			format: "zap-console", level: "INFO", file: "main.go", line: "12", msg: "hello",
			extra: []string{"k", "true", "n", "", "o", `{"a": [1, 2]}`}}},
		{"escaped-ctx", "2026-11-25T21:47:12.277Z\tINFO\tm.go:1\tq\t{\"query\": \"a \\\"b\\\"\\n\"}", &appWant{
			format: "zap-console", level: "INFO", file: "m.go", line: "1", msg: "q", time: ts,
			extra: []string{"query", "a \"b\"\n"}}},
		{"invalid-json-stays-in-message", "2026-11-25T21:47:12.277Z\tINFO\tmain.go:1\tmsg\t{not json}", &appWant{
			format: "zap-console", level: "INFO", file: "main.go", line: "1", msg: "msg\t{not json}", time: ts}},
		{"invalid-json-no-caller", "2026-11-25T21:47:12.277Z\tINFO\tmsg\t{not json}", &appWant{
			format: "zap-console", level: "INFO", msg: "msg\t{not json}", time: ts}},
		{"empty-message-ctx", "2026-11-25T21:47:12.277Z\tINFO\tmain.go:1\t\t{\"a\": 1}", &appWant{
			format: "zap-console", level: "INFO", file: "main.go", line: "1", msg: "", time: ts, extra: []string{"a", "1"}}},
		{"message-with-space-first", "2026-11-25T21:47:12.277Z\tINFO\tstarting up\tsecond part", &appWant{
			format: "zap-console", level: "INFO", msg: "starting up\tsecond part", time: ts}},
		// negatives
		{"space-separated", "2026-11-25T21:47:12.277Z INFO main.go:1 msg", nil},
		{"unknown-level", "2026-11-25T21:47:12.277Z\tNOTICE\tmsg", nil},
		{"mixed-case-level", "2026-11-25T21:47:12.277Z\tInfo\tmsg", nil},
		{"no-level", "2026-11-25T21:47:12.277Z\tmsg\tmore", nil},
		{"bad-time", "yesterday\tINFO\tmsg", nil},
		{"small-epoch", "12\tINFO\tmsg", nil},
		{"iso-trailing", "2026-11-25T21:47:12.277Zx\tINFO\tmsg", nil},
		{"tsv", "a\tb\tc", nil},
	})
	appCross(t, p, "zap-console")
}
