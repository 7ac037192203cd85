// Package file is the file sink (`type: file`): canonical records as
// NDJSON, to stdout (path "-") or to files named by a template. It doubles
// as the test oracle of the pipeline: Send returns only after the batch's
// bytes were written (and, with fsync: true, synced), so a batch is
// acknowledged only then.
//
// Config keys (DefaultConfig in parentheses; see docs/configuration.md):
//
//	path            "-" (stdout, the default), a fixed path, or a template
//	                with {service}, {environment}, {project}, {source},
//	                {level} (canonical name, "" when unset) and {date}
//	                (UTC YYYY-MM-DD of the record). Other placeholders are
//	                refused. Record values are made file-name safe
//	                (sink.AppendSafePathPart: bytes outside [A-Za-z0-9._-]
//	                become '_'; "", "." and ".." become "_"; over 100 bytes,
//	                83 bytes + "-" + a 16-hex hash), so a record never writes
//	                outside the template's directories. A fixed path that is
//	                a directory is refused by New.
//	fsync           sync files before returning (false: what was written
//	                survives a crash of logshipd, not of the machine).
//	                Stdout is never synced.
//	max_open_files  file handles kept open, least recently used closed
//	                first (64; >= 1).
//	rotate_bytes    rotate a file before a write would take it past this
//	                size (0: never; else >= 4096): path.N-1 -> path.N ...,
//	                path -> path.1, the oldest beyond rotate_keep removed.
//	rotate_keep     rotated files kept (5; 1..1000).
//
// Behaviour callers may rely on: records under the level filter are
// removed by the sink worker before Send (the sink does not opt into all
// levels). For stdout the batch buffer goes to one Write call. For files,
// each file's share of a batch (records in batch order) goes to one write
// on a file opened with O_APPEND (mode 0640, directories created 0750); a
// fixed path writes the batch buffer as is. A batch is all or nothing: when
// a write (or fsync) fails, the files the batch already wrote are truncated
// back to their size before it and the failing handle is closed, so the
// worker's retry (write errors are retryable: a full disk clears) writes
// every record once. File sizes are read from the file before each write
// (lseek to the end), so truncation by another process (copytruncate) is
// seen by rotation and by the undo. Send and Close are serialized by one
// mutex; the Sink is safe for concurrent use. Close syncs (with fsync) and
// closes every open file.
//
// A record whose template path can never be written (EISDIR, ENOTDIR,
// ENAMETOOLONG, EINVAL, ELOOP) is refused alone through a
// *sink.PartialError (reason "bad_path", dead-lettered by the worker); the
// rest of the batch is written. With fsync, the directory of a file
// created empty is synced too.
//
// Known limitations: stdout cannot be undone, so a failed write to stdout
// that was partly written is written again by the retry. If the undo itself
// fails (the truncate is refused), the error says so and the retry may
// duplicate that file's records. Rotation is checked per file per batch
// and never splits a write: a file holds at least one batch's share even
// when that is larger than rotate_bytes. A file renamed by another process
// (logrotate's create mode) keeps receiving records until its handle is
// closed; use copytruncate, or rotate_bytes. Errors while shifting old
// rotated files are ignored.
package file
