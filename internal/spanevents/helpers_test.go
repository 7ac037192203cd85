package spanevents

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/starmates/logshipd/internal/event"
	"github.com/starmates/logshipd/internal/normalize"
)

// The OTLP HTTP exporter keeps idle keep-alive connections in its shared
// transport for up to 90 s after Close; they are not ours to close.
var leakOpts = []goleak.Option{
	goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
	goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
	goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
}

func TestMain(m *testing.M) { goleak.VerifyTestMain(m, leakOpts...) }

// normalizeLines runs real log text through the normalizer and returns the
// batch the pipeline would hand to sinks.
func normalizeLines(t *testing.T, service, text string) *event.Batch {
	t.Helper()
	cfg := normalize.DefaultConfig()
	cfg.Service = service
	eng, err := normalize.New(cfg, nil)
	require.NoError(t, err)
	b := &event.Batch{}
	st := eng.NewStream(event.Origin{Kind: "file", Path: "test.log"}, func(r *event.Record) {
		b.Append(r, "test", "test.log")
	})
	now := time.Date(2026, 11, 25, 23, 0, 0, 0, time.UTC)
	for ln := range strings.SplitSeq(strings.TrimSuffix(text, "\n"), "\n") {
		st.Write([]byte(ln), now)
	}
	st.Flush(now)
	return b
}

// errorItems returns the indexes of the batch's ERROR records.
func errorItems(b *event.Batch) []int {
	var idx []int
	for i := range b.Items {
		if b.Items[i].Level == event.LevelError {
			idx = append(idx, i)
		}
	}
	return idx
}

// Inputs shared by the unit and integration tests.
const (
	// Python logging.basicConfig output with a traceback and a tracking id
	// in the message, no trace context.
	pythonTraceback = `INFO:workflow_agent:generated workflow workflow_7ba4ba type=ai-assisted tracking_id=be3f8ccc-09d2-4fea-9201-50b7b51e0246
ERROR:workflow_agent:workflow generation failed tracking_id=03c4c8af-2c84-41c3-af19-2afacf9e0c84
Traceback (most recent call last):
  File "/tmp/cw/fastapi/agent.py", line 24, in generate
    raise PlannerError(f"cannot plan workflow for prompt {prompt!r}")
agent.PlannerError: cannot plan workflow for prompt 'please fail'
INFO:workflow_agent:POST /generate-workflow -> 422 in 0.0018s tracking_id=03c4c8af-2c84-41c3-af19-2afacf9e0c84
`
	// The CloudWatch formatter's JSON with trace context, source location
	// and an exception.
	jsonWithTrace = `{"timestamp":"2026-11-25T21:47:27.524096Z","level":"ERROR","service":"api-gateway","environment":"prod","logger":"api.handlers","tracking_id":"81f3e1b6-9349-47a1-b935-47037c7f4c27","message":"POST /api/v1/sessions - 503","request":{"method":"POST","path":"/api/v1/sessions"},"response":{"status":503},"tracing":{"trace_id":"3b507d7247f84ab2bf21a142eb4f4517","span_id":"c321904023874e02"},"error":{"type":"TimeoutError","message":"upstream workflow-agent timed out after 0.081s"},"exception":{"class":"TimeoutError","stack_trace":"Traceback (most recent call last):\n  File \"/tmp/cw/pyd/cloudwatch_sim.py\", line 32, in handle\n    raise TimeoutError(f\"upstream workflow-agent timed out after {dur}s\")\nTimeoutError: upstream workflow-agent timed out after 0.081s\n","file":"/tmp/cw/pyd/cloudwatch_sim.py","line":32},"source":{"module":"cloudwatch_sim","function":"handle","line":34}}
{"timestamp":"2026-11-25T21:47:27.600000Z","level":"INFO","service":"api-gateway","message":"GET /health - 200","tracing":{"trace_id":"3b507d7247f84ab2bf21a142eb4f4517","span_id":"c321904023874e02"}}
`
	// A logfmt line without trace context, with a tracking id and a call site.
	logfmtTrackingOnly = `time=2026-11-25T22:10:05.250Z level=error service=workflow-engine logger=engine.runner module=runner func=execute line=88 tracking_id=5d1c0b7e-0a8e-4b43-9d7e-2f1f7a3c9e11 msg="step 3 failed: model quota exhausted" error_type=QuotaExceeded
`
	// An error without trace context or tracking id.
	noContext = `time=2026-11-25T22:11:00Z level=error service=workflow-engine msg="disk almost full"
`
)
