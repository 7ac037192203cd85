//go:build unix && !linux

package file

import (
	"errors"
	"os"
	"syscall"

	"github.com/starmates/logshipd/internal/checkpoint"
)

// Without statx there is no birth time: inode reuse is detected by the
// content fingerprint only.
func statPath(path string) (fstat, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fstat{}, err
	}
	return fromFileInfo(fi)
}

func statFile(f *os.File) (fstat, error) {
	fi, err := f.Stat()
	if err != nil {
		return fstat{}, err
	}
	return fromFileInfo(fi)
}

func fromFileInfo(fi os.FileInfo) (fstat, error) {
	sys, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fstat{}, errors.New("no inode information")
	}
	return fstat{
		id:      checkpoint.FileID{Device: uint64(sys.Dev), Inode: uint64(sys.Ino)},
		size:    fi.Size(),
		nlink:   uint64(sys.Nlink),
		regular: fi.Mode().IsRegular(),
		mtime:   fi.ModTime().UnixNano(),
	}, nil
}
