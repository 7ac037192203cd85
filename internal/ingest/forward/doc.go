// Package forward is the Fluent Forward (protocol v1) source: the input an
// ECS FireLens log router, the Docker fluentd logging driver, Fluent Bit or
// Fluentd out_forward and the fluent-logger libraries send to.
//
// Transport: TCP (optionally TLS), a unix stream socket, or both; an
// optional shared-key handshake (HELO/PING/PONG). Frames: Message,
// Forward, PackedForward and CompressedPackedForward (gzip, zstd); times
// as integer seconds, float seconds, EventTime (ext 0) or the v1.5
// [EventTime, metadata] pair; nil keep-alives.
//
// Contract:
//
//   - Each record becomes one compact JSON line (invalid UTF-8 becomes
//     U+FFFD, bin becomes a string) written to one lane per (connection,
//     tag), origin {Kind: "forward", Path: tag}. A record without a time
//     key gets "time" (the event time, RFC 3339 UTC with nanoseconds); a
//     record without container_name gets "fluent_tag"; with ECS metadata,
//     records lacking them get ecs_cluster, ecs_task_arn,
//     ecs_task_definition and ecs_availability_zone.
//   - A frame is accepted whole or not at all. A malformed or oversize
//     frame, or a failed handshake, is counted, logged at Warn with the
//     remote address (never the payload) and closes that connection only.
//   - Order: lines of one lane keep the order they were sent in.
//   - Acks: a frame whose option carries "chunk" is answered {"ack": chunk}
//     only once every sink finished every record of the frame with a
//     status other than Failed (the lane's watermark covers the frame's
//     last line). Acks go out in frame order. A Failed batch while acks are
//     pending closes the connection without ack, so the client re-sends:
//     at-least-once, duplicates possible.
//   - Backpressure: Lane.Commit blocks while sink queues are full, and the
//     connection is not read meanwhile.
//   - Shutdown: Run stops accepting and reading, commits what was read,
//     waits up to shutdown_grace for in-flight batches and their acks, and
//     removes the unix socket.
//
// See docs/sources/forward.md for configuration and FireLens setup.
package forward
