package main

import (
	"testing"

	"github.com/stretchr/testify/require"
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
