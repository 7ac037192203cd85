package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/starmates/logshipd/internal/config"
	"github.com/starmates/logshipd/internal/event"
	"github.com/starmates/logshipd/internal/ingest"
	"github.com/starmates/logshipd/internal/normalize"
	"github.com/starmates/logshipd/internal/profiling"
)

// normFlags are the normalization flags shared by normalize and tail.
type normFlags struct {
	configPath  string
	format      string
	service     string
	environment string
	project     string
	timezone    string
	maxLine     int
}

func (n *normFlags) register(fs *pflag.FlagSet) {
	fs.StringVarP(&n.configPath, "config", "c", "", "config file (YAML); flags override it")
	fs.StringVar(&n.format, "format", "", "input format: auto or one of "+fmt.Sprint(normalize.Formats())+" (default auto)")
	fs.StringVar(&n.service, "service", "", "service for records that name none")
	fs.StringVar(&n.environment, "environment", "", "environment for records that carry none (default dev)")
	fs.StringVar(&n.project, "project", "", "project injected into records (default starmates-ai-team)")
	fs.StringVar(&n.timezone, "timezone", "", "zone for timestamps written without one (default UTC)")
	fs.IntVar(&n.maxLine, "max-line-bytes", ingest.DefaultMaxLineBytes, "longest line kept whole; longer lines are cut and marked")
}

// engine builds the normalize engine from defaults, the config file and flags.
func (n *normFlags) engine() (*normalize.Engine, error) {
	file := config.Default()
	if n.configPath != "" {
		var err error
		if file, err = config.Load(n.configPath); err != nil {
			return nil, err
		}
	}
	cfg := file.Normalize
	for _, o := range []struct {
		dst *string
		v   string
	}{{&cfg.Format, n.format}, {&cfg.Service, n.service}, {&cfg.Environment, n.environment}, {&cfg.Project, n.project}, {&cfg.Timezone, n.timezone}} {
		if o.v != "" {
			*o.dst = o.v
		}
	}
	return normalize.New(cfg, nil)
}

func newNormalizeCmd(logger *slog.Logger) *cobra.Command {
	var nf normFlags
	var workers int
	var cpuprofile string
	cmd := &cobra.Command{
		Use:   "normalize",
		Short: "Normalize stdin to canonical NDJSON on stdout",
		Long: `normalize reads log lines in any supported format from stdin and writes one
canonical JSON record per logical record (multiline records joined) to stdout.
It exits 0 at end of input after flushing any pending multiline record.
Input is normalized on several cores (--workers) in order: chunks are cut only
where a new record certainly starts, so multiline records are never split.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			eng, err := nf.engine()
			if err != nil {
				return err
			}
			stop, err := profiling.StartCPU(cpuprofile)
			if err != nil {
				return err
			}
			defer stop()
			err = eng.RunParallel(cmd.Context(), cmd.InOrStdin(), cmd.OutOrStdout(), normalize.Origin{Kind: "stdin"},
				normalize.ParallelConfig{Workers: workers, MaxLine: nf.maxLine})
			st := eng.Stats()
			logger.Debug("normalize done", "records", st.Records.Load(), "lines", st.Lines.Load())
			return err
		},
	}
	nf.register(cmd.Flags())
	cmd.Flags().IntVar(&workers, "workers", 0, "parallel normalizers (default: number of CPUs)")
	cmd.Flags().StringVar(&cpuprofile, "cpuprofile", "", "write a CPU profile (pprof) to this file")
	return cmd
}

// normalizeStream normalizes r into w. Reads happen on a relay goroutine so
// pending multiline records are flushed after the flush timeout even while
// the input is idle. filter, when set, decides which records are written.
func normalizeStream(ctx context.Context, eng *normalize.Engine, r io.Reader, w io.Writer, origin normalize.Origin, maxLine int, write func(*bufio.Writer, *event.Record) error) error {
	out := bufio.NewWriterSize(w, 256<<10)
	var werr error
	if write == nil {
		write = func(bw *bufio.Writer, rec *event.Record) error {
			if rec.BelowLevel {
				return nil
			}
			bw.Write(rec.JSON)
			return bw.WriteByte('\n')
		}
	}
	stream := eng.NewStream(origin, func(rec *event.Record) {
		if werr == nil {
			werr = write(out, rec)
		}
	})
	framer := ingest.NewFramer(maxLine)
	relay := ingest.StartRelay(ctx, r, 256<<10, 6)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		select {
		case chunk, ok := <-relay.C:
			if !ok {
				if err := ctx.Err(); err != nil {
					return err
				}
				now := time.Now()
				framer.End(func(line []byte) { stream.Write(line, now) })
				stream.Flush(now)
				if err := out.Flush(); err != nil && werr == nil {
					werr = err
				}
				if err := relay.Err(); err != nil {
					return err
				}
				return werr
			}
			now := time.Now()
			framer.Feed(chunk, func(line []byte) { stream.Write(line, now) })
			relay.Recycle(chunk)
			if werr != nil {
				return werr
			}
			if len(relay.C) == 0 {
				// Input is idle: make output visible and arm the flush timer.
				if next := stream.FlushIdle(now); !next.IsZero() {
					timer.Reset(time.Until(next))
				}
				if err := out.Flush(); err != nil {
					return err
				}
			}
		case <-timer.C:
			now := time.Now()
			if next := stream.FlushIdle(now); !next.IsZero() {
				timer.Reset(time.Until(next))
			}
			if err := out.Flush(); err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
