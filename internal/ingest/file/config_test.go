package file

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

func TestDefaultConfig(t *testing.T) {
	c := DefaultConfig()
	require.Equal(t, StartBeginning, c.StartAt)
	require.Equal(t, 250*time.Millisecond, c.PollInterval)
	require.Equal(t, 2*time.Second, c.RescanInterval)
	require.Equal(t, 1<<20, c.MaxLineBytes)
	require.Equal(t, 512, c.MaxOpenFiles)
	require.Equal(t, 256<<10, c.ReadBufferBytes)
	require.Equal(t, 1024, c.FingerprintBytes)
	require.Equal(t, 5*time.Minute, c.CloseInactive)
	require.Equal(t, time.Second, c.CheckpointInterval)
	require.Equal(t, 1<<20, c.BatchMaxBytes)
	require.Equal(t, 200*time.Millisecond, c.BatchMaxWait)
	require.ErrorContains(t, c.Validate(), "include: at least one pattern is required")
	c.Include = []string{"/var/log/*.log"}
	require.NoError(t, c.Validate())
}

func TestConfigYAML(t *testing.T) {
	raw := `
include: ["/var/log/app/**/*.log", "/srv/x.log"]
exclude: ["*.tmp"]
start_at: end
poll_interval: 100ms
rescan_interval: 5s
max_line_bytes: 65536
max_open_files: 64
read_buffer_bytes: 65536
fingerprint_bytes: 2048
close_inactive: 1m
checkpoint_interval: 2s
batch_max_bytes: 524288
batch_max_wait: 1s
`
	c := DefaultConfig()
	dec := yaml.NewDecoder(bytes.NewReader([]byte(raw)))
	dec.KnownFields(true)
	require.NoError(t, dec.Decode(&c))
	require.NoError(t, c.Validate())
	require.Equal(t, Config{
		Include: []string{"/var/log/app/**/*.log", "/srv/x.log"}, Exclude: []string{"*.tmp"}, StartAt: StartEnd,
		PollInterval: 100 * time.Millisecond, RescanInterval: 5 * time.Second, MaxLineBytes: 65536, MaxOpenFiles: 64,
		ReadBufferBytes: 65536, FingerprintBytes: 2048, CloseInactive: time.Minute, CheckpointInterval: 2 * time.Second,
		BatchMaxBytes: 524288, BatchMaxWait: time.Second,
	}, c)

	dec = yaml.NewDecoder(strings.NewReader("include: [a]\nstart_from: end\n"))
	dec.KnownFields(true)
	require.Error(t, dec.Decode(&c), "unknown keys are rejected")
}

func TestValidateReportsEveryProblem(t *testing.T) {
	c := Config{
		Include: []string{"/var/log/[.log", "/var/log/**"}, Exclude: []string{"["}, StartAt: "middle",
		PollInterval: 0, RescanInterval: time.Millisecond, MaxLineBytes: 10, MaxOpenFiles: 0, ReadBufferBytes: 10,
		FingerprintBytes: 1, CloseInactive: -1, CheckpointInterval: 0, BatchMaxBytes: 1, BatchMaxWait: 0,
	}
	err := c.Validate()
	require.Error(t, err)
	for _, want := range []string{
		`include[0] "/var/log/[.log"`, `include[1] "/var/log/**": a pattern cannot end in "**"`, `exclude[0] "["`,
		`start_at "middle"`, "poll_interval", "rescan_interval", "close_inactive", "checkpoint_interval", "batch_max_wait",
		"max_line_bytes 10", "max_open_files 0", "read_buffer_bytes 10", "fingerprint_bytes 1", "batch_max_bytes 1",
	} {
		require.ErrorContains(t, err, want)
	}
	require.Len(t, strings.Split(err.Error(), "\n"), 14)
}

func TestPatterns(t *testing.T) {
	cases := []struct {
		pat, base string
		segs      []string
	}{
		{"/var/log/app.log", "/var/log", []string{"app.log"}},
		{"/var/log/*.log", "/var/log", []string{"*.log"}},
		{"/var/log/**/x/*.log", "/var/log", []string{"**", "x", "*.log"}},
		{"/var/*/app/*.log", "/var", []string{"*", "app", "*.log"}},
		{"/a.log", "/", []string{"a.log"}},
	}
	for _, c := range cases {
		p, err := compilePattern(c.pat)
		require.NoError(t, err, c.pat)
		require.Equal(t, c.base, p.base, c.pat)
		require.Equal(t, c.segs, p.segs, c.pat)
	}
	wd, err := os.Getwd()
	require.NoError(t, err)
	p, err := compilePattern("logs/*.log")
	require.NoError(t, err)
	require.Equal(t, filepath.Join(wd, "logs"), p.base)
}

func TestMatchSegs(t *testing.T) {
	split := func(s string) []string { return strings.Split(strings.TrimPrefix(s, "/"), "/") }
	cases := []struct {
		pat, path string
		ok        bool
	}{
		{"/a/**/b.log", "/a/b.log", true},
		{"/a/**/b.log", "/a/x/y/b.log", true},
		{"/a/**/b.log", "/a/x/y/c.log", false},
		{"/a/**", "/a/x/y", true},
		{"/a/*/b.log", "/a/x/y/b.log", false},
		{"/**/*.tmp", "/a/b/c.tmp", true},
		{"/a/**/**/b", "/a/b", true},
	}
	for _, c := range cases {
		require.Equal(t, c.ok, matchSegs(split(c.pat), split(c.path)), "%s vs %s", c.pat, c.path)
	}
	e, err := compileExclude("*.tmp")
	require.NoError(t, err)
	require.True(t, e.match("/var/log/deep/x.tmp"))
	require.False(t, e.match("/var/log/x.log"))
}

func TestExpand(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"a.log", "b.txt", "s/a.log", "s/t/a.log", "s/t/u/v.log", "link-target/a.log"} {
		writeFile(t, filepath.Join(dir, p), "x\n")
	}
	require.NoError(t, os.Symlink(filepath.Join(dir, "link-target"), filepath.Join(dir, "s", "link")))
	got := func(pat string) []string {
		p, err := compilePattern(filepath.Join(dir, pat))
		require.NoError(t, err)
		var out []string
		p.expand(func(path string) {
			if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() {
				rel, _ := filepath.Rel(dir, path)
				out = append(out, rel)
			}
		}, func(string) {})
		slices.Sort(out)
		return slices.Compact(out)
	}
	require.Equal(t, []string{"a.log", "link-target/a.log", "s/a.log", "s/t/a.log"}, got("**/a.log"), `"**" does not follow s/link`)
	require.Equal(t, []string{"s/link/a.log", "s/t/a.log"}, got("s/*/a.log"), "wildcard segments follow directory symlinks")
	require.Equal(t, []string{"s/t/u/v.log"}, got("s/**/v.log"))
	require.Equal(t, []string{"a.log"}, got("a.log"))
	require.Equal(t, []string{"a.log", "b.txt"}, got("*"))
}

func TestIsCompressed(t *testing.T) {
	for _, p := range []string{"a.log.gz", "A.LOG.GZ", "x.zst", "y.bz2", "z.xz", "w.zip", "v.Z"} {
		require.True(t, isCompressed(p), p)
	}
	for _, p := range []string{"a.log", "a.log.1", "gz.log", "a.gzip.log"} {
		require.False(t, isCompressed(p), p)
	}
}
