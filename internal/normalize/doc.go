// Package normalize turns log lines of any supported format into
// canonical records (schemas/log-record.schema.json): one JSON object per
// record with @timestamp/@level/@message twins, the nested request,
// response, user, session, tracing, error and exception groups, a
// validated tracking_id, and at most max_fields flattened leaves (the rest
// moved into attrs_overflow, never dropped).
//
// Contract:
//   - Output is always valid JSON and valid against the schema, whatever
//     the input bytes (invalid UTF-8 becomes U+FFFD, control bytes are
//     escaped, oversize records are cut with a "[truncated N bytes]"
//     marker). Fuzz targets check this for every parser and the encoder.
//   - Engine (New) holds the validated Config and shared Stats; it is safe
//     for concurrent use. A Stream (Engine.NewStream) normalizes one input
//     in order: per-line format detection (sticky per stream), multiline
//     joining (Python/Java/Go traces, indented continuations) and container
//     envelopes (Docker json-file, CRI, FireLens, compose) with partial
//     lines re-joined per container and stream. A Stream is used by one
//     goroutine; the record passed to Emit is valid only during the call.
//   - Stream.WriteAt takes input offsets; Stream.Watermark is the offset
//     below which every line's records were emitted (pending multiline or
//     partial records hold it back): what a checkpoint may store.
//   - Records under the environment's level filter are still emitted, with
//     BelowLevel set (metrics count them; log sinks skip them).
//   - Flush emits everything pending, including partial lines whose final
//     piece never came; FlushIdle does so for what waited longer than
//     multiline.flush_timeout.
//   - Chunker cuts one input into Parts at safe boundaries (lines where a
//     record certainly starts) so Parts can be normalized concurrently by
//     any Stream while the caller keeps output order; what cannot be cut
//     goes through the Chunker's own sequential Stream. Its Watermark has
//     the Stream's meaning. RunParallel uses it for the normalize command;
//     the pipeline uses it for every lane.
//   - Stats counters are published by each Stream in bulk (every 256
//     records, at flushes and commits), so they may lag by that much.
//
// Configuration (Config, DefaultConfig, Validate; keys in
// docs/configuration.md): format, service, environment, project, timezone,
// tracking_id_fallback, max_fields (200), max_event_bytes (1,048,550),
// at_fields (true), level_filter (prod/production: WARN), multiline
// max_lines (500), max_bytes (256 KiB), flush_timeout (1 s).
//
// Known limitations: detection is per line with sticky formats, so an input
// mixing ambiguous formats may be parsed by the sticky parser; a record
// that ends a file waits for flush_timeout when its format can continue on
// the next line (a tailer cannot know nothing follows); input made only of
// container envelopes is normalized on one core per input.
package normalize
