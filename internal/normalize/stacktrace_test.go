package normalize

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestAnalyzeTraceFrames(t *testing.T) {
	cases := []struct {
		name, text                 string
		class, message, file, line string
	}{
		{"java", "java.lang.IllegalStateException: bad\n\tat com.example.App.main(App.java:10)\n\tat x.Y.z(Y.java:3)",
			"java.lang.IllegalStateException", "bad", "App.java", "10"},
		{"java-native", "java.lang.Error: x\n\tat a.B.c(Native Method)", "java.lang.Error", "x", "Native Method", ""},
		{"v8-file-line-column", "Error: boom\n    at foo (/app/x.js:12:5)\n    at bar (/app/y.js:1:1)",
			"Error", "boom", "/app/x.js", "12"},
		{"v8-no-parens", "TypeError: x is not a function\n    at /app/handler.js:7:3",
			"TypeError", "x is not a function", "/app/handler.js", "7"},
		{"v8-skips-node-internals", "Error: connect ECONNREFUSED\n    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16)\n    at Pool.connect (/app/node_modules/pg-pool/index.js:45:11)",
			"Error", "connect ECONNREFUSED", "/app/node_modules/pg-pool/index.js", "45"},
		{"v8-only-internals", "Error: x\n    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)",
			"Error", "x", "node:internal/process/task_queues", "95"},
		{"java-four-space-frames-not-js", "something went wrong: x\n    at a.B.c(B.java:1)", "", "", "B.java", "1"},
		{"python", "Traceback (most recent call last):\n  File \"/app/main.py\", line 8, in <module>\n    f()\n  File \"/app/lib.py\", line 3, in f\n    raise KeyError('x')\nKeyError: 'x'",
			"KeyError", "'x'", "/app/lib.py", "3"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ti := analyzeTrace([]byte(c.text))
			assert.Equal(t, c.class, string(ti.class), "class")
			assert.Equal(t, c.message, string(ti.message), "message")
			assert.Equal(t, c.file, string(ti.file), "file")
			assert.Equal(t, c.line, string(ti.line), "line")
		})
	}
}
