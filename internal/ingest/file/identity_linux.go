package file

import (
	"os"

	"golang.org/x/sys/unix"

	"github.com/starmates/logshipd/internal/checkpoint"
)

// statx returns the identity and size of the file at path (following
// symbolic links) or of the open file f, with the inode's birth time when
// the filesystem records one (ext4, xfs, btrfs, tmpfs): a reused inode has
// a new birth time, which the content fingerprint alone cannot show.
func statPath(path string) (fstat, error) {
	var sx unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, path, unix.AT_STATX_SYNC_AS_STAT, unix.STATX_BASIC_STATS|unix.STATX_BTIME, &sx); err != nil {
		return fstat{}, &os.PathError{Op: "statx", Path: path, Err: err}
	}
	return fromStatx(&sx), nil
}

func statFile(f *os.File) (fstat, error) {
	var sx unix.Statx_t
	if err := unix.Statx(int(f.Fd()), "", unix.AT_EMPTY_PATH|unix.AT_STATX_SYNC_AS_STAT, unix.STATX_BASIC_STATS|unix.STATX_BTIME, &sx); err != nil {
		return fstat{}, &os.PathError{Op: "statx", Path: f.Name(), Err: err}
	}
	return fromStatx(&sx), nil
}

func fromStatx(sx *unix.Statx_t) fstat {
	st := fstat{
		id:      checkpoint.FileID{Device: unix.Mkdev(sx.Dev_major, sx.Dev_minor), Inode: sx.Ino},
		size:    int64(sx.Size),
		nlink:   uint64(sx.Nlink),
		regular: sx.Mode&unix.S_IFMT == unix.S_IFREG,
		mtime:   sx.Mtime.Sec*1e9 + int64(sx.Mtime.Nsec),
	}
	if sx.Mask&unix.STATX_BTIME != 0 {
		st.birth = sx.Btime.Sec*1e9 + int64(sx.Btime.Nsec)
	}
	return st
}
