package checkpoint

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func entry(ino uint64, off int64) Entry {
	return Entry{
		Device: 7, Inode: ino, Birth: 1700000000123456789,
		Fingerprint: Fingerprint([]byte("first line\n")), FingerprintLen: 11,
		Generation: 2, Path: "/var/log/app.log", Offset: off,
		Updated: time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC),
	}
}

func TestOpenMissingSaveReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, "app")
	require.NoError(t, err)
	require.Equal(t, 0, s.Len())
	require.Equal(t, filepath.Join(dir, "checkpoints", "app.json"), s.Path())
	_, statErr := os.Stat(filepath.Join(dir, "checkpoints"))
	require.ErrorIs(t, statErr, os.ErrNotExist, "Open must not create anything")

	s.Set(entry(1, 100))
	s.Set(entry(2, 200))
	s.Forget(FileID{Device: 7, Inode: 2})
	s.Set(entry(3, 300))
	require.True(t, s.Dirty())
	require.NoError(t, s.Save())
	require.False(t, s.Dirty())

	fi, err := os.Stat(s.Path())
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	r, err := Open(dir, "app")
	require.NoError(t, err)
	require.Equal(t, []Entry{entry(1, 100), entry(3, 300)}, r.Entries())
	got, ok := r.Get(FileID{Device: 7, Inode: 3})
	require.True(t, ok)
	require.Equal(t, int64(300), got.Offset)
	_, ok = r.Get(FileID{Device: 7, Inode: 2})
	require.False(t, ok)
}

func TestSaveSkipsWhenUnchanged(t *testing.T) {
	s, err := Open(t.TempDir(), "app")
	require.NoError(t, err)
	writes := 0
	s.writeHook = func(f *os.File, b []byte) error {
		writes++
		_, err := f.Write(b)
		return err
	}
	require.NoError(t, s.Save()) // nothing ever set: nothing to write
	s.Set(entry(1, 1))
	require.NoError(t, s.Save())
	require.NoError(t, s.Save())
	s.Set(entry(1, 1)) // same value: not a change
	require.NoError(t, s.Save())
	require.Equal(t, 1, writes)
	s.Set(entry(1, 2))
	require.NoError(t, s.Save())
	require.Equal(t, 2, writes)
}

// A crash while the temporary file is being written leaves a torn temp
// file next to the good checkpoint: it must never be read, and the next
// Save removes it.
func TestTornTempFileNeverReplacesCheckpoint(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, "app")
	require.NoError(t, err)
	s.Set(entry(1, 100))
	require.NoError(t, s.Save())
	good, err := os.ReadFile(s.Path())
	require.NoError(t, err)

	torn := filepath.Join(dir, "checkpoints", ".app.json.tmp-123456")
	require.NoError(t, os.WriteFile(torn, good[:len(good)/2], 0o600))

	r, err := Open(dir, "app")
	require.NoError(t, err)
	require.Equal(t, []Entry{entry(1, 100)}, r.Entries())

	r.Set(entry(1, 150))
	require.NoError(t, r.Save())
	_, err = os.Stat(torn)
	require.ErrorIs(t, err, os.ErrNotExist)
	r2, err := Open(dir, "app")
	require.NoError(t, err)
	require.Equal(t, []Entry{entry(1, 150)}, r2.Entries())
}

// A failing write (disk full, I/O error) half-way through the temporary
// file leaves the previous checkpoint intact, and the next Save retries.
func TestFailedWriteKeepsOldCheckpoint(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, "app")
	require.NoError(t, err)
	s.Set(entry(1, 100))
	require.NoError(t, s.Save())

	s.Set(entry(1, 999))
	s.writeHook = func(f *os.File, b []byte) error {
		_, _ = f.Write(b[:len(b)/3])
		return errors.New("no space left on device")
	}
	err = s.Save()
	require.ErrorContains(t, err, "no space left on device")
	require.True(t, s.Dirty(), "a failed save keeps the changes pending")

	r, err := Open(dir, "app")
	require.NoError(t, err)
	require.Equal(t, []Entry{entry(1, 100)}, r.Entries())
	tmps, _ := filepath.Glob(filepath.Join(dir, "checkpoints", ".app.json.tmp-*"))
	require.Empty(t, tmps)

	s.writeHook = nil
	require.NoError(t, s.Save())
	r, err = Open(dir, "app")
	require.NoError(t, err)
	require.Equal(t, []Entry{entry(1, 999)}, r.Entries())
}

func TestCorruptFileRefusesToStart(t *testing.T) {
	s, err := Open(t.TempDir(), "app")
	require.NoError(t, err)
	s.Set(entry(1, 100))
	require.NoError(t, s.Save())
	valid, err := os.ReadFile(s.Path())
	require.NoError(t, err)

	cases := map[string]string{
		"empty":           "",
		"garbage":         "\x00\x01not json",
		"half":            string(valid[:len(valid)/2]),
		"trailing data":   string(valid) + "{}",
		"wrong version":   strings.Replace(string(valid), `"version": 1`, `"version": 9`, 1),
		"unknown field":   strings.Replace(string(valid), `"version": 1`, `"version": 1, "extra": true`, 1),
		"negative":        strings.Replace(string(valid), `"offset": 100`, `"offset": -5`, 1),
		"bad fingerprint": strings.Replace(string(valid), Fingerprint([]byte("first line\n")), "zz", 1),
		"wrong type":      strings.Replace(string(valid), `"offset": 100`, `"offset": "100"`, 1),
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "checkpoints", "app.json")
			require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o700))
			require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
			_, err := Open(dir, "app")
			require.ErrorIs(t, err, ErrCorrupt)
			var ce *CorruptError
			require.ErrorAs(t, err, &ce)
			require.Equal(t, path, ce.Path)
			require.ErrorContains(t, err, "refusing to start")
			require.ErrorContains(t, err, "move it away")
		})
	}
}

func TestUnreadableFileIsAnError(t *testing.T) {
	dir := t.TempDir()
	// A directory where the file should be cannot be read as a file.
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "checkpoints", "app.json"), 0o700))
	_, err := Open(dir, "app")
	require.Error(t, err)
	require.NotErrorIs(t, err, ErrCorrupt)
	require.ErrorContains(t, err, "refusing to start")
}

func TestInvalidNames(t *testing.T) {
	for _, name := range []string{"", ".", "..", "a/b", ".hidden", "a\x00b", `a\b`} {
		_, err := Open(t.TempDir(), name)
		require.Error(t, err, "name %q", name)
	}
	_, err := Open("", "app")
	require.ErrorContains(t, err, "data_dir")
}

func TestConcurrentSetAndSave(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, "app")
	require.NoError(t, err)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 200 {
				s.Set(entry(uint64(w), int64(i)))
				if i%50 == 0 {
					s.Forget(FileID{Device: 7, Inode: 99})
				}
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			require.NoError(t, s.Save())
		}
	})
	wg.Wait()
	require.NoError(t, s.Save())
	r, err := Open(dir, "app")
	require.NoError(t, err)
	require.Len(t, r.Entries(), 4)
	for _, e := range r.Entries() {
		require.Equal(t, int64(199), e.Offset)
	}
}

func TestFingerprint(t *testing.T) {
	require.Equal(t, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Fingerprint(nil))
	require.NotEqual(t, Fingerprint([]byte("a")), Fingerprint([]byte("b")))
}
