package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/fsnotify/fsnotify"
	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
	"github.com/tidwall/gjson"

	"github.com/starmates/logshipd/internal/event"
	"github.com/starmates/logshipd/internal/normalize"
)

func newTailCmd(logger *slog.Logger) *cobra.Command {
	var (
		nf      normFlags
		follow  bool
		asJSON  bool
		level   string
		service string
		color   string
	)
	cmd := &cobra.Command{
		Use:   "tail [flags] PATH|GLOB...",
		Short: "Show normalized records of log files (local dev view)",
		Long: `tail normalizes the given files (globs allowed, ** matches directories) and
prints one readable line per record: time, level, service, short tracking id
and message, with stack traces indented. --json prints canonical records.
--follow keeps reading as the files grow (and across truncation/rotation).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			eng, err := nf.engine()
			if err != nil {
				return err
			}
			var minLevel event.Level
			if level != "" {
				var ok bool
				if minLevel, ok = event.ParseLevel(level); !ok {
					return fmt.Errorf("--level %q: must be DEBUG, INFO, WARN or ERROR", level)
				}
			}
			paths, err := expandGlobs(args)
			if err != nil {
				return err
			}
			useColor := color == "always" || (color == "auto" && isTTY(cmd.OutOrStdout()))
			write := func(bw *bufio.Writer, rec *event.Record) error {
				if rec.BelowLevel || rec.Level < minLevel || (service != "" && rec.Service != service) {
					return nil
				}
				if asJSON {
					bw.Write(rec.JSON)
					return bw.WriteByte('\n')
				}
				return writeHuman(bw, rec, useColor)
			}
			ctx := cmd.Context()
			if !follow {
				for _, p := range paths {
					if err := tailOnce(ctx, eng, p, cmd.OutOrStdout(), nf.maxLine, write); err != nil {
						return err
					}
				}
				return nil
			}
			return tailFollow(ctx, logger, eng, paths, cmd.OutOrStdout(), nf.maxLine, write)
		},
	}
	nf.register(cmd.Flags())
	f := cmd.Flags()
	f.BoolVarP(&follow, "follow", "f", false, "keep reading as files grow")
	f.BoolVar(&asJSON, "json", false, "print canonical JSON records")
	f.StringVar(&level, "level", "", "lowest level shown (DEBUG, INFO, WARN, ERROR)")
	f.StringVar(&service, "service-filter", "", "show only this service")
	f.StringVar(&color, "color", "auto", "colour: auto, always or never")
	// --service is the name for the filter; normalization's default
	// service stays reachable through the config file.
	cmd.Flags().Lookup("service").Usage = "show only records of this service (also the default service for records naming none)"
	cmd.PreRun = func(*cobra.Command, []string) {
		if nf.service != "" && service == "" {
			service = nf.service
		}
	}
	return cmd
}

func isTTY(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// expandGlobs expands shell-style globs; "**" matches any number of
// directories. A pattern that matches nothing is an error unless it is a
// literal path (which --follow may wait for).
func expandGlobs(args []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, a := range args {
		matches, err := globStar(a)
		if err != nil {
			return nil, fmt.Errorf("pattern %q: %w", a, err)
		}
		if len(matches) == 0 {
			if strings.ContainsAny(a, "*?[") {
				return nil, fmt.Errorf("pattern %q matches no file", a)
			}
			matches = []string{a}
		}
		for _, m := range matches {
			if !seen[m] {
				seen[m] = true
				out = append(out, m)
			}
		}
	}
	return out, nil
}

// globStar expands a pattern with "**" (any number of directories), as
// the file source's include patterns do; only files are returned.
func globStar(pattern string) ([]string, error) {
	if !doublestar.ValidatePathPattern(pattern) {
		return nil, doublestar.ErrBadPattern
	}
	return doublestar.FilepathGlob(pattern, doublestar.WithFilesOnly(), doublestar.WithFailOnIOErrors())
}

func tailOnce(ctx context.Context, eng *normalize.Engine, path string, w io.Writer, maxLine int, write func(*bufio.Writer, *event.Record) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return normalizeStream(ctx, eng, f, w, normalize.Origin{Kind: "file", Path: path}, maxLine, write)
}

// tailFollow reads every file to its end, then follows growth. fsnotify
// events wake the reader; a 250 ms poll is the fallback for filesystems
// where inotify misses events. Truncation restarts at offset 0; a file
// replaced under its name (rename/create rotation) is reopened.
func tailFollow(ctx context.Context, logger *slog.Logger, eng *normalize.Engine, paths []string, w io.Writer, maxLine int, write func(*bufio.Writer, *event.Record) error) error {
	watcher, err := fsnotify.NewWatcher()
	if err != nil {
		logger.Warn("fsnotify unavailable, polling only", "err", err)
	} else {
		defer watcher.Close()
		dirs := map[string]bool{}
		for _, p := range paths {
			d := filepath.Dir(p)
			if !dirs[d] {
				dirs[d] = true
				if err := watcher.Add(d); err != nil {
					logger.Warn("cannot watch directory, polling it", "path", d, "err", err)
				}
			}
		}
	}
	type followed struct {
		pr     *io.PipeReader
		pw     *io.PipeWriter
		f      *os.File
		ino    os.FileInfo
		offset int64
	}
	bw := bufio.NewWriter(w)
	outMu := make(chan struct{}, 1)
	outMu <- struct{}{}
	lockedWrite := func(_ *bufio.Writer, rec *event.Record) error {
		<-outMu
		defer func() { outMu <- struct{}{} }()
		if err := write(bw, rec); err != nil {
			return err
		}
		return bw.Flush()
	}
	files := make([]*followed, len(paths))
	errc := make(chan error, len(paths))
	for i, p := range paths {
		pr, pw := io.Pipe()
		files[i] = &followed{pr: pr, pw: pw}
		go func(p string, pr *io.PipeReader) {
			errc <- normalizeStream(ctx, eng, pr, io.Discard, normalize.Origin{Kind: "file", Path: p}, maxLine, lockedWrite)
		}(p, pr)
	}
	defer func() {
		for _, fl := range files {
			fl.pw.Close()
			if fl.f != nil {
				fl.f.Close()
			}
		}
	}()
	buf := make([]byte, 256<<10)
	pump := func(i int) {
		fl := files[i]
		st, err := os.Stat(paths[i])
		if err != nil {
			return
		}
		if fl.f != nil && !os.SameFile(fl.ino, st) {
			// Rotated: drain the old file, then switch to the new one.
			for {
				n, _ := fl.f.Read(buf)
				if n == 0 {
					break
				}
				fl.pw.Write(buf[:n])
			}
			fl.f.Close()
			fl.f = nil
		}
		if fl.f == nil {
			if fl.f, err = os.Open(paths[i]); err != nil {
				fl.f = nil
				return
			}
			fl.ino, fl.offset = st, 0
		}
		if st.Size() < fl.offset {
			fl.offset = 0 // truncated (copytruncate)
			fl.f.Seek(0, io.SeekStart)
		}
		for {
			n, err := fl.f.Read(buf)
			if n > 0 {
				fl.offset += int64(n)
				fl.pw.Write(buf[:n])
			}
			if err != nil || n == 0 {
				return
			}
		}
	}
	var events chan fsnotify.Event
	if watcher != nil {
		events = watcher.Events
	}
	poll := time.NewTicker(250 * time.Millisecond)
	defer poll.Stop()
	for i := range paths {
		pump(i)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-errc:
			if err != nil && !errors.Is(err, context.Canceled) {
				return err
			}
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			for i, p := range paths {
				if filepath.Clean(ev.Name) == filepath.Clean(p) {
					pump(i)
				}
			}
		case <-poll.C:
			for i := range paths {
				pump(i)
			}
		}
	}
}

// ANSI colours per level.
var levelColor = map[event.Level]string{
	event.LevelDebug: "\x1b[2m", event.LevelInfo: "\x1b[32m", event.LevelWarn: "\x1b[33m", event.LevelError: "\x1b[31;1m",
}

// writeHuman prints "15:04:05.000 LEVEL service [tracking] message" and the
// stack trace indented below.
func writeHuman(bw *bufio.Writer, rec *event.Record, color bool) error {
	doc := gjson.ParseBytes(rec.JSON)
	lv := rec.Level.String()
	if color {
		bw.WriteString(levelColor[rec.Level])
	}
	fmt.Fprintf(bw, "%s %-5s", rec.Time.Format("2006-01-02T15:04:05.000Z"), lv)
	if color {
		bw.WriteString("\x1b[0m")
	}
	tid := rec.TrackingIDString()
	if len(tid) > 8 {
		tid = tid[:8]
	}
	fmt.Fprintf(bw, " %s [%s] ", rec.Service, tid)
	msg := doc.Get("message").Str
	if m := doc.Get("request.method"); m.Exists() && !strings.Contains(msg, doc.Get("request.path").Str) {
		fmt.Fprintf(bw, "%s %s %s ", m.Str, doc.Get("request.path").Str, doc.Get("response.status").Raw)
	}
	bw.WriteString(strings.ReplaceAll(msg, "\n", "\n    "))
	bw.WriteByte('\n')
	if st := doc.Get("exception.stack_trace"); st.Exists() {
		for _, l := range strings.Split(st.Str, "\n") {
			bw.WriteString("    ")
			bw.WriteString(l)
			bw.WriteByte('\n')
		}
	}
	return nil
}
