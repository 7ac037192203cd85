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
