// Package config loads logshipd's YAML configuration file: strict decoding
// (unknown keys are errors, reported with their line), ${VAR} and
// ${VAR:-default} expansion from the environment, and validation of every
// section by the package that owns it.
//
// Load (or Parse, for bytes already read) starts from Default, expands the
// environment references, decodes the file over the defaults, copies the
// top-level environment, project and service into the normalize section
// (Resolve) and validates. The error is either a plain error (unreadable
// file, unset variable, YAML syntax error: nothing further is checked) or
// Problems, which lists every problem found, each located by file, line
// (when known) and key. With Problems the returned File still holds what
// could be decoded (the CLI applies RequireGraph to it) but must not be
// used to run anything.
//
// Top-level keys owned by this package (defaults in parentheses):
//
//	environment, project, service  override the normalize section's values
//	                 when non-empty ("": the normalize section's own value,
//	                 or normalize.DefaultConfig's, applies)
//	data_dir         checkpoints, dead letters, replay ledger ("./data";
//	                 must not be empty)
//	shutdown_grace   drain bound on SIGTERM (20s; must be in (0, 10m])
//	memory_limit     Go soft memory limit for `run` ("auto"): auto, off,
//	                 or a size such as 96MiB, 1GiB or bytes, at least
//	                 MinMemoryLimit (16 MiB). auto = AutoMemoryBase (24 MiB)
//	                 + the largest memory queue (+ the span-events queue
//	                 bound when span_events is on). GOMEMLIMIT, when set, wins.
//	normalize, metrics, span_events  sections owned by packages normalize,
//	                 metrics and spanevents (their DefaultConfig)
//	sources, sinks   lists; each entry has name (required, unique per
//	                 list) and type (sources: file, stdin, forward; sinks:
//	                 cloudwatch, loki, file); sinks also take queue
//	                 (sink.DefaultQueueConfig); every other key belongs to
//	                 the type's own Config and is decoded strictly over its
//	                 DefaultConfig. A source may override service, format,
//	                 environment and timezone of the normalize section.
//
// The metrics section is validated only when metrics.listen is set, and
// span_events only when the stage is on (SpanEvents.On, which also reads
// OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_EXPORTER_OTLP_TRACES_ENDPOINT at
// call time). Parse does not require any source or sink: RequireGraph adds
// that check for `run` and `validate`.
//
// Expansion follows the shell: ${VAR} set to "" expands to "", ${VAR:-d}
// expands to d when VAR is unset or empty, and an unset ${VAR} without a
// default is an error. Known limitations: expansion runs on the raw text
// before YAML parsing, so references inside comments are expanded too (an
// unset one is an error), values are inserted unquoted (a value holding
// YAML syntax changes the document), and there is no escape for a literal
// "${". Only the first YAML syntax error is reported.
//
// The package keeps no state; its functions are safe for concurrent use.
package config
