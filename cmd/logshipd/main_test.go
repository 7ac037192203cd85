package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/starmates/logshipd/internal/schematest"
)

func execute(t *testing.T, ctx context.Context, stdin io.Reader, args ...string) (string, error) {
	t.Helper()
	root := newRoot(slog.New(slog.NewJSONHandler(io.Discard, nil)))
	var out bytes.Buffer
	root.SetIn(stdin)
	root.SetOut(&out)
	root.SetErr(io.Discard)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	return out.String(), err
}

func TestNormalizeCommand(t *testing.T) {
	in := strings.NewReader("INFO:     Started server process [1]\nERROR:app:boom\nTraceback (most recent call last):\n  File \"a.py\", line 1, in f\nValueError: bad\n")
	out, err := execute(t, t.Context(), in, "normalize", "--service", "api-gateway", "--environment", "staging", "--project", "p1")
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 2, "the pending traceback record is flushed at EOF")
	for _, l := range lines {
		require.NoError(t, schematest.Validate([]byte(l)))
		assert.Equal(t, "api-gateway", gjson.Get(l, "service").Str)
		assert.Equal(t, "staging", gjson.Get(l, "environment").Str)
		assert.Equal(t, "p1", gjson.Get(l, "project").Str)
	}
	assert.Equal(t, "ValueError", gjson.Get(lines[1], "exception.class").Str)
}

func TestNormalizeFlags(t *testing.T) {
	out, err := execute(t, t.Context(), strings.NewReader("2026-11-25 10:00:00,000 - a - INFO - x\n"), "normalize", "--timezone", "Asia/Tokyo", "--format", "python")
	require.NoError(t, err)
	assert.Equal(t, "2026-11-25T01:00:00.000Z", gjson.Get(out, `\@timestamp`).Str)

	_, err = execute(t, t.Context(), strings.NewReader(""), "normalize", "--format", "bogus")
	require.ErrorContains(t, err, "format")
	_, err = execute(t, t.Context(), strings.NewReader(""), "normalize", "--timezone", "Nowhere/Zone")
	require.ErrorContains(t, err, "timezone")
}

func TestNormalizeConfigFile(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte("environment: ${LOGSHIPD_TEST_ENV:-qa}\nservice: svc-from-file\nnormalize:\n  tracking_id_fallback: none\n"), 0o600))
	out, err := execute(t, t.Context(), strings.NewReader("hello\n"), "normalize", "-c", cfg)
	require.NoError(t, err)
	assert.Equal(t, "qa", gjson.Get(out, "environment").Str)
	assert.Equal(t, "svc-from-file", gjson.Get(out, "service").Str)
	assert.Equal(t, "none", gjson.Get(out, "tracking_id").Str)

	require.NoError(t, os.WriteFile(cfg, []byte("normalize:\n  max_feilds: 10\n"), 0o600))
	_, err = execute(t, t.Context(), strings.NewReader(""), "normalize", "-c", cfg)
	require.ErrorContains(t, err, "max_feilds")
}

// A pending multiline record is flushed by the timeout while stdin stays
// open (streaming use), not only at EOF.
func TestNormalizeFlushTimeoutWhileIdle(t *testing.T) {
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	root := newRoot(slog.New(slog.NewJSONHandler(io.Discard, nil)))
	out := &syncBuffer{}
	root.SetIn(pr)
	root.SetOut(out)
	root.SetArgs([]string{"normalize"})
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	_, err := pw.Write([]byte("ERROR:app:boom\nTraceback (most recent call last):\n"))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "boom") }, 5*time.Second, 20*time.Millisecond)
	pw.Close()
	require.NoError(t, <-done)
}

func TestVersionAndHelp(t *testing.T) {
	out, err := execute(t, t.Context(), nil, "version")
	require.NoError(t, err)
	assert.Contains(t, out, "logshipd")
	for _, cmd := range []string{"normalize", "tail", "version"} {
		out, err := execute(t, t.Context(), nil, cmd, "--help")
		require.NoError(t, err)
		assert.Contains(t, out, "Usage:")
	}
}

func TestTailHumanAndJSON(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "app.log")
	require.NoError(t, os.WriteFile(p, []byte(`{"level":"error","msg":"boom","service":"api","tracking_id":"10e5391e-970b-4dcf-8be2-4cd703d8ff2e","exc_info":"Traceback (most recent call last):\n  File \"a.py\", line 1, in f\nValueError: bad"}`+"\n"+`{"level":"debug","msg":"quiet","service":"api"}`+"\n"), 0o600))
	out, err := execute(t, t.Context(), nil, "tail", "--level", "INFO", filepath.Join(dir, "*.log"))
	require.NoError(t, err)
	assert.Contains(t, out, "ERROR api [10e5391e] boom")
	assert.Contains(t, out, "\n    ValueError: bad")
	assert.NotContains(t, out, "quiet")
	assert.NotContains(t, out, "\x1b[", "no colour when not a TTY")

	out, err = execute(t, t.Context(), nil, "tail", "--json", p)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 2)
	for _, l := range lines {
		require.NoError(t, schematest.Validate([]byte(l)))
	}
	_, err = execute(t, t.Context(), nil, "tail", filepath.Join(dir, "*.nomatch"))
	require.Error(t, err)
}

func TestTailFollow(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "app.log")
	require.NoError(t, os.WriteFile(p, []byte("first line\n"), 0o600))
	ctx, cancel := context.WithCancel(t.Context())
	root := newRoot(slog.New(slog.NewJSONHandler(io.Discard, nil)))
	out := &syncBuffer{}
	root.SetOut(out)
	root.SetArgs([]string{"tail", "--follow", "--json", p})
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "first line") }, 5*time.Second, 20*time.Millisecond)

	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("second line\n")
	require.NoError(t, err)
	f.Close()
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "second line") }, 5*time.Second, 20*time.Millisecond)

	// rename/create rotation
	require.NoError(t, os.Rename(p, p+".1"))
	require.NoError(t, os.WriteFile(p, []byte("after rotation\n"), 0o600))
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "after rotation") }, 5*time.Second, 20*time.Millisecond)

	// copytruncate: the file shrinks below the read offset
	require.NoError(t, os.WriteFile(p, []byte("trunc\n"), 0o600))
	require.Eventually(t, func() bool { return strings.Contains(out.String(), `"trunc"`) }, 5*time.Second, 20*time.Millisecond)
	cancel()
	require.NoError(t, <-done)
}

func TestRunStdinToFileSinkExitsAtEOF(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(`environment: dev
data_dir: `+filepath.Join(dir, "data")+`
sources:
  - {name: in, type: stdin, service: cli}
sinks:
  - {name: local, type: file, path: "`+filepath.Join(dir, "out", "{service}.jsonl")+`"}
`), 0o600))
	data, err := os.ReadFile("../../internal/normalize/testdata/corpus/fastapi-api-gateway-stream-utc.log")
	require.NoError(t, err)
	_, err = execute(t, t.Context(), bytes.NewReader(data), "run", "-c", cfg)
	require.NoError(t, err)
	total := 0
	for _, name := range []string{"api-gateway", "cli"} {
		b, err := os.ReadFile(filepath.Join(dir, "out", name+".jsonl"))
		require.NoError(t, err)
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		for _, l := range lines {
			require.NoError(t, schematest.Validate([]byte(l)))
		}
		total += len(lines)
	}
	assert.Equal(t, 72, total, "every record of the sample is written before exit")
}

func TestValidateListsEveryProblem(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(`environment: dev
bogus: 1
sources:
  - {name: in, type: stdin, servce: cli}
  - {name: in, type: nope}
  - {name: in2, type: stdin}
sinks:
  - {name: local, type: file, path: "/tmp/{svc}.jsonl", queue: {when_full: maybe}}
normalize:
  max_fields: 3
`), 0o600))
	_, err := execute(t, t.Context(), nil, "validate", "-c", cfg)
	require.Error(t, err)
	msg := err.Error()
	for _, want := range []string{
		"bad.yaml:2: field bogus not found",
		"bad.yaml:4: sources.in.servce: unknown key",
		`bad.yaml:5: sources.in.type: "nope": unknown`,
		"bad.yaml:5: sources.in: duplicate name",
		"bad.yaml:6: sources.in2.type: a second stdin source (first at line 4)",
		`queue.when_full "maybe"`,
		"unknown placeholder",
		"max_fields 3",
	} {
		assert.Contains(t, msg, want)
	}
	good := filepath.Join(dir, "good.yaml")
	require.NoError(t, os.WriteFile(good, []byte("sources: [{name: in, type: stdin}]\nsinks: [{name: out, type: file, path: '-'}]\n"), 0o600))
	out, err := execute(t, t.Context(), nil, "validate", "-c", good)
	require.NoError(t, err)
	assert.Contains(t, out, "ok")
	_, err = execute(t, t.Context(), nil, "validate", "-c", filepath.Join(dir, "nosinks.yaml"))
	require.Error(t, err)
}

func TestReplayCommand(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yaml")
	out := filepath.Join(dir, "out.jsonl")
	require.NoError(t, os.WriteFile(cfg, []byte("data_dir: "+filepath.Join(dir, "data")+"\nsinks:\n  - {name: local, type: file, path: \""+out+"\"}\n"), 0o600))
	logf := filepath.Join(dir, "old.log")
	require.NoError(t, os.WriteFile(logf, []byte(`{"time":"2026-01-01T00:00:00Z","msg":"jan"}
{"time":"2026-06-01T00:00:00Z","msg":"jun"}
{"time":"2026-11-01T00:00:00Z","msg":"nov"}
`), 0o600))
	summary, err := execute(t, t.Context(), nil, "replay", "-c", cfg, "--since", "2026-03-01T00:00:00Z", "--until", "2026-11-01T00:00:00Z", logf)
	require.NoError(t, err)
	assert.Contains(t, summary, "1 records shipped, 2 outside --since/--until")
	assert.Contains(t, summary, "sink local: 1 delivered, 0 refused")
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Equal(t, "jun", gjson.Get(strings.TrimSpace(string(b)), "message").Str)
	summary, err = execute(t, t.Context(), nil, "replay", "-c", cfg, logf)
	require.NoError(t, err)
	assert.Contains(t, summary, "1 skipped (already shipped)")
}

func TestHealthAgainstRunningDaemon(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	cfg := filepath.Join(dir, "c.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(fmt.Sprintf("data_dir: %s\nmetrics: {listen: \"127.0.0.1:%d\"}\nsources: [{name: app, type: file, include: [\"%s/*.log\"]}]\nsinks: [{name: out, type: file, path: %s/out.jsonl}]\n", dir, port, dir, dir)), 0o600))
	_, err := execute(t, t.Context(), nil, "health", "-c", cfg)
	require.Error(t, err, "nothing listens yet")
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := execute(t, ctx, nil, "run", "-c", cfg)
		done <- err
	}()
	require.Eventually(t, func() bool {
		_, err := execute(t, t.Context(), nil, "health", "-c", cfg)
		return err == nil
	}, 10*time.Second, 50*time.Millisecond)
	out, err := execute(t, t.Context(), nil, "health", "--addr", fmt.Sprintf("127.0.0.1:%d", port), "--ready")
	require.NoError(t, err)
	assert.Contains(t, out, "ok")
	cancel()
	require.NoError(t, <-done)
}
