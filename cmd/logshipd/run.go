package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/starmates/logshipd/internal/config"
	filesrc "github.com/starmates/logshipd/internal/ingest/file"
	"github.com/starmates/logshipd/internal/ingest/forward"
	"github.com/starmates/logshipd/internal/ingest/stdin"
	"github.com/starmates/logshipd/internal/metrics"
	"github.com/starmates/logshipd/internal/pipeline"
	"github.com/starmates/logshipd/internal/sink"
	"github.com/starmates/logshipd/internal/sink/cloudwatch"
	sinkfile "github.com/starmates/logshipd/internal/sink/file"
	"github.com/starmates/logshipd/internal/sink/loki"
	"github.com/starmates/logshipd/internal/spanevents"
)

func newRunCmd(logger *slog.Logger) *cobra.Command {
	var cfgPath string
	cmd := &cobra.Command{
		Use:   "run -c FILE",
		Short: "Run the daemon: sources -> normalize -> sinks",
		Long: `run starts the configured sources and sinks and ships records until SIGTERM or
SIGINT (then it stops reading, delivers or keeps what is in flight within
shutdown_grace, and saves checkpoints), or until every source reached its end
of input (stdin at EOF).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadForRun(cfgPath)
			if err != nil {
				return err
			}
			release, err := lockDataDir(cfg.DataDir)
			if err != nil {
				return err
			}
			defer release()
			d, err := buildDaemon(cfg, logger, cmd.InOrStdin(), cmd.OutOrStdout())
			if err != nil {
				return err
			}
			defer applyMemoryLimit(cfg.MemoryLimit, d.sinks, d.reserved, logger)()
			logger.Info("logshipd running", "version", version, "sources", len(cfg.Sources), "sinks", len(cfg.Sinks))
			err = d.run(cmd.Context())
			logger.Info("logshipd stopped", "records", d.p.Stats().Committed.Load())
			return err
		},
	}
	cmd.Flags().StringVarP(&cfgPath, "config", "c", "", "config file (YAML)")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}

func newValidateCmd() *cobra.Command {
	var cfgPath string
	cmd := &cobra.Command{
		Use:   "validate -c FILE",
		Short: "Check a config file and list every problem",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := loadForRun(cfgPath); err != nil {
				return err
			}
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "%s: ok\n", cfgPath)
			return err
		},
	}
	cmd.Flags().StringVarP(&cfgPath, "config", "c", "", "config file (YAML)")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}

// loadForRun loads a config that must describe a whole pipeline.
func loadForRun(path string) (config.File, error) {
	cfg, err := config.Load(path)
	var probs config.Problems
	if err != nil && !errors.As(err, &probs) {
		return cfg, err
	}
	probs = append(probs, cfg.RequireGraph(path)...)
	if len(probs) > 0 {
		return cfg, fmt.Errorf("%d problem(s) in the config:\n%w", len(probs), probs)
	}
	return cfg, nil
}

// daemon is a built pipeline plus its metrics listener.
type daemon struct {
	p       *pipeline.Pipeline
	metrics *metrics.Server
	sinks   []pipeline.SinkSpec
	// reserved is memory bounded outside the sink queues (span events'
	// export queue), added to memory_limit: auto.
	reserved int64
}

func (d *daemon) run(ctx context.Context) error {
	if d.metrics == nil {
		return d.p.Run(ctx)
	}
	if err := d.metrics.Listen(); err != nil {
		return err
	}
	mctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	merr := make(chan error, 1)
	go func() { merr <- d.metrics.Run(mctx) }()
	err := d.p.Run(ctx)
	stop()
	if e := <-merr; e != nil && !errors.Is(e, context.Canceled) {
		err = errors.Join(err, e)
	}
	return err
}

func buildDaemon(cfg config.File, logger *slog.Logger, in io.Reader, out io.Writer) (*daemon, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data_dir: %w", err)
	}
	self := metrics.NewSelfCollector()
	var sources []pipeline.SourceSpec
	for _, s := range cfg.Sources {
		spec := pipeline.SourceSpec{Name: s.Name, Normalize: s.NormalizeConfig(cfg.Normalize)}
		switch s.Type {
		case "stdin":
			src, err := stdin.New(s.Name, s.Stdin, in)
			if err != nil {
				return nil, fmt.Errorf("source %s: %w", s.Name, err)
			}
			spec.Source = src
			registerStdinStats(self, s.Name, src.Stats())
		case "file":
			st := &filesrc.Stats{}
			src, err := filesrc.New(s.Name, s.File, cfg.DataDir, logger.With("source", s.Name), st)
			if err != nil {
				return nil, fmt.Errorf("source %s: %w", s.Name, err)
			}
			spec.Source = src
			registerFileStats(self, s.Name, st)
		case "forward":
			st := &forward.Stats{}
			src, err := forward.New(s.Name, s.Forward, logger.With("source", s.Name), st)
			if err != nil {
				return nil, fmt.Errorf("source %s: %w", s.Name, err)
			}
			spec.Source = src
			registerForwardStats(self, s.Name, st)
		default:
			return nil, fmt.Errorf("source %s: type %q not supported", s.Name, s.Type)
		}
		sources = append(sources, spec)
	}
	sinks, err := buildSinksWithStats(cfg, out, logger, self)
	if err != nil {
		return nil, err
	}
	d := &daemon{}
	if cfg.SpanEvents.On() {
		se, err := spanevents.New(cfg.SpanEvents.Config, logger.With("component", "span_events"))
		if err != nil {
			return nil, fmt.Errorf("span_events: %w", err)
		}
		sinks = append(sinks, pipeline.SinkSpec{Name: "span_events", Sink: se, Queue: sink.DefaultQueueConfig()})
		d.reserved = int64(cfg.SpanEvents.QueueSize) * 3 * int64(cfg.SpanEvents.MaxAttributeLength)
		st := se.Stats()
		self.AddSink("span_events", metrics.SinkFuncs{Errors: func() map[string]int64 {
			return map[string]int64{"export": st.ExportErrors.Load()}
		}})
		self.AddCounterFunc("logshipd_span_events_created_total", "Spans created from ERROR records.", nil, func() float64 { return float64(st.SpansCreated.Load()) })
		self.AddCounterFunc("logshipd_span_events_exported_total", "Spans exported over OTLP.", nil, func() float64 { return float64(st.SpansExported.Load()) })
		for reason, f := range map[string]func() int64{"queue_full": st.DroppedQueueFull.Load, "export_failed": st.DroppedExportFailed.Load, "closed": st.DroppedClosed.Load} {
			self.AddCounterFunc("logshipd_span_events_dropped_total", "Span events dropped after bounded retries or a full queue, by reason.", map[string]string{"reason": reason}, func() float64 { return float64(f()) })
		}
	}
	var deriver *metrics.Deriver
	if cfg.Metrics.Listen != "" {
		if deriver, err = metrics.NewDeriver(cfg.Metrics, logger.With("component", "metrics")); err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
		sinks = append(sinks, pipeline.SinkSpec{Name: "metrics", Sink: deriver, Queue: sink.DefaultQueueConfig()})
	}
	if d.p, err = pipeline.New(logger, cfg.DataDir, cfg.ShutdownGrace, sources, sinks); err != nil {
		return nil, err
	}
	d.sinks = sinks
	if deriver != nil {
		d.metrics = metrics.NewServer(cfg.Metrics, logger.With("component", "metrics"))
		d.metrics.Registry().MustRegister(deriver, self)
		self.AddPipeline(d.p, &d.p.NormStats)
		for i, w := range d.p.Workers() {
			q := sink.DefaultQueueConfig()
			if i < len(sinks) {
				q = sinks[i].Queue
			}
			d.metrics.AddReadiness("sink "+w.Name(), metrics.QueueNotFull(w.Name(), w.Stats(), int64(q.MaxBatches), int64(q.MaxBytes)))
		}
	}
	return d, nil
}

func buildSinks(cfg config.File, out io.Writer, logger *slog.Logger) ([]pipeline.SinkSpec, error) {
	return buildSinksWithStats(cfg, out, logger, nil)
}

// buildSinksWithStats builds the sinks and, when self is set, registers the
// destinations' own counters (CloudWatch rejections by reason, ...).
func buildSinksWithStats(cfg config.File, out io.Writer, logger *slog.Logger, self *metrics.SelfCollector) ([]pipeline.SinkSpec, error) {
	var sinks []pipeline.SinkSpec
	for _, s := range cfg.Sinks {
		var snk sink.Sink
		switch s.Type {
		case "file":
			fs, err := sinkfile.New(s.File, out)
			if err != nil {
				return nil, fmt.Errorf("sink %s: %w", s.Name, err)
			}
			snk = fs
		case "cloudwatch":
			st := &cloudwatch.Stats{}
			cs, err := cloudwatch.New(context.Background(), s.CloudWatch, logger.With("sink", s.Name), st)
			if err != nil {
				return nil, fmt.Errorf("sink %s: %w", s.Name, err)
			}
			snk = cs
			if self != nil {
				self.AddSink(s.Name, metrics.SinkFuncs{Rejected: st.RejectedByReason})
			}
		case "loki":
			st := &loki.Stats{}
			ls, err := loki.New(s.Loki, logger.With("sink", s.Name), st)
			if err != nil {
				return nil, fmt.Errorf("sink %s: %w", s.Name, err)
			}
			snk = ls
			if self != nil {
				self.AddSink(s.Name, metrics.SinkFuncs{Rejected: st.Rejected})
			}
		default:
			return nil, fmt.Errorf("sink %s: type %q not supported", s.Name, s.Type)
		}
		sinks = append(sinks, pipeline.SinkSpec{Name: s.Name, Sink: snk, Queue: s.Queue})
	}
	return sinks, nil
}

// applyMemoryLimit sets the Go runtime's soft memory limit (see
// config.File.MemoryLimit). "auto" allows config.AutoMemoryBase plus the
// largest memory queue (every sink queues the same batches, so the
// slowest sink's queue is what a sink outage can hold; a disk-buffered
// sink counts config.AutoDiskQueueInFlight) plus reserved, the bound of
// other queues (span events). GOMEMLIMIT wins. The returned
// function restores the previous limit.
func applyMemoryLimit(setting string, sinks []pipeline.SinkSpec, reserved int64, logger *slog.Logger) (restore func()) {
	restore = func() {}
	if env := os.Getenv("GOMEMLIMIT"); env != "" {
		logger.Info("memory limit from GOMEMLIMIT", "GOMEMLIMIT", env)
		return restore
	}
	n, auto, err := config.ParseMemoryLimit(setting)
	if err != nil { // validated at load
		logger.Warn("memory_limit ignored", "err", err)
		return restore
	}
	if auto {
		var q int64
		for _, s := range sinks {
			if s.Queue.Buffer == "disk" {
				q = max(q, config.AutoDiskQueueInFlight)
			} else {
				q = max(q, int64(s.Queue.MaxBytes))
			}
		}
		n = config.AutoMemoryBase + q + reserved
	}
	if n == 0 {
		return restore
	}
	prev := debug.SetMemoryLimit(n)
	logger.Info("memory limit", "bytes", n, "auto", auto)
	return func() { debug.SetMemoryLimit(prev) }
}
