// Package cloudwatch is the AWS CloudWatch Logs sink (`type: cloudwatch`),
// built on aws-sdk-go-v2's cloudwatchlogs client.
//
// Contract:
//
//   - Names: each record goes to the log group and log stream its
//     templates render (placeholders {environment} {service} {project}
//     {source} {host} {stream} {container_name} {task_id} {level}); records
//     from a Fluent Forward source (origin.kind "forward": FireLens) use
//     firelens_log_stream. Names are sanitised to CloudWatch's character
//     sets and 512-byte length.
//   - Events: the message is the canonical record JSON, the timestamp the
//     record's own time (Item.Time, ms). A message over max_event_bytes is
//     cut at a UTF-8 boundary and ends with " [truncated N bytes]".
//   - Calls: per (group, stream), events are sorted by timestamp (stable)
//     and cut into PutLogEvents calls of ≤ max_batch_events events,
//     ≤ max_batch_bytes (Σ UTF-8 bytes + 26 per event) and ≤ 24 h span.
//     No sequence tokens, no DescribeLogStreams on the hot path; up to
//     `concurrency` calls of one Send run in parallel (also to one stream,
//     which CloudWatch allows since 2023); after a throttling answer no
//     further call of that Send is started.
//   - Missing group/stream: on ResourceNotFoundException the sink runs
//     CreateLogGroup (class log_group_class; AlreadyExists is fine) →
//     PutRetentionPolicy (when retention_days is set and the group is new)
//     → CreateLogStream → resend, once per (group, stream) and process.
//   - Errors are classified once, here: the SDK client's retryer is
//     aws.NopRetryer, the sink.Worker is the only retry layer. Throttling →
//     sink.Throttled; 5xx, connection errors, timeouts and credential or
//     permission errors → retryable; rejectedLogEventsInfo → the events'
//     records in a *sink.PartialError with reason too_old, expired or
//     too_new; InvalidParameterException (a batch-shaping bug: logged at
//     Error) and other 4xx refusals → refused for good.
//   - Retries do not duplicate: the sink remembers which calls of a batch
//     succeeded, and a retried Send of the same *event.Batch re-sends only
//     the rest (a response lost in transit still duplicates: at-least-once).
//   - Age: AgeReason lets the worker dead-letter records CloudWatch would
//     reject (older than 14 days or retention_days, over 2 h ahead) before
//     Send.
//
// See docs/sinks/cloudwatch.md. Tests run the real SDK against the strict
// double in package cwdouble; CloudWatch itself was not reachable from the
// test machines.
package cloudwatch
