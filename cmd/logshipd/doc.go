// Command logshipd ships and normalizes logs: it reads logs in any
// supported format, turns every logical record into one canonical JSON
// record (schemas/log-record.schema.json) and delivers it to the configured
// sinks. See README.md and docs/.
//
// Usage:
//
//	logshipd run -c FILE
//	logshipd validate -c FILE
//	logshipd replay -c FILE [--rate R] [--since T] [--until T] [--force] [--service S] PATH|GLOB...
//	logshipd normalize [-c FILE] [--format F] [--workers N] < input > output
//	logshipd tail [-c FILE] [-f] [--json] [--level L] [--service S] PATH|GLOB...
//	logshipd health [-c FILE | --addr HOST:PORT] [--ready] [--timeout D]
//	logshipd version
//
// Subcommands:
//
//   - run: the daemon. Starts the sources and sinks of the config file
//     (at least one of each), plus the span-events stage and the metrics
//     listener when configured, and ships until SIGTERM or SIGINT (then it
//     stops reading, delivers or keeps what is in flight within
//     shutdown_grace and saves checkpoints) or until every source reached
//     its end of input (stdin at EOF). It applies memory_limit unless
//     GOMEMLIMIT is set. A stdin source reads logshipd's stdin; a file sink
//     with path "-" writes to its stdout.
//   - validate: loads the config as run would and lists every problem;
//     prints "FILE: ok" when there is none.
//   - replay: ships historical files (plain or gzip; globs, ** included)
//     through the config's sinks, data_dir and normalize section (its
//     sources are ignored), keeping each record's own timestamp;
//     --since/--until keep records in [since, until) (a time, or a duration
//     back from now). A ledger in data_dir makes re-runs skip what was
//     shipped (--force replays anyway) and resume interrupted files. Prints
//     a summary on stdout and, on a terminal, a progress line on stderr.
//   - normalize: stdin to canonical NDJSON on stdout, in input order, on
//     several cores; no sinks, no checkpoints. Flags (--format, --service,
//     --environment, --project, --timezone, --max-line-bytes) override the
//     optional config file.
//   - tail: a local view of files: one readable line per record (or
//     --json), filtered by --level and --service; -f follows growth,
//     truncation and rotation. Nothing is shipped or checkpointed.
//   - health: container health check without a shell: GETs /healthz (or
//     /readyz with --ready) on --addr or the config's metrics.listen.
//   - version: prints the version and commit set at build time with
//     -ldflags "-X main.version=... -X main.commit=...".
//
// Exit status is 0 on success and 1 on any error (also an unhealthy probe);
// the error is printed on stderr as "logshipd: ...". Operational logs are
// JSON (slog) on stderr at level INFO. SIGINT and SIGTERM cancel every
// subcommand.
package main
