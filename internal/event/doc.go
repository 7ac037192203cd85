// Package event holds the types every stage shares: the canonical Record a
// source's lines become after normalization, its Level, the Origin of a
// stream, and the Batch and Ack that carry records from a source lane to
// the sinks. It is a leaf package (standard library only).
//
// Record. Every field of a Record, JSON included, is valid only until the
// Emit call that handed it out returns; a consumer that keeps a record must
// Clone it. JSON is the complete canonical record on one line, without the
// newline. BelowLevel marks a record under its environment's level filter:
// log destinations skip it, derived telemetry still sees it.
//
// Batch. A Batch owns copies of its records (Append and AppendBatch copy),
// made at the lane boundary. Buf is NDJSON (each record's JSON followed by
// '\n'); Items[i] locates record i in Buf (JSON(i)) and carries its
// metadata. Once handed to the sinks a Batch is shared read-only by all of
// them: no sink may modify Buf, Items or Ack. A sink must not keep Buf,
// Items, or slices or unsafe strings of them (Item.TrackingID is such a
// string) after it called Ack.Done: the pipeline reuses that memory once
// every sink is done, so whatever must outlive the call has to be copied
// first. Append and AppendBatch are for the batch's builder only and are
// not safe for concurrent use. MemBytes is the size queue bounds count:
// JSON plus per-record metadata.
//
// Ack. The pipeline calls Add(n) for the n sinks a batch fans out to before
// any of them can finish; each sink then calls Done exactly once. Done is
// safe for concurrent use. When the count reaches zero the callback given
// to NewAck runs once, on the goroutine of the last Done, with the worst
// Status reported (Delivered < Rejected < Dropped < Failed). The callback
// never runs twice: an Add after it ran, or an extra Done, does not run it
// again, and an Ack whose count never reaches zero never calls back. Failed
// means the batch was neither delivered nor dead-lettered: its source must
// not advance (commit a checkpoint) past it. Rejected and Dropped are final.
//
// Level values are ordered by severity, LevelUnset lowest; ParseLevel
// accepts the canonical names in upper, lower or title case, and WARNING
// for WARN.
package event
