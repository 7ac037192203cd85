package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPrecedenceAndDefaults(t *testing.T) {
	cfg, err := Parse("t.yaml", []byte("normalize:\n  environment: staging\n  project: p2\n  service: s2\n"))
	require.NoError(t, err)
	assert.Equal(t, "staging", cfg.Normalize.Environment, "section value kept when the top level is unset")
	assert.Equal(t, "p2", cfg.Normalize.Project)
	assert.Equal(t, "s2", cfg.Normalize.Service)

	cfg, err = Parse("t.yaml", []byte("environment: prod\nservice: top\nnormalize:\n  environment: staging\n  service: s2\n"))
	require.NoError(t, err)
	assert.Equal(t, "prod", cfg.Normalize.Environment, "top-level wins")
	assert.Equal(t, "top", cfg.Normalize.Service)

	cfg, err = Parse("empty.yaml", nil)
	require.NoError(t, err)
	assert.Equal(t, "dev", cfg.Normalize.Environment)
	assert.Equal(t, "starmates-ai-team", cfg.Normalize.Project)
}

func TestExpand(t *testing.T) {
	t.Setenv("LS_SET", "value")
	t.Setenv("LS_EMPTY", "")
	out, err := Expand([]byte("a: ${LS_SET}\nb: ${LS_UNSET_X:-fallback}\nc: ${LS_EMPTY:-d}\nd: ${LS_EMPTY}\n"))
	require.NoError(t, err)
	assert.Equal(t, "a: value\nb: fallback\nc: d\nd: \n", string(out))
	_, err = Expand([]byte("x: ${LS_UNSET_A}\ny: ${LS_UNSET_B}\n"))
	require.ErrorContains(t, err, "LS_UNSET_A")
	require.ErrorContains(t, err, "LS_UNSET_B")
}

func TestStrictAndValidated(t *testing.T) {
	_, err := Parse("t.yaml", []byte("environment: dev\nbogus: 1\n"))
	require.ErrorContains(t, err, "bogus")
	require.ErrorContains(t, err, "t.yaml:2")
	_, err = Parse("t.yaml", []byte("normalize:\n  max_fields: 5\n  format: nope\n"))
	require.ErrorContains(t, err, "max_fields")
	require.ErrorContains(t, err, "format")
}

func TestExampleConfigLoads(t *testing.T) {
	_, err := Load(filepath.Join("..", "..", "examples", "logshipd.yaml"))
	require.NoError(t, err)
	_, err = Load(filepath.Join(t.TempDir(), "missing.yaml"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestMemoryLimit(t *testing.T) {
	for in, want := range map[string]int64{"96MiB": 96 << 20, "1GiB": 1 << 30, "20000000": 20000000, "65536KiB": 64 << 20, " 48 MiB ": 48 << 20} {
		n, auto, err := ParseMemoryLimit(in)
		require.NoError(t, err, in)
		assert.False(t, auto)
		assert.Equal(t, want, n, in)
	}
	_, auto, err := ParseMemoryLimit("auto")
	require.NoError(t, err)
	assert.True(t, auto)
	n, auto, err := ParseMemoryLimit("off")
	require.NoError(t, err)
	assert.False(t, auto)
	assert.Zero(t, n)
	for _, bad := range []string{"lots", "-5MiB", "1MiB", "12.5MiB", "9999999999GiB"} {
		_, _, err := ParseMemoryLimit(bad)
		assert.Error(t, err, bad)
	}
	cfg, err := Parse("t.yaml", nil)
	require.NoError(t, err)
	assert.Equal(t, "auto", cfg.MemoryLimit)
	_, err = Parse("t.yaml", []byte("memory_limit: 2MiB\n"))
	require.ErrorContains(t, err, "memory_limit")
}
