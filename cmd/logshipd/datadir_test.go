package main

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/starmates/logshipd/internal/config"
	"github.com/starmates/logshipd/internal/sink"
)

// A data_dir is used by one process at a time: a second run or replay on
// it stops at once with a clear error; the lock goes with its holder.
func TestDataDirLock(t *testing.T) {
	dir := t.TempDir()
	release, err := lockDataDir(dir)
	require.NoError(t, err)
	_, err = lockDataDir(dir)
	require.ErrorContains(t, err, "in use by another logshipd")
	release()
	release2, err := lockDataDir(dir)
	require.NoError(t, err, "free again once released")
	release2()
}

// A replay may run next to a daemon on the same data_dir (its own ledger,
// no checkpoint) unless a sink buffers on disk there; two replays never
// share a data_dir.
func TestReplayLockNextToDaemon(t *testing.T) {
	dir := t.TempDir()
	daemon, err := lockDataDir(dir)
	require.NoError(t, err)
	defer daemon()

	mem := config.File{DataDir: dir, Sinks: []config.Sink{{Name: "cw", Queue: sink.DefaultQueueConfig()}}}
	release, err := lockForReplay(mem)
	require.NoError(t, err, "memory queues: the replay runs beside the daemon")
	_, err = lockForReplay(mem)
	require.ErrorContains(t, err, "another replay")
	release()

	disk := sink.DefaultQueueConfig()
	disk.Buffer = "disk"
	_, err = lockForReplay(config.File{DataDir: dir, Sinks: []config.Sink{{Name: "loki", Queue: disk}}})
	require.ErrorContains(t, err, "sink loki buffers on disk")
}
