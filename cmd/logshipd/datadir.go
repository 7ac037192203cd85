package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/gofrs/flock"

	"github.com/starmates/logshipd/internal/config"
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

// lockForReplay takes what a replay needs. A replay next to a running
// daemon on the same data_dir is fine (it keeps its own ledger in
// data_dir/replay and uses no checkpoint), unless a sink buffers on disk:
// two processes must not write one disk buffer, so then the whole
// data_dir is locked, as `run` does. Two replays on one data_dir always
// exclude each other (one ledger).
func lockForReplay(cfg config.File) (release func(), err error) {
	for _, s := range cfg.Sinks {
		if s.Queue.Buffer == "disk" {
			release, err := lockDataDir(cfg.DataDir)
			if err != nil {
				return nil, fmt.Errorf("%w (sink %s buffers on disk there)", err, s.Name)
			}
			return release, nil
		}
	}
	ledger, err := lockDataDir(filepath.Join(cfg.DataDir, "replay"))
	if err != nil {
		return nil, fmt.Errorf("another replay is running on this data_dir: %w", err)
	}
	return ledger, nil
}
