package file

import "github.com/starmates/logshipd/internal/checkpoint"

// fstat is what the source needs to know about a file.
type fstat struct {
	id      checkpoint.FileID
	size    int64
	nlink   uint64
	birth   int64 // Unix ns; 0: unknown
	mtime   int64
	regular bool
}

// sameBirth reports whether two birth times can belong to one inode (an
// unknown birth time matches anything).
func sameBirth(a, b int64) bool { return a == 0 || b == 0 || a == b }
