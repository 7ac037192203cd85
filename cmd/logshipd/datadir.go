package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/gofrs/flock"
)

// lockDataDir creates data_dir and takes an exclusive lock on
// <data_dir>/.lock until the returned release is called (or the process
// dies: the kernel drops the lock, so kill -9 leaves nothing stale). Two
// processes sharing a data_dir would overwrite each other's checkpoints,
// replay ledger and disk buffers, so the second one stops at once.
func lockDataDir(dir string) (release func(), err error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("data_dir: %w", err)
	}
	fl := flock.New(filepath.Join(dir, ".lock"))
	ok, err := fl.TryLock()
	if err != nil {
		return nil, fmt.Errorf("data_dir %s: lock: %w", dir, err)
	}
	if !ok {
		return nil, fmt.Errorf("data_dir %s is in use by another logshipd process (run or replay): give each process its own data_dir", dir)
	}
	return func() { _ = fl.Unlock() }, nil
}
