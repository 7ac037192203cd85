// Package pipeline wires sources, normalization and sinks together and
// owns the daemon's lifecycle.
//
// Data flow: a source writes lines into lanes (one per input: a file, a
// Forward connection's tag, stdin); a lane normalizes them (multiline
// joining, container unwrapping) and commits batches; a commit hands the
// read-only batches to every sink's bounded queue (blocking when one is
// full: backpressure) under one Ack for all of them. When every sink has
// finished, the lane runs the source's callback, in commit order, with the
// worst status and the input watermark — the only place a file checkpoint
// moves or a Forward chunk is acked.
//
// Parallel normalization: a lane buffers its lines in a
// normalize.Chunker. Runs of lines that start and end at record boundaries
// (Parts, 256 KiB) are normalized on the pipeline's worker pool, one worker
// per core; small writes, input without boundaries (container envelopes)
// and the lines right after a record left open are normalized inline on
// the source's goroutine. The lane's committer goroutine hands a commit's
// outputs to the sinks in input order as they are ready, so records of one
// input reach every sink in the order they were read, and the watermark of
// a commit never passes a record that was not handed on. Memory in flight
// per lane: the lines being buffered, at most one Part per worker, the
// commit being handed over and the one being built.
//
// Batch memory is reused once every sink finished with a commit (see
// event.Batch: sinks must not keep Buf or Items after Ack.Done).
//
// Stop order (Run): cancel sources and wait for them; close every lane a
// source left open (its last batches reach the queues); stop the workers;
// close every sink queue and let the sink workers drain it within the
// grace period; close the sinks. Batches still queued when the grace period
// ends finish as Failed, so no source acknowledges them (files re-read them
// after a restart).
//
// Stats: Committed (records handed to the sinks), Skipped (records a
// source's Keep filter left out), Parts (runs normalized on the pool).
package pipeline
