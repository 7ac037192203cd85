package file

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// pattern is a compiled include pattern: a static base directory and the
// remaining path segments, which may hold wildcards and "**".
type pattern struct {
	raw  string
	base string
	segs []string
}

const doubleStar = "**"

func hasMeta(s string) bool { return strings.ContainsAny(s, `*?[\`) }

func checkSegments(segs []string) error {
	for _, s := range segs {
		if s == doubleStar {
			continue
		}
		if _, err := filepath.Match(s, ""); err != nil {
			return err
		}
	}
	return nil
}

// compilePattern turns an include pattern into an absolute base directory
// and segments. Relative patterns are resolved against the working
// directory.
func compilePattern(raw string) (pattern, error) {
	if strings.TrimSpace(raw) == "" {
		return pattern{}, errors.New("empty pattern")
	}
	abs, err := filepath.Abs(raw)
	if err != nil {
		return pattern{}, err
	}
	parts := strings.Split(strings.TrimPrefix(filepath.ToSlash(abs), "/"), "/")
	i := 0
	for i < len(parts) && !hasMeta(parts[i]) {
		i++
	}
	if i == len(parts) {
		// A literal path: its directory is the base.
		i = len(parts) - 1
	}
	p := pattern{raw: raw, base: "/" + strings.Join(parts[:i], "/"), segs: parts[i:]}
	if err := checkSegments(p.segs); err != nil {
		return pattern{}, err
	}
	if p.segs[len(p.segs)-1] == doubleStar {
		return pattern{}, errors.New(`a pattern cannot end in "**" (write "**/*" to match every file)`)
	}
	return p, nil
}

// exclusion is a compiled exclude pattern.
type exclusion struct {
	base bool // match the file name only
	segs []string
}

func compileExclude(raw string) (exclusion, error) {
	if strings.TrimSpace(raw) == "" {
		return exclusion{}, errors.New("empty pattern")
	}
	if !strings.Contains(raw, "/") {
		return exclusion{base: true, segs: []string{raw}}, checkSegments([]string{raw})
	}
	abs, err := filepath.Abs(raw)
	if err != nil {
		return exclusion{}, err
	}
	segs := strings.Split(strings.TrimPrefix(filepath.ToSlash(abs), "/"), "/")
	return exclusion{segs: segs}, checkSegments(segs)
}

func (e exclusion) match(path string) bool {
	if e.base {
		ok, _ := filepath.Match(e.segs[0], filepath.Base(path))
		return ok
	}
	return matchSegs(e.segs, strings.Split(strings.TrimPrefix(filepath.ToSlash(path), "/"), "/"))
}

// matchSegs matches path segments against pattern segments ("**" matches
// zero or more segments).
func matchSegs(pat, path []string) bool {
	for len(pat) > 0 {
		if pat[0] == doubleStar {
			for len(pat) > 0 && pat[0] == doubleStar {
				pat = pat[1:]
			}
			if len(pat) == 0 {
				return true
			}
			for i := 0; i <= len(path); i++ {
				if matchSegs(pat, path[i:]) {
					return true
				}
			}
			return false
		}
		if len(path) == 0 {
			return false
		}
		if ok, _ := filepath.Match(pat[0], path[0]); !ok {
			return false
		}
		pat, path = pat[1:], path[1:]
	}
	return len(path) == 0
}

// compressedSuffixes are never tailed: rotated, compressed files are
// complete copies of data already read.
var compressedSuffixes = []string{
	".gz", ".tgz", ".bz2", ".tbz2", ".xz", ".txz", ".zst", ".zstd", ".lz4", ".lzma", ".lz", ".zip", ".7z", ".z", ".br", ".sz", ".snappy",
}

func isCompressed(path string) bool {
	lower := strings.ToLower(path)
	for _, s := range compressedSuffixes {
		if strings.HasSuffix(lower, s) {
			return true
		}
	}
	return false
}

// expand walks the file system for the pattern. visit is called for every
// candidate path (not yet checked to exist or be a regular file); dir is
// called for every directory that was listed or whose entries the pattern
// names (to be watched). Symbolic links to directories are not followed
// by "**" (loops), but are followed by named and wildcard segments.
func (p pattern) expand(visit func(path string), dir func(path string)) {
	p.walk(p.base, p.segs, visit, dir)
}

func (p pattern) walk(d string, segs []string, visit func(string), dirFn func(string)) {
	if len(segs) == 0 {
		visit(d)
		return
	}
	seg := segs[0]
	switch {
	case seg == doubleStar:
		p.walk(d, segs[1:], visit, dirFn)
		ents, err := os.ReadDir(d)
		if err != nil {
			return
		}
		dirFn(d)
		for _, e := range ents {
			if e.Type()&fs.ModeSymlink == 0 && e.IsDir() {
				p.walk(filepath.Join(d, e.Name()), segs, visit, dirFn)
			}
		}
	case !hasMeta(seg):
		if len(segs) == 1 {
			dirFn(d)
		}
		p.walk(filepath.Join(d, seg), segs[1:], visit, dirFn)
	default:
		ents, err := os.ReadDir(d)
		if err != nil {
			return
		}
		dirFn(d)
		for _, e := range ents {
			if ok, _ := filepath.Match(seg, e.Name()); !ok {
				continue
			}
			full := filepath.Join(d, e.Name())
			if len(segs) == 1 {
				visit(full)
				continue
			}
			if e.IsDir() || (e.Type()&fs.ModeSymlink != 0 && isDir(full)) {
				p.walk(full, segs[1:], visit, dirFn)
			}
		}
	}
}

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}
