// Package stdin is the stdin source (`type: stdin`): it reads until EOF,
// then flushes and returns ingest.ErrEndOfInput once every record has been
// acknowledged by every sink, so `cat x.log | logshipd run -c cfg` exits 0
// after delivery.
//
// Config keys (DefaultConfig in parentheses):
//
//	max_line_bytes   longest line passed on whole; longer lines are cut
//	                 and marked by ingest.Framer (1 MiB; >= 1024)
//	batch_max_bytes  commit a batch once this many line bytes are pending
//	                 (1 MiB; >= 1024)
//	batch_max_wait   commit pending records at least this often, and flush
//	                 idle multiline records (200ms; > 0)
//
// An ingest.Relay performs the blocking reads, in chunks of up to 256 KiB
// in 4 recycled buffers (a read on os.Stdin cannot be cancelled); the
// source loop frames lines, writes them to a single lane (origin kind
// "stdin", no offsets) and commits at most every batch_max_wait or
// batch_max_bytes.
//
// Run's results: at EOF the last partial line and pending multiline
// records are flushed and committed, and Run waits for every batch's
// acknowledgement; it returns ingest.ErrEndOfInput when none came back
// Failed (Rejected and Dropped count as done), else an error saying a batch
// was not delivered. When ctx ends, Run frames the chunks the relay had
// already read, flushes the last partial line and the pending multiline
// records (stdin cannot be read again), commits them past the cancellation
// (bounded by 5 s) and returns ctx.Err() without waiting for delivery (the
// pipeline's shutdown_grace does); if ctx ends while it waits at EOF it
// returns ctx.Err(). A read error is handled like EOF (what was read,
// including a last line without newline, is committed and waited for),
// then Run returns "read stdin: ..." and the error counts in ReadErrors.
// Stats are atomics, safe to read while Run runs; Lines counts every line
// passed on, the last one without a newline included. A Source consumes
// its reader: call Run once. The config layer refuses a second stdin
// source.
//
// Known limitations: stdin cannot be re-read, so records still queued for a
// sink when the daemon is stopped before EOF are lost unless the sink has a
// disk buffer. After cancellation the relay goroutine may stay blocked in Read
// until the input delivers data or closes.
package stdin
