// Package replay is the replay source behind `logshipd replay`: it reads
// historical files (plain or gzip) to completion through the normal
// pipeline, keeping every record's own timestamp, then returns
// ingest.ErrEndOfInput.
//
// Config is filled by the CLI, not by the YAML file: Paths (regular files,
// checked by New; read one after the other, one lane each, origin kind
// "replay"), Force, Rate (lines per second, 0 unlimited), MaxLineBytes
// (0: ingest.DefaultMaxLineBytes, 1 MiB), BatchBytes (commit after this
// many line bytes; 0: 1 MiB), DataDir and SaveInterval (how often the
// ledger is saved during a run; 0: 5s). A file is gzip when it starts
// with the gzip magic bytes (or is named .gz and is shorter than 2 bytes);
// offsets of gzip files are offsets in the decompressed stream.
//
// Replay is resumable: a Ledger in <data_dir>/replay/ledger.json records,
// per file content identity (size + the first 128 bits of the SHA-256 of
// the first 1 MiB), the offset below which every record was acknowledged by
// every sink, and whether the file was finished. Offsets only move forward,
// and never past a batch that came back Failed: after one, the file's entry
// stays where it is for the rest of the run (Rejected and Dropped count as
// shipped). A re-run skips finished files and resumes unfinished
// ones at their offset (a gzip file is decompressed up to it); Force
// forgets a file's entry and starts it over. Run returns an error telling
// the user to run replay again when any batch Failed, ctx.Err() when
// cancelled, else ingest.ErrEndOfInput.
//
// The ledger is written atomically (temporary file, fsync, rename,
// directory fsync) every SaveInterval while Run runs (a ticker; only when
// an entry changed since the last save), when Run returns, and again by
// Finalize, which the pipeline calls after draining so late
// acknowledgements are kept. Saves are serialized; a failed save is
// logged and retried at the next one. A corrupt ledger is an error:
// replaying blindly could ship everything twice. Ledger and Progress
// (atomics read by the CLI's progress display) are safe for concurrent
// use.
//
// Known limitations: delivery is at least once. After a crash a re-run
// starts from the last saved offsets, so it ships again at most
// SaveInterval of acknowledged data plus what was in flight (read but
// not yet acknowledged by every sink); after a cancelled run, records
// sent but not yet acknowledged by every sink are shipped again, as are the
// batches acknowledged after a Failed one. The identity includes
// the size, so a file that grew since the last run is replayed from its
// start; two files with equal size and equal first MiB share one entry.
package replay
