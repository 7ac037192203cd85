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
//	                refused. Record values are made file-name safe (bytes
//	                outside [A-Za-z0-9._-] become '_'; "", "." and ".."
//	                become "_"), so a record never writes outside the
//	                template's directories.
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
// levels). For stdout the batch buffer goes to one Write call; for a fixed
// path it is written as is; with a template each record goes to the file
// its values select, in batch order per file. Files are opened with O_APPEND (mode 0640, directories
// created 0750) and written through a 64 KiB buffer that is flushed before
// Send returns. Send and Close are serialized by one mutex; the Sink is
// safe for concurrent use. Close flushes, syncs (with fsync) and closes
// every open file.
//
// Known limitations: every write error is returned as retryable, and a
// retry writes the whole batch again, so records written before the error
// are duplicated. Rotation is checked per batch for a fixed path and per
// record for a template, and never splits a write: a file holds at least
// one batch or record even when that is larger than rotate_bytes. Sizes
// are tracked from the size at open plus this sink's writes; writes by
// other processes are not seen. Errors while shifting old rotated files
// are ignored.
package file
