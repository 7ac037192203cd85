// Package cwdouble is a strict in-process CloudWatch Logs double: an
// http.Handler that speaks the AWS JSON 1.1 protocol the real SDK uses
// (POST /, X-Amz-Target: Logs_20140328.<Op>, Content-Type exactly
// application/x-amz-json-1.1, an Authorization starting with
// "AWS4-HMAC-SHA256 Credential=" and an X-Amz-Date; the signature itself is
// not verified; bodies up to 8 MiB). It is for tests and benchmarks.
//
// PutLogEvents rules enforced (the service's documented limits, see
// docs/sinks/cloudwatch.md):
//
//   - 1..10,000 events; every event has a timestamp and a non-empty message;
//   - each event: UTF-8 message bytes + 26 ≤ 1,048,576; the call: Σ ≤ 1,048,576;
//   - events in chronological order (equal timestamps allowed), else the
//     whole call fails with InvalidParameterException;
//   - the valid events (14 days old … 2 hours ahead) span ≤ 24 h, else the
//     whole call fails;
//   - events more than 14 days old (too old), older than the group's
//     retention (expired) or more than 2 h ahead (too new) are dropped one by
//     one and reported in rejectedLogEventsInfo: tooOldLogEventEndIndex
//     (exclusive end of the too-old prefix), expiredLogEventEndIndex
//     (exclusive end of the expired events, which follow the too-old ones),
//     tooNewLogEventStartIndex (inclusive start of the too-new suffix);
//   - group names 1–512 of [.\-_/#A-Za-z0-9], not starting with "aws/" (on
//     create); stream names 1–512 characters without ':' or '*';
//   - a missing group or stream: ResourceNotFoundException;
//   - unknown request fields: SerializationException.
//
// A call that fails stores nothing; the count, size, order and name rules
// are checked before the group and stream are looked up. Ages are measured
// against Options.Now. sequenceToken and entity are accepted and ignored;
// nextSequenceToken is the running event count.
//
// Operations: CreateLogGroup (logGroupClass, ResourceAlreadyExists,
// LimitExceeded past SetGroupLimit), CreateLogStream, PutRetentionPolicy
// (the allowed day values only), PutLogEvents, DescribeLogGroups and
// DescribeLogStreams (prefix filter only, no pagination), GetLogEvents
// (every event sorted by timestamp, one page, no time range). Any other
// operation is UnknownOperationException. Errors have the real shape: HTTP
// 400/500, X-Amzn-ErrorType and {"__type","message"}.
//
// Faults can be injected per operation ("" for any): throttling (400
// ThrottlingException), 5xx (500 ServiceUnavailableException), a reset
// connection, a lost response (the call is applied, then answered 500
// InternalFailure, so a retry duplicates events), an
// InvalidParameterException, optionally after letting some matching calls
// through (InjectAfter), and latency (SetLatency; a request whose context
// ends during the delay is abandoned: neither counted nor applied). Faults
// are consumed in injection order; faulted calls are counted by Calls, and
// their error codes by Errors (a reset as "connection_reset").
//
// Every accepted event is recorded (counts only with
// Options.DiscardEvents); Events, AllEvents, EventCount, Group and Groups
// return copies for assertions. The test-setup methods CreateLogGroup and
// CreateLogStream bypass name validation. A Server must be made with New;
// all its methods and ServeHTTP are safe for concurrent use (one mutex).
package cwdouble
