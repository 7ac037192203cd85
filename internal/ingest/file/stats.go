package file

import "sync/atomic"

// Stats are the file source's counters, shared by its goroutines. They are
// exported for the metrics component; every field is safe for concurrent
// use.
type Stats struct {
	// FilesOpened and FilesClosed count file handles (reopens included).
	FilesOpened atomic.Int64
	FilesClosed atomic.Int64
	// FilesTracked is the number of files currently followed (a gauge).
	FilesTracked atomic.Int64
	// Evictions counts handles closed to stay under max_open_files.
	Evictions atomic.Int64

	// RotationsRename counts a new inode appearing at a path whose
	// previous inode is still being read (rename/create rotation).
	RotationsRename atomic.Int64
	// RotationsCopyTruncate counts truncations whose rotated copy was
	// found and read on from where the original stopped.
	RotationsCopyTruncate atomic.Int64
	// TruncationsDetected counts files whose content restarted on the same
	// inode (size below the read offset, or changed leading or preceding
	// bytes); reading restarts at 0 with the next generation.
	TruncationsDetected atomic.Int64
	// InodeReuses counts checkpoint entries whose inode now holds another
	// file (different birth time or fingerprint).
	InodeReuses atomic.Int64
	// CopiesResumed counts files recognised at discovery as a copy of a
	// checkpointed file (resumed from its offset instead of re-read).
	CopiesResumed atomic.Int64

	// LinesRead counts lines passed to lanes; LinesTruncated the lines cut
	// at max_line_bytes (marked "[truncated N bytes]").
	LinesRead      atomic.Int64
	LinesTruncated atomic.Int64
	// BytesRead counts bytes read from files.
	BytesRead atomic.Int64
	// ReadErrors counts failed open, stat and read calls.
	ReadErrors atomic.Int64

	// BatchesFailed counts batches acknowledged as Failed: the file's
	// checkpoint stops there and the data is read again after a restart.
	BatchesFailed atomic.Int64
	// CheckpointSaves and CheckpointSaveErrors count checkpoint writes.
	CheckpointSaves      atomic.Int64
	CheckpointSaveErrors atomic.Int64
	// CheckpointLagBytes is the sum over followed files of size minus the
	// committed offset (a gauge, updated every checkpoint_interval).
	CheckpointLagBytes atomic.Int64
}
