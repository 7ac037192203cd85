// Package spanevents is the sink that turns ERROR log records into OTLP
// spans (the guide's "ERROR -> span events", docs/sinks/spanevents.md).
//
// A shipper cannot add events to a span the service already ended, so each
// record at or above min_level becomes a new short span (SpanName, kind
// internal, starting at the record's own time, 1 ms long):
//
//   - with tracing.trace_id and tracing.span_id: a child of that span
//     (remote parent, sampled) in that trace;
//   - with only a trace id, or else a tracking id that is a UUID or 32 hex
//     digits: a root span in that trace (the tracking id's 128 bits), so all
//     errors of one request share one trace;
//   - with neither: a root span in a new random trace.
//
// The span's resource is the record's service.name, deployment.environment
// (and .name) and service.namespace (the project). It carries the event
// error_log with log.level, log.message, log.logger, log.module,
// log.function, log.line, tracking.id and error.type (each when the record
// has it); an exception event with exception.type, exception.message and
// exception.stacktrace when the record has an exception; and status Error
// for ERROR records.
//
// Delivery. Spans go through the SDK's BatchSpanProcessor behind a gate
// that bounds the queue and counts what it turns away, to an OTLP exporter
// (gRPC or HTTP, OTEL_EXPORTER_OTLP_* honoured) that retries with backoff
// for at most max_retry_time. Send never blocks on the trace backend and
// returns nil: the records' logs are never held back by tracing. Dropped
// spans are counted per reason in Stats.
package spanevents
