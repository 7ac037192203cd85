// Package ingest turns byte streams into lines for the normalizer.
//
// Framer splits input at '\n'. Lines longer than the configured maximum are
// never dropped and never block a source: the first max bytes are passed on
// with a " [truncated N bytes]" marker, the remainder up to the next newline
// is skipped, and the cut is counted. A final line without a newline is
// passed on by End.
//
// The file tailer, stdin relay, Fluent Forward server and replay sources of
// the daemon build on this package (see docs/ for their configuration).
package ingest
