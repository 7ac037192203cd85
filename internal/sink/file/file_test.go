package file

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/starmates/logshipd/internal/event"
	"github.com/starmates/logshipd/internal/sink"
)

func batch(n int, service string) *event.Batch {
	b := &event.Batch{}
	for i := range n {
		r := event.Record{JSON: []byte(fmt.Sprintf(`{"message":"m%03d"}`, i)), Time: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC), Service: service, Environment: "dev"}
		b.Append(&r, "src", "")
	}
	return b
}

func TestTemplateSanitisedAndRotation(t *testing.T) {
	dir := t.TempDir()
	s, err := New(Config{Path: filepath.Join(dir, "{environment}", "{service}.jsonl"), MaxOpenFiles: 2, RotateBytes: 4096, RotateKeep: 2}, nil)
	require.NoError(t, err)
	require.NoError(t, s.Send(t.Context(), batch(3, "../../etc/evil")))
	require.NoError(t, s.Close(t.Context()))
	b, err := os.ReadFile(filepath.Join(dir, "dev", ".._.._etc_evil.jsonl"))
	require.NoError(t, err, "a record's service can never escape the directory")
	assert.Equal(t, 3, strings.Count(string(b), "\n"))

	s, err = New(Config{Path: filepath.Join(dir, "r.jsonl"), MaxOpenFiles: 2, RotateBytes: 4096, RotateKeep: 2}, nil)
	require.NoError(t, err)
	for range 10 {
		require.NoError(t, s.Send(t.Context(), batch(100, "x"))) // 100 x 18 B per batch
	}
	require.NoError(t, s.Close(t.Context()))
	for _, name := range []string{"r.jsonl", "r.jsonl.1", "r.jsonl.2"} {
		st, err := os.Stat(filepath.Join(dir, name))
		require.NoError(t, err)
		assert.LessOrEqual(t, st.Size(), int64(4096))
	}
	_, err = os.Stat(filepath.Join(dir, "r.jsonl.3"))
	assert.True(t, os.IsNotExist(err), "only rotate_keep old files are kept")
}

func TestStdoutAndValidation(t *testing.T) {
	var out bytes.Buffer
	s, err := New(DefaultConfig(), &out)
	require.NoError(t, err)
	require.NoError(t, s.Send(t.Context(), batch(2, "a")))
	assert.Equal(t, "{\"message\":\"m000\"}\n{\"message\":\"m001\"}\n", out.String())
	_, err = New(Config{Path: "/x/{nope}", MaxOpenFiles: 1, RotateKeep: 1}, nil)
	require.ErrorContains(t, err, "placeholder")
	_, err = New(Config{Path: "x", MaxOpenFiles: 0, RotateBytes: 10, RotateKeep: 0}, nil)
	require.Error(t, err)
}

// A batch is all or nothing: when one file's write fails (here ENOSPC from
// /dev/full), the files the batch already wrote are cut back, so the
// worker's retry writes every record exactly once.
func TestFailedBatchIsUndoneSoRetryDuplicatesNothing(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("needs /dev/full")
	}
	dir := t.TempDir()
	full := filepath.Join(dir, "b.jsonl")
	require.NoError(t, os.Symlink("/dev/full", full))
	s, err := New(Config{Path: filepath.Join(dir, "{service}.jsonl"), MaxOpenFiles: 4, RotateKeep: 1}, nil)
	require.NoError(t, err)
	require.NoError(t, s.Send(t.Context(), batch(2, "a")), "earlier data must survive the undo")

	b := batch(3, "a")
	b.AppendBatch(batch(2, "b"))
	b.AppendBatch(batch(1, "a"))
	err = s.Send(t.Context(), b)
	require.Error(t, err, "b.jsonl is full")
	got, _ := os.ReadFile(filepath.Join(dir, "a.jsonl"))
	assert.Equal(t, 2, strings.Count(string(got), "\n"), "a.jsonl is back to its size before the batch")

	require.NoError(t, os.Remove(full)) // the disk has room again
	require.NoError(t, s.Send(t.Context(), b), "the retry")
	require.NoError(t, s.Close(t.Context()))
	got, _ = os.ReadFile(filepath.Join(dir, "a.jsonl"))
	assert.Equal(t, "{\"message\":\"m000\"}\n{\"message\":\"m001\"}\n"+
		"{\"message\":\"m000\"}\n{\"message\":\"m001\"}\n{\"message\":\"m002\"}\n{\"message\":\"m000\"}\n", string(got))
	got, _ = os.ReadFile(full)
	assert.Equal(t, "{\"message\":\"m000\"}\n{\"message\":\"m001\"}\n", string(got))
}

// Sizes come from the file, not from what this sink wrote: after another
// process truncated the file (copytruncate), rotation still sees the truth.
func TestRotationSeesExternalTruncation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.jsonl")
	s, err := New(Config{Path: path, MaxOpenFiles: 1, RotateBytes: 4096, RotateKeep: 1}, nil)
	require.NoError(t, err)
	require.NoError(t, s.Send(t.Context(), batch(200, "x"))) // 3800 B
	require.NoError(t, os.Truncate(path, 0))
	require.NoError(t, s.Send(t.Context(), batch(100, "x"))) // 1900 B: no rotation due
	require.NoError(t, s.Close(t.Context()))
	_, err = os.Stat(path + ".1")
	assert.True(t, os.IsNotExist(err), "no rotation: the file held 0 B, not 3800")
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.EqualValues(t, 1900, st.Size())
}

// A record whose template path can never be written (a directory is in
// the way) is refused on its own, for the dead-letter file; the others are
// written. A very long value makes a capped name, not an error.
func TestImpossiblePathRefusesOnlyItsRecords(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, "blocked.jsonl"), 0o755))
	s, err := New(Config{Path: filepath.Join(dir, "{service}.jsonl"), MaxOpenFiles: 4, RotateKeep: 1}, nil)
	require.NoError(t, err)
	long := strings.Repeat("s", 300)
	b := batch(2, "ok")
	b.AppendBatch(batch(2, "blocked"))
	b.AppendBatch(batch(1, long))
	err = s.Send(t.Context(), b)
	var pe *sink.PartialError
	require.ErrorAs(t, err, &pe)
	require.Len(t, pe.Items, 2)
	assert.Equal(t, []int{2, 3}, []int{pe.Items[0].Index, pe.Items[1].Index})
	assert.Equal(t, "bad_path", pe.Items[0].Reason)
	require.NoError(t, s.Close(t.Context()))
	got, _ := os.ReadFile(filepath.Join(dir, "ok.jsonl"))
	assert.Equal(t, 2, strings.Count(string(got), "\n"))
	names, _ := filepath.Glob(filepath.Join(dir, "sss*.jsonl"))
	require.Len(t, names, 1)
	assert.LessOrEqual(t, len(filepath.Base(names[0])), 100+len(".jsonl"), "a long value makes a capped file name")

	_, err = New(Config{Path: dir, MaxOpenFiles: 1, RotateKeep: 1}, nil)
	require.ErrorContains(t, err, "is a directory", "a fixed path that is a directory fails at start")
}
