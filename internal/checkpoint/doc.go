// Package checkpoint persists how far each tailed file has been delivered.
//
// One Store holds the entries of one source, saved as a single JSON file
// <data_dir>/checkpoints/<source>.json (format Version 1). An entry is keyed
// by the file's device and inode and carries what is needed to tell whether
// the inode still holds the same content: a fingerprint (hex SHA-256 of the
// first FingerprintLen bytes), the inode's birth time when the filesystem
// has one, and a generation that counts how often the inode's content was
// replaced (truncation, inode reuse).
//
// Offsets are written by the caller only after every sink acknowledged the
// data below them; this package just stores them. Set replaces an entry as
// given: it does not keep offsets monotonic, and it neither reads nor
// checks the file. Set and Forget change memory only; nothing reaches disk
// until Save, which the caller runs when it chooses (Dirty reports unsaved
// changes; a Save without changes writes nothing).
//
// Save is atomic: the new content goes to a temporary file in the same
// directory (mode 0600; the directory is created 0700), is fsynced, and is
// renamed over the old file, and the directory is fsynced. A crash at any
// moment therefore leaves either the old or the new checkpoint, never a torn
// one; temporary files left by a crash are removed by the next Save and are
// never read. After a failed Save the old file is intact and the changes
// stay dirty, so the next Save retries them.
//
// Ordering: Saves are serialized, and each writes a snapshot taken under the
// store's lock, so it contains every Set and Forget that returned before
// the Save began, and a later Save never overwrites a newer snapshot with an
// older one. Changes made while a Save is writing stay dirty until the next
// Save. Entries are written sorted by path, then device:inode; Entries
// returns them sorted by device and inode.
//
// Open reads the file: a missing file is an empty store (Open creates
// nothing); a file that cannot be read, or cannot be parsed (unknown
// fields, trailing data, another version, a negative offset or a malformed
// fingerprint), is an error (CorruptError, matching ErrCorrupt, for the
// parse failures): the caller must refuse to start rather than silently
// re-read (or skip) data. Source names must be usable as file names: not
// empty, no '/', '\' or NUL, no leading '.'.
//
// A Store is safe for concurrent use within one process. Known limitation:
// nothing prevents two processes from using the same data directory and
// source name; they would overwrite each other's checkpoints.
package checkpoint
