package file

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/starmates/logshipd/internal/checkpoint"
)

// found is a matched regular file.
type found struct {
	path string
	st   fstat
}

// pendingFile is a matched file not read yet because it may be a copy of
// a followed file (its first fingerprint_bytes equal that file's): copy
// (copytruncate's rotated copy, made before the truncation) or undecided
// (shorter than fingerprint_bytes and a prefix of a followed file's head).
type pendingFile struct {
	path     string
	st       fstat
	copyOf   *tracker // nil: undecided
	copyGen  uint64   // copyOf's generation when the copy was recognised
	verified int64    // bytes known to equal copyOf's file
	since    time.Time
	mismatch time.Time // when verification first failed (zero: it did not)
}

// copyGrace is how long a pending file waits for the file it resembles
// to be truncated (or to diverge) before it is read as a file of its own.
func (m *manager) copyGrace() time.Duration { return max(4*m.cfg.PollInterval, time.Second) }

// expand lists the matched regular files (first path of each inode wins)
// and the directories to watch.
func (m *manager) expand() ([]found, map[string]bool) {
	dirs := map[string]bool{}
	seenPath := map[string]bool{}
	seenID := map[checkpoint.FileID]bool{}
	var out []found
	for _, p := range m.src.patterns {
		p.expand(func(path string) {
			if seenPath[path] {
				return
			}
			seenPath[path] = true
			if isCompressed(path) || m.excluded(path) {
				return
			}
			st, err := statPath(path)
			if err != nil || !st.regular || seenID[st.id] {
				return
			}
			seenID[st.id] = true
			out = append(out, found{path: path, st: st})
			// A symbolic link (Kubernetes' /var/log/containers/*.log): its
			// target is rotated in the target's directory (kubelet renames
			// 0.log and creates a new one), which must be watched too, or a
			// new target would only be seen at the next rescan.
			if li, err := os.Lstat(path); err == nil && li.Mode()&fs.ModeSymlink != 0 {
				if target, err := filepath.EvalSymlinks(path); err == nil {
					dirs[filepath.Dir(target)] = true
				}
			}
		}, func(d string) { dirs[d] = true })
	}
	return out, dirs
}

func (m *manager) excluded(path string) bool {
	for _, e := range m.src.excludes {
		if e.match(path) {
			return true
		}
	}
	return false
}

// openHead opens the file at path if it is still the inode st describes
// and reads its first min(size, fingerprint_bytes) bytes. The caller owns
// the returned file.
func (m *manager) openHead(path string, st fstat) (*os.File, []byte, fstat, bool) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, st, false
	}
	cur, err := statFile(f)
	if err != nil || cur.id != st.id || !sameBirth(cur.birth, st.birth) {
		_ = f.Close()
		return nil, nil, st, false
	}
	n := min(cur.size, int64(m.cfg.FingerprintBytes))
	b := make([]byte, n)
	k, _ := f.ReadAt(b, 0)
	return f, b[:k], cur, true
}

// readHead is openHead without keeping the file open.
func (m *manager) readHead(path string, st fstat) ([]byte, fstat, bool) {
	f, b, cur, ok := m.openHead(path, st)
	if ok {
		_ = f.Close()
	}
	return b, cur, ok
}

// fingerprintMatches reports whether the file's first e.FingerprintLen
// bytes hash to e.Fingerprint (the entry may have been written with a
// larger fingerprint_bytes than the current one).
func fingerprintMatches(f *os.File, head []byte, e checkpoint.Entry) bool {
	b := head
	if len(b) < e.FingerprintLen {
		b = make([]byte, e.FingerprintLen)
		if n, _ := f.ReadAt(b, 0); n != len(b) {
			return false
		}
	}
	return checkpoint.Fingerprint(b[:e.FingerprintLen]) == e.Fingerprint
}

// trackerOfLocked returns the tracker following f's inode, if it is the
// same file: a different birth time means the inode was freed and reused,
// and the old tracker's file is gone.
func (m *manager) trackerOfLocked(f found) *tracker {
	t := m.trackers[f.st.id]
	if t == nil || sameBirth(t.birth, f.st.birth) {
		return t
	}
	t.unmatched.Store(true)
	t.poke()
	delete(m.trackers, f.st.id)
	return nil
}

// scanLocked expands the patterns, follows new files and marks followed
// files that are no longer matched. It returns the directories to watch.
func (m *manager) scanLocked(first bool) map[string]bool {
	now := time.Now()
	files, dirs := m.expand()
	seen := make(map[checkpoint.FileID]bool, len(files))
	var fresh []found
	for _, f := range files {
		seen[f.st.id] = true
		if t := m.trackerOfLocked(f); t != nil {
			if t.path() != f.path {
				m.stats.RotationsRename.Add(1) // renamed within the patterns
			}
			t.setPath(f.path)
			t.unmatched.Store(false)
			continue
		}
		if p := m.pending[f.st.id]; p != nil && sameBirth(p.st.birth, f.st.birth) {
			p.path, p.st = f.path, f.st
			continue
		}
		delete(m.pending, f.st.id)
		fresh = append(fresh, f)
	}
	for id, t := range m.trackers {
		if !seen[id] && !t.unmatched.Swap(true) {
			t.poke()
		}
	}
	for id := range m.pending {
		if !seen[id] {
			delete(m.pending, id)
		}
	}
	m.classifyLocked(fresh, first, now)
	m.reevaluatePendingLocked(now)
	m.byPath = make(map[string]*tracker, len(m.trackers))
	for _, t := range m.trackers {
		if !t.unmatched.Load() {
			m.byPath[t.path()] = t
		}
	}
	return dirs
}

// startSpec says where a new tracker starts.
type startSpec struct {
	path     string
	st       fstat
	head     []byte
	offset   int64
	gen      uint64
	updated  time.Time // entry time (zero: now)
	copyMode bool
	clamp    int64
	f        *os.File // open handle (handed to the tracker), or nil
}

// classifyLocked decides, for files not followed yet, where to start:
//  1. An entry for the inode whose birth time and fingerprint match:
//     resume at its offset (a shorter file than the offset was
//     truncated: next generation from 0). A mismatch means the inode was
//     reused or the file truncated: next generation from 0.
//  2. A file whose first fingerprint_bytes equal a followed file's, at
//     another path, is a copy of it (copytruncate's rotated copy): it is
//     not read while that file lives on; when that file is truncated its
//     stream continues in the copy (see genEnded).
//  3. Likewise a copy of a checkpointed file that was truncated in place
//     while logshipd was down resumes at that entry's offset.
//  4. A shorter file whose bytes are a prefix of a followed file's head
//     waits briefly (a copy being written) before it is read.
//  5. Anything else is new: from the beginning, or from the end for files
//     present at start with start_at: end.
func (m *manager) classifyLocked(fresh []found, first bool, now time.Time) {
	n := m.cfg.FingerprintBytes
	var rest []startSpec
	reset := map[checkpoint.FileID]bool{}
	for _, f := range fresh {
		// The handle opened here is kept by the tracker: a file renamed or
		// deleted right after being found is still read to its end.
		fh, hb, st, ok := m.openHead(f.path, f.st)
		if !ok {
			// Renamed or deleted since the listing: look again soon.
			m.requestScan()
			continue
		}
		sp := startSpec{path: f.path, st: st, head: hb, clamp: -1, f: fh}
		e, has := m.store.Get(st.id)
		if !has {
			rest = append(rest, sp)
			continue
		}
		birthOK := sameBirth(e.Birth, st.birth)
		if birthOK && fingerprintMatches(fh, hb, e) {
			if e.Offset <= st.size {
				sp.offset, sp.gen, sp.updated = e.Offset, e.Generation, e.Updated
				m.startLocked(sp)
				continue
			}
			m.stats.TruncationsDetected.Add(1)
			m.log.Info("file is shorter than its checkpoint (truncated while stopped): reading it from the start", "path", f.path, "offset", e.Offset, "size", st.size)
		} else if birthOK && e.Birth != 0 {
			m.stats.TruncationsDetected.Add(1)
			m.log.Info("file content changed on the same inode (truncated while stopped): reading it from the start", "path", f.path, "previous_path", e.Path)
		} else {
			m.stats.InodeReuses.Add(1)
			m.log.Info("checkpointed inode holds another file now: reading it from the start", "path", f.path, "previous_path", e.Path)
		}
		sp.gen = e.Generation + 1
		reset[st.id] = true
		rest = append(rest, sp)
	}
	// Decide everything before starting anything: starting a file writes
	// its entry, and step 3 needs the entries as they were.
	var starts []startSpec
	claimed := map[checkpoint.FileID]bool{}
	for _, sp := range rest {
		if len(sp.head) == n {
			sum := sha256.Sum256(sp.head)
			if t := m.liveHeadLocked(sum, sp.path); t != nil {
				closeSpec(&sp)
				p := &pendingFile{path: sp.path, st: sp.st, copyOf: t, copyGen: t.gen.Load(), since: now}
				if m.matchesLive(sp.path, sp.st, t) {
					p.verified = sp.st.size
				} else {
					p.mismatch = now
					t.poke()
				}
				m.pending[sp.st.id] = p
				m.log.Debug("copy of a followed file: not read while the original lives", "path", sp.path, "original", t.path())
				continue
			}
			if e, ok := m.truncatedEntryLocked(sp, claimed); ok {
				claimed[e.ID()] = true
				sp.offset = min(e.Offset, sp.st.size)
				sp.copyMode = true
				m.stats.CopiesResumed.Add(1)
				m.log.Info("file is a rotated copy of a checkpointed file truncated in place: resuming at its offset", "path", sp.path, "original", e.Path, "offset", sp.offset)
				starts = append(starts, sp)
				continue
			}
		} else if m.livePrefixLocked(sp.head, sp.path) {
			// Shorter than a fingerprint and the start of a followed file
			// (an empty file included): perhaps a copy being written.
			closeSpec(&sp)
			m.pending[sp.st.id] = &pendingFile{path: sp.path, st: sp.st, since: now}
			m.log.Debug("short file resembling a followed file: waiting briefly", "path", sp.path, "size", sp.st.size)
			continue
		}
		if first && m.cfg.StartAt == StartEnd && !reset[sp.st.id] {
			sp.offset = sp.st.size
		}
		starts = append(starts, sp)
	}
	for _, sp := range starts {
		m.startLocked(sp)
	}
}

// liveHeadLocked returns a followed file, at another path, whose full head
// has the given sum.
func (m *manager) liveHeadLocked(sum [sha256.Size]byte, path string) *tracker {
	for _, t := range m.sortedTrackersLocked() {
		if h := t.head.Load(); h != nil && h.full && h.sum == sum && t.path() != path {
			return t
		}
	}
	return nil
}

// livePrefixLocked reports whether b (shorter than a fingerprint) is the
// start of a followed file's full head at another path.
func (m *manager) livePrefixLocked(b []byte, path string) bool {
	for _, t := range m.trackers {
		if h := t.head.Load(); h != nil && h.full && bytes.HasPrefix(h.bytes, b) && t.path() != path {
			return true
		}
	}
	return false
}

func (m *manager) sortedTrackersLocked() []*tracker {
	ts := make([]*tracker, 0, len(m.trackers))
	for _, t := range m.trackers {
		ts = append(ts, t)
	}
	slices.SortFunc(ts, func(a, b *tracker) int { return cmp.Compare(a.seq, b.seq) })
	return ts
}

// matchesLive reports whether the file at path holds the same bytes as
// t's file just before its end (so it is a copy of t's file's prefix).
// A file no longer than the fingerprint gives no evidence beyond it: false.
func (m *manager) matchesLive(path string, st fstat, t *tracker) bool {
	x := st.size
	if x < int64(m.cfg.FingerprintBytes)+tailCheckLen {
		return false
	}
	a, err := os.Open(t.path())
	if err != nil {
		return false
	}
	defer a.Close()
	ast, err := statFile(a)
	if err != nil || ast.id != t.id || ast.size < x {
		return false
	}
	b, err := os.Open(path)
	if err != nil {
		return false
	}
	defer b.Close()
	from := max(x-verifyLen, int64(m.cfg.FingerprintBytes))
	ba := make([]byte, x-from)
	bb := make([]byte, x-from)
	if k, _ := a.ReadAt(ba, from); k != len(ba) {
		return false
	}
	if k, _ := b.ReadAt(bb, from); k != len(bb) {
		return false
	}
	return bytes.Equal(ba, bb)
}

// truncatedEntryLocked finds an unfollowed entry whose full fingerprint
// equals sp's head, recorded at another path, whose inode is still at that
// path but no longer holds that content (truncated in place): sp is its
// rotated copy.
func (m *manager) truncatedEntryLocked(sp startSpec, claimed map[checkpoint.FileID]bool) (checkpoint.Entry, bool) {
	fp := checkpoint.Fingerprint(sp.head)
	for _, e := range m.store.Entries() {
		if e.FingerprintLen != len(sp.head) || e.Fingerprint != fp || e.Path == sp.path || claimed[e.ID()] {
			continue
		}
		if t := m.trackers[e.ID()]; t != nil && sameBirth(t.birth, e.Birth) {
			continue
		}
		m.ckMu.Lock()
		owned := m.owners[e.ID()] != nil
		m.ckMu.Unlock()
		if owned {
			continue
		}
		st, err := statPath(e.Path)
		if err != nil || st.id != e.ID() {
			continue
		}
		if f, hb, _, ok := m.openHead(e.Path, st); ok {
			same := fingerprintMatches(f, hb, e) && st.size >= e.Offset
			_ = f.Close()
			if same {
				continue // still the same content: not truncated
			}
		}
		return e, true
	}
	return checkpoint.Entry{}, false
}

// reevaluatePendingLocked decides pending files whose situation changed.
func (m *manager) reevaluatePendingLocked(now time.Time) {
	n := m.cfg.FingerprintBytes
	var again []found
	for id, p := range m.pending {
		if p.copyOf == nil {
			hb, st, ok := m.readHead(p.path, p.st)
			if !ok {
				delete(m.pending, id)
				continue
			}
			if len(hb) == n || !m.livePrefixLocked(hb, p.path) {
				// Decide it like a new file (a copy, or a file of its own).
				delete(m.pending, id)
				again = append(again, found{path: p.path, st: st})
				continue
			}
			if now.Sub(p.since) >= m.copyGrace() {
				delete(m.pending, id)
				m.startPendingLocked(p, 0)
			}
			continue
		}
		t := p.copyOf
		if m.trackers[t.id] != t || t.gen.Load() != p.copyGen {
			m.log.Debug("pending copy: the original ended without it, reading it in full", "path", p.path)
			// The original ended without continuing in this copy (another
			// copy took it, or it was deleted): read this one in full.
			delete(m.pending, id)
			m.startPendingLocked(p, 0)
			continue
		}
		if now.Sub(p.since) >= m.cfg.CloseInactive {
			// Not a copytruncate in progress after all (the original was
			// not truncated): read it in full rather than hold it forever.
			m.log.Debug("copy of a followed file held for close_inactive: reading it in full", "path", p.path)
			delete(m.pending, id)
			m.startPendingLocked(p, 0)
			continue
		}
		if p.st.size <= p.verified {
			continue
		}
		if m.matchesLive(p.path, p.st, t) {
			p.verified, p.mismatch = p.st.size, time.Time{}
			continue
		}
		if p.mismatch.IsZero() {
			p.mismatch = now
			t.poke() // perhaps truncated: let it notice
			continue
		}
		if now.Sub(p.mismatch) >= m.copyGrace() {
			// It differs from the original: a file of its own that starts
			// like it (or a copy that was appended to). Read it in full:
			// duplicates rather than loss.
			m.log.Debug("file resembling a followed file differs from it: reading it in full", "path", p.path)
			delete(m.pending, id)
			m.startPendingLocked(p, 0)
		}
	}
	if len(again) > 0 {
		m.classifyLocked(again, false, now)
	}
}

func (m *manager) startPendingLocked(p *pendingFile, offset int64) {
	fh, hb, st, ok := m.openHead(p.path, p.st)
	if !ok {
		return
	}
	m.startLocked(startSpec{path: p.path, st: st, head: hb, offset: min(offset, st.size), clamp: -1, f: fh})
}

func closeSpec(sp *startSpec) {
	if sp.f != nil {
		_ = sp.f.Close()
		sp.f = nil
	}
}

// startLocked creates the stream, checkpoint and tracker of a file and
// starts following it.
func (m *manager) startLocked(sp startSpec) *tracker {
	head := newHead(sp.head, m.cfg.FingerprintBytes)
	upd := sp.updated
	if upd.IsZero() {
		upd = time.Now().UTC()
	}
	ck := m.newCkpt(checkpoint.Entry{
		Device: sp.st.id.Device, Inode: sp.st.id.Inode, Birth: sp.st.birth,
		Fingerprint: checkpoint.Fingerprint(head.bytes), FingerprintLen: len(head.bytes),
		Generation: sp.gen, Path: sp.path, Offset: sp.offset, Updated: upd,
	})
	s := m.newStream(sp.path, sp.offset, head, ck)
	s.copyMode = sp.copyMode
	if sp.clamp >= 0 {
		m.ckMu.Lock()
		ck.clamp = sp.clamp
		m.ckMu.Unlock()
	}
	t := m.newTracker(sp.path, sp.st, s)
	t.adopt(sp.f)
	if m.log.Enabled(m.ctx, slog.LevelDebug) {
		m.log.Debug("following file", "path", sp.path, "inode", sp.st.id.Inode, "offset", sp.offset, "generation", sp.gen, "copy", sp.copyMode)
	}
	m.launchLocked(t)
	return t
}

func (m *manager) launchLocked(t *tracker) {
	m.trackers[t.id] = t
	m.byPath[t.path()] = t
	m.wg.Add(1)
	go t.run(m.ctx)
}

type endReason int

const (
	reasonTruncated endReason = iota
	reasonDeleted
	reasonGone // rotated away, or gone while its handle was closed
)

func (r endReason) String() string {
	switch r {
	case reasonTruncated:
		return "truncated"
	case reasonDeleted:
		return "deleted"
	}
	return "rotated away"
}

// genEnded is called by t's goroutine when the content of its stream s
// ends on t's inode: truncated (copytruncate), deleted, or rotated away.
// If a rotated copy of the content exists (a pending copy, or, after a
// truncation, a matched file whose head and recent bytes equal s's), s
// continues in it from s.offset and genEnded returns true: the lines
// written between the last read and the truncation are read from the copy,
// and nothing is read twice.
func (m *manager) genEnded(t *tracker, s *stream, reason endReason) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	type cand struct {
		path string
		st   fstat
		f    *os.File
	}
	var best *cand
	consider := func(c cand) {
		if best == nil || c.st.size > best.st.size {
			if best != nil {
				_ = best.f.Close()
			}
			best = &c
			return
		}
		_ = c.f.Close()
	}
	for id, p := range m.pending {
		if p.copyOf != t || p.copyGen != t.gen.Load() {
			continue
		}
		f, _, st, ok := m.openHead(p.path, p.st)
		if !ok || st.id != id {
			continue
		}
		// The copy must hold the bytes this stream read last (or a sample of
		// them): equal leading bytes alone prove nothing.
		if !s.matchesCopy(f, st.size) {
			_ = f.Close()
			continue
		}
		consider(cand{p.path, st, f})
	}
	if reason == reasonTruncated && s.head.full {
		files, _ := m.expand()
		for _, fd := range files {
			if m.trackerOfLocked(fd) != nil || fd.path == t.path() {
				continue
			}
			if p := m.pending[fd.st.id]; p != nil && p.copyOf == t {
				continue // considered above
			}
			f, hb, st, ok := m.openHead(fd.path, fd.st)
			if !ok {
				continue
			}
			if len(hb) != len(s.head.bytes) || sha256.Sum256(hb) != s.head.sum || !s.matchesCopy(f, st.size) {
				_ = f.Close()
				continue
			}
			consider(cand{fd.path, st, f})
		}
		m.requestScan()
	}
	if best == nil {
		return false
	}
	delete(m.pending, best.st.id)
	clamp := int64(-1)
	if best.st.size < s.offset {
		clamp = best.st.size
	}
	s.ck.rekey(best.st, best.path, clamp)
	s.copyMode = true
	// Log before the new tracker starts: from then on s belongs to it.
	m.log.Info("file content continues in its rotated copy", "path", t.path(), "copy", best.path, "offset", s.offset, "copy_size", best.st.size)
	nt := m.newTracker(best.path, best.st, s)
	nt.adopt(best.f)
	m.launchLocked(nt)
	if reason == reasonTruncated {
		m.stats.RotationsCopyTruncate.Add(1)
	}
	return true
}
