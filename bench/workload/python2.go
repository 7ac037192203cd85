package workload

import (
	"fmt"
	"io"
	"strings"
)

// python2 frames: file, function, source line. Tracebacks pick from these.
var pyFrames = [][3]string{
	{"/app/workflow_engine/engine.py", "run_step", "result = await step.execute(ctx)"},
	{"/app/workflow_engine/steps/llm.py", "execute", "reply = await self.client.complete(prompt, timeout=self.timeout)"},
	{"/app/workflow_engine/clients/model.py", "complete", "return self._parse(await self._post(\"/v1/complete\", body))"},
	{"/app/workflow_engine/clients/model.py", "_parse", "return payload[\"model_output\"]"},
	{"/usr/local/lib/python3.12/site-packages/httpx/_client.py", "send", "response = await self._send_handling_auth("},
	{"/usr/local/lib/python3.12/site-packages/httpx/_transports/default.py", "handle_async_request", "resp = await self._pool.handle_async_request(req)"},
	{"/app/workflow_engine/store.py", "load_workflow", "row = await conn.fetchrow(QUERY_WORKFLOW, workflow_id)"},
}

var pyErrors = []string{
	"KeyError: 'model_output'",
	"TimeoutError: model call exceeded 30.0s",
	"ValueError: invalid workflow spec: missing 'steps'",
	"httpx.ReadTimeout: timed out",
}

// python2 writes one logical record: an INFO (or WARNING) line, or, for
// ~2 % of the records, an ERROR line followed by a traceback of 5-15 lines
// (uniform): "Traceback (most recent call last):", 3-13 frame lines (two
// per frame, plus a Python 3.11+ caret line under one frame when the count
// is odd) and the exception line.
func (g *gen) python2(w io.Writer) error {
	ts := g.tick().Format("2006-01-02 15:04:05,000")
	if g.r.IntN(50) == 0 {
		var b strings.Builder
		fmt.Fprintf(&b, "%s - workflow_engine - ERROR - step %d failed for workflow workflow_%06d tracking_id=%s\nTraceback (most recent call last):\n",
			ts, g.r.IntN(9), g.r.IntN(999999), g.uuid())
		lines := 5 + g.r.IntN(11) // traceback lines, header and exception line included
		body := lines - 2
		caret := body%2 == 1
		frames := body / 2
		caretAt := g.r.IntN(frames)
		first := g.r.IntN(len(pyFrames))
		for f := range frames {
			fr := pyFrames[(first+f)%len(pyFrames)]
			fmt.Fprintf(&b, "  File \"%s\", line %d, in %s\n    %s\n", fr[0], 20+g.r.IntN(1800), fr[1], fr[2])
			if caret && f == caretAt {
				fmt.Fprintf(&b, "    %s\n", strings.Repeat("^", min(len(fr[2]), 40)))
			}
		}
		b.WriteString(pyErrors[g.r.IntN(len(pyErrors))])
		b.WriteByte('\n')
		_, err := io.WriteString(w, b.String())
		return err
	}
	level := "INFO"
	if g.r.IntN(33) == 0 {
		level = "WARNING"
	}
	_, err := fmt.Fprintf(w, "%s - workflow_engine - %s - step %d done for workflow workflow_%06d tracking_id=%s\n", ts, level, g.r.IntN(9), g.r.IntN(999999), g.uuid())
	return err
}
