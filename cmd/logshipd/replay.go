package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/starmates/logshipd/internal/config"
	"github.com/starmates/logshipd/internal/event"
	"github.com/starmates/logshipd/internal/ingest/replay"
	"github.com/starmates/logshipd/internal/normalize/parse"
	"github.com/starmates/logshipd/internal/pipeline"
)

func newReplayCmd(logger *slog.Logger) *cobra.Command {
	var (
		cfgPath      string
		rate         float64
		since, until string
		force        bool
		service      string
	)
	cmd := &cobra.Command{
		Use:   "replay -c FILE [--rate R] [--since T] [--until T] [--force] PATH|GLOB...",
		Short: "Ship historical files (plain or .gz) through the configured sinks",
		Long: `replay reads the given files to completion through the normalizer and every sink
of the config file (its sources are ignored), keeping each record's original
timestamp. A ledger in data_dir remembers what was shipped: re-running does not
ship twice (--force does) and an interrupted replay resumes where every sink had
acknowledged. Records a destination would refuse for their age go to the sink's
dead-letter file with the reason. A summary is printed at the end.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(cfgPath)
			if err != nil {
				return err
			}
			if len(cfg.Sinks) == 0 {
				return fmt.Errorf("%s: at least one sink is required", cfgPath)
			}
			paths, err := expandGlobs(args)
			if err != nil {
				return err
			}
			var from, to time.Time
			if since != "" {
				if from, err = parseWhen(since); err != nil {
					return fmt.Errorf("--since: %w", err)
				}
			}
			if until != "" {
				if to, err = parseWhen(until); err != nil {
					return fmt.Errorf("--until: %w", err)
				}
			}
			if rate < 0 {
				return errors.New("--rate must be >= 0")
			}
			release, err := lockForReplay(cfg)
			if err != nil {
				return err
			}
			defer release()
			prog := &replay.Progress{}
			src, err := replay.New("replay", replay.Config{Paths: paths, Force: force, Rate: rate, DataDir: cfg.DataDir}, logger, prog)
			if err != nil {
				return err
			}
			norm := cfg.Normalize
			if service != "" {
				norm.Service = service
			}
			spec := pipeline.SourceSpec{Name: "replay", Source: src, Normalize: norm}
			if !from.IsZero() || !to.IsZero() {
				spec.Keep = func(r *event.Record) bool {
					return (from.IsZero() || !r.Time.Before(from)) && (to.IsZero() || r.Time.Before(to))
				}
			}
			sinks, err := buildSinks(cfg, cmd.OutOrStdout(), logger)
			if err != nil {
				return err
			}
			p, err := pipeline.New(logger, cfg.DataDir, cfg.ShutdownGrace, []pipeline.SourceSpec{spec}, sinks)
			if err != nil {
				return err
			}
			stopProgress := startProgress(cmd.Context(), cmd.ErrOrStderr(), prog, p)
			start := time.Now()
			runErr := p.Run(cmd.Context())
			stopProgress()
			printSummary(cmd.OutOrStdout(), prog, p, time.Since(start))
			if err := src.Finalize(); err != nil {
				// The pipeline saved it already and logged a failure; the
				// exit status must say it too, or a re-run ships it all again.
				runErr = errors.Join(runErr, fmt.Errorf("replay ledger not saved (a re-run would ship these files again): %w", err))
			}
			if runErr == nil && cmd.Context().Err() != nil {
				// Interrupted (SIGINT/SIGTERM): the pipeline stopped cleanly,
				// but the replay is not complete.
				return errors.New("replay interrupted before the end: run the same command again to resume")
			}
			return runErr
		},
	}
	f := cmd.Flags()
	f.StringVarP(&cfgPath, "config", "c", "", "config file (YAML): sinks, data_dir and normalize are used")
	f.Float64Var(&rate, "rate", 0, "lines per second (0: as fast as the sinks take them)")
	f.StringVar(&since, "since", "", "ship only records at or after this time (RFC 3339 or any supported timestamp)")
	f.StringVar(&until, "until", "", "ship only records before this time")
	f.BoolVar(&force, "force", false, "replay files the ledger marks as shipped")
	f.StringVar(&service, "service", "", "service for records that name none")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}

func parseWhen(s string) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return time.Now().Add(-d), nil // "--since 24h"
	}
	t, local, ok := parse.AnyTime([]byte(s))
	if !ok {
		return time.Time{}, fmt.Errorf("%q: not a time (RFC 3339, e.g. 2026-11-25T00:00:00Z, or a duration like 24h)", s)
	}
	if local {
		t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
	}
	return t, nil
}

// startProgress draws a one-line progress bar on a TTY every 500 ms.
func startProgress(ctx context.Context, w io.Writer, prog *replay.Progress, p *pipeline.Pipeline) func() {
	if !isTTY(w) {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(done)
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				fmt.Fprint(w, "\r\x1b[2K")
				return
			case <-t.C:
			}
			total, read := prog.TotalBytes.Load(), prog.ReadBytes.Load()
			el := time.Since(start).Seconds()
			recs := p.Stats().Committed.Load()
			frac := 0.0
			if total > 0 {
				frac = float64(read) / float64(total)
			}
			eta := "?"
			if frac > 0 && frac < 1 {
				eta = (time.Duration(el/frac*(1-frac)) * time.Second).String()
			}
			bar := int(frac * 30)
			fmt.Fprintf(w, "\r\x1b[2K[%-30s] %5.1f%% %s/%s %.0f records/s ETA %s",
				string(repeat('=', bar)), frac*100, human(read), human(total), float64(recs)/el, eta)
		}
	}()
	return func() { cancel(); <-done }
}

func repeat(c byte, n int) []byte {
	b := make([]byte, max(n, 0))
	for i := range b {
		b[i] = c
	}
	return b
}

func human(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1fGiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1fMiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1fKiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%dB", n)
}

func printSummary(w io.Writer, prog *replay.Progress, p *pipeline.Pipeline, took time.Duration) {
	fmt.Fprintf(w, "replay: %d file(s) read, %d skipped (already shipped), %d lines, %d records shipped, %d outside --since/--until, %s\n",
		prog.Files.Load(), prog.Skipped.Load(), prog.Lines.Load(), p.Stats().Committed.Load(), p.Stats().Skipped.Load(), took.Round(time.Millisecond))
	for _, wk := range p.Workers() {
		st := wk.Stats()
		fmt.Fprintf(w, "  sink %s: %d delivered, %d refused", wk.Name(), st.Sent.Load(), st.DeadLettered.Load())
		reasons := st.DeadByReason()
		keys := make([]string, 0, len(reasons))
		for k := range reasons {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, " (%s: %d)", k, reasons[k])
		}
		if d := st.Dropped.Load(); d > 0 {
			fmt.Fprintf(w, ", %d dropped", d)
		}
		fmt.Fprintln(w)
	}
}
