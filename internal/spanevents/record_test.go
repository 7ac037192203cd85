package spanevents

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestTrackingTraceID(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
	}{
		{"03c4c8af-2c84-41c3-af19-2afacf9e0c84", "03c4c8af2c8441c3af192afacf9e0c84"},
		{"0af7651916cd43dd8448eb211c80319c", "0af7651916cd43dd8448eb211c80319c"},
		{"unknown", ""},
		{"", ""},
		{"00000000-0000-0000-0000-000000000000", ""},
		{"03c4c8af+2c84-41c3-af19-2afacf9e0c84", ""},
		{"zzc4c8af-2c84-41c3-af19-2afacf9e0c84", ""},
	} {
		id, ok := trackingTraceID(tc.in)
		if tc.want == "" {
			assert.False(t, ok, tc.in)
			continue
		}
		assert.True(t, ok, tc.in)
		assert.Equal(t, tc.want, id.String())
	}
}

func TestFrameFunctionAndMessage(t *testing.T) {
	py := "Traceback (most recent call last):\n  File \"/app/engine.py\", line 33, in execute\n    raise KeyError(\"x\")\nKeyError: 'x'\n\nDuring handling of the above exception, another exception occurred:\n\nTraceback (most recent call last):\n  File \"/app/engine.py\", line 35, in run_step\n    raise RuntimeError(\"step 1 failed\") from None\nRuntimeError: step 1 failed"
	assert.Equal(t, "run_step", frameFunction(py))
	assert.Equal(t, "step 1 failed", traceMessage(py, "RuntimeError"))

	java := "java.lang.IllegalStateException: no session\n\tat com.acme.Api.handle(Api.java:42)\n\tat com.acme.Main.main(Main.java:7)"
	assert.Equal(t, "com.acme.Api.handle", frameFunction(java))
	assert.Equal(t, "no session", traceMessage(java, "java.lang.IllegalStateException"))

	gostack := "panic: boom\n\ngoroutine 1 [running]:\nmain.process(0xc000012345)\n\t/src/app/main.go:17 +0x1d\nmain.main()\n\t/src/app/main.go:9 +0x25"
	assert.Equal(t, "main.process", frameFunction(gostack))
	assert.Empty(t, frameFunction("just text"))

	assert.Equal(t, "engine", moduleOf("/app/pkg/engine.py"))
	assert.Equal(t, "Api", moduleOf(`C:\src\Api.java`))
	assert.Empty(t, moduleOf(""))
}

func TestTruncate(t *testing.T) {
	assert.Equal(t, "short", truncate("short", 300))
	s := truncate("ééééééééééééééééééééééééééééé", 20)
	assert.LessOrEqual(t, len(s), 20)
	assert.Contains(t, s, "[truncated]")
	assert.Equal(t, "é", s[:2])
}

func TestQualified(t *testing.T) {
	assert.Equal(t, "m.f", qualified("m", "f"))
	assert.Equal(t, "f", qualified("", "f"))
	assert.Empty(t, qualified("m", ""))
}
