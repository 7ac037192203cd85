// Package loki is the Grafana Loki sink (type: loki): canonical records
// pushed as snappy-compressed protobuf (the push types of
// github.com/grafana/loki/pkg/push, which github.com/grafana/loki-client-go
// pulls in) through an acknowledged push of its own. The loki-client-go
// Client itself is not used: its Handle is fire-and-forget (acked at
// enqueue, data dropped after its own retries), logs to stdout and
// registers global metrics. Here a batch is acknowledged only when every
// push of it was answered 2xx.
//
// Contract (see docs/sinks/loki.md for keys, defaults and the full table):
//
//   - Records become entries of streams labelled by low-cardinality fields
//     (default service, environment, project, level); tracking_id,
//     trace_id and span_id go to structured metadata. The line is the
//     canonical record JSON, truncated to max_line_bytes with a
//     "[truncated N bytes]" marker. Entries of a stream are sorted by time
//     within a push.
//   - A batch is cut into pushes of at most max_push_bytes (uncompressed),
//     sent in order. A retryable failure returns from Send; the worker's
//     retry of the same batch resumes at the failed push, so acknowledged
//     pushes are not sent twice.
//   - 429 is sink.Throttled (Retry-After honoured), 5xx and connection
//     errors are retryable; a 400 is attributed to the refused entries from
//     Loki's error text where possible (sink.PartialError), otherwise the
//     push is refused as a whole (sink.Permanent for a one-push batch).
//   - AgeReason drops records outside Loki's window (reject_old_after,
//     creation_grace_period) before they are sent.
//
// Tested against VictoriaLogs' Loki endpoint, not against Loki itself.
package loki
