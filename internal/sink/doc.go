// Package sink defines the one interface every destination implements and
// the machinery shared by all of them: a bounded per-sink queue, the single
// retry layer, error classification and the dead-letter file.
//
// Contract. Sink.Send(ctx, batch) delivers one batch and returns
//
//   - nil: every record was accepted;
//   - Permanent(err): the destination refuses the batch for good (it is
//     dead-lettered with err as the reason, never retried);
//   - *PartialError: some records were refused for good (each is
//     dead-lettered with its reason), the rest were accepted;
//   - Throttled(err, after): retry after the given delay;
//   - any other error: retryable, with jittered exponential backoff.
//
// Errors are classified once, where the destination's protocol ends (in the
// sink), and nowhere else. A Worker owns one Sink: it takes batches from
// sources through a bounded queue (Enqueue blocks when the queue is full:
// backpressure; the explicit when_full: drop_newest opt-in drops and counts
// instead), retries until delivery, a permanent refusal, or shutdown, and
// then finishes the batch's Ack exactly once with Delivered, Rejected,
// Dropped or Failed. Batches are shared read-only between sinks.
package sink
