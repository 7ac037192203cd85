// Package file is the file source: it follows files matched by glob
// patterns through rotation and restarts, and writes their lines to one
// lane per file. The user documentation is docs/sources/file.md.
//
// Contract:
//   - One lane per file generation (event.Origin{Kind: "file", Path: path}).
//     Every line is written with its byte offsets in the file (start, and
//     end after the newline), in file order, without gaps: the watermark a
//     lane reports is an exact resume position. A stream that continues in
//     a rotated copy (copytruncate) keeps its lane and offsets.
//   - A batch is committed per batch_max_bytes, at least every
//     batch_max_wait while data flows, and whenever a file was read to its
//     end. A file's checkpoint moves only in the Commit done callback, to the
//     watermark, only forward, and never past a Failed batch.
//   - FlushIdle runs on every idle round; FlushAll only when a file is
//     finished (deleted and drained, rotated away and idle, truncated with
//     no rotated copy), never at shutdown.
//   - Run returns nil when ctx ends, after committing what was read and
//     saving the checkpoints; no goroutine outlives it (acknowledgements
//     arriving later are saved by the goroutine that delivers them).
//
// Structure: Source.Run starts a manager (discovery: pattern expansion,
// fsnotify on the pattern directories and on the directories of symlink
// targets, classification of new files, checkpoint saving) and one
// tracker goroutine per followed inode (reading, truncation and deletion
// checks, commits). A tracker owns its stream (lane, framer, position);
// the stream's ckpt holds the checkpoint state that done callbacks update.
// Trackers read under a read slot (GOMAXPROCS+1 of them, handed over after
// every commit), so busy files take turns and the data in flight stays
// bounded however many files grow at once.
// The identity and rotation rules are in scan.go (classifyLocked,
// genEnded) and tracker.go (step, truncated).
package file
