package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// "**" spans any number of directories, and the segments after it keep
// their meaning (they are not matched against the file name only).
func TestExpandGlobsDoubleStar(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"a/2024/x.log", "a/b/2024/y.log", "a/b/2025/z.log", "2024/top.log", "a/2024/sub/deep.log", "a/2024/n.txt"} {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, p), []byte("x\n"), 0o644))
	}
	got, err := expandGlobs([]string{filepath.Join(dir, "**/2024/*.log")})
	require.NoError(t, err)
	for i := range got {
		got[i], _ = filepath.Rel(dir, got[i])
	}
	assert.ElementsMatch(t, []string{"2024/top.log", "a/2024/x.log", "a/b/2024/y.log"}, got)

	got, err = expandGlobs([]string{filepath.Join(dir, "a/**/*.log"), filepath.Join(dir, "a/2024/x.log")})
	require.NoError(t, err)
	assert.Len(t, got, 4, "every .log under a/, each once")

	_, err = expandGlobs([]string{filepath.Join(dir, "**/*.nope")})
	require.ErrorContains(t, err, "matches no file")
	_, err = expandGlobs([]string{filepath.Join(dir, "[")})
	require.Error(t, err, "a broken pattern is an error")
}
