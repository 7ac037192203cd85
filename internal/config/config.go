package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/starmates/logshipd/internal/metrics"
	"github.com/starmates/logshipd/internal/normalize"
	"github.com/starmates/logshipd/internal/spanevents"
)

// File is the top-level configuration file.
type File struct {
	// Environment is the default for records without one.
	Environment string `yaml:"environment"`
	// Project is injected into every record.
	Project string `yaml:"project"`
	// Service is the default service for records without one.
	Service string `yaml:"service"`
	// Normalize tunes normalization (see normalize.Config).
	Normalize normalize.Config `yaml:"normalize"`
	// DataDir holds checkpoints, dead letters and the replay ledger.
	DataDir string `yaml:"data_dir"`
	// ShutdownGrace bounds the drain on SIGTERM (ECS stops after 30 s).
	ShutdownGrace time.Duration `yaml:"shutdown_grace"`
	// MemoryLimit is the Go runtime's soft memory limit for `run`: "auto"
	// (default: AutoMemoryBase plus the largest sink memory queue), "off",
	// or a size ("96MiB", "1GiB", bytes). The GOMEMLIMIT environment
	// variable, when set, wins.
	MemoryLimit string `yaml:"memory_limit"`
	// Metrics is the /metrics, /healthz, /readyz listener and the derived
	// request metrics (empty listen disables both).
	Metrics metrics.Config `yaml:"metrics"`
	// SpanEvents turns ERROR records into OTLP span events (see
	// docs/sinks/spanevents.md).
	SpanEvents SpanEvents `yaml:"span_events"`
	// Sources and Sinks of the daemon (run); decoded per type.
	Sources []Source `yaml:"sources"`
	Sinks   []Sink   `yaml:"sinks"`
}

// Default returns the embedded defaults. The top-level environment,
// project and service are empty: when set in the file they override the
// normalize section's values (normalize.DefaultConfig holds the defaults).
func Default() File {
	return File{Normalize: normalize.DefaultConfig(), DataDir: "./data", ShutdownGrace: 20 * time.Second, MemoryLimit: "auto", Metrics: metrics.DefaultConfig(),
		SpanEvents: SpanEvents{Config: spanevents.DefaultConfig()}}
}

// SpanEvents is the span_events section: the span-events stage's own keys
// plus `enabled`. Unset, the stage runs when an endpoint is configured here
// or in OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT.
type SpanEvents struct {
	Enabled           *bool `yaml:"enabled"`
	spanevents.Config `yaml:",inline"`
}

// On reports whether the span-events stage runs.
func (s *SpanEvents) On() bool {
	if s.Enabled != nil {
		return *s.Enabled
	}
	return s.Endpoint != "" || os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}`)

// Expand replaces ${VAR} and ${VAR:-default} with environment values.
// An unset ${VAR} without a default is an error.
func Expand(b []byte) ([]byte, error) {
	var errs []error
	out := envRef.ReplaceAllFunc(b, func(m []byte) []byte {
		sub := envRef.FindSubmatch(m)
		name := string(sub[1])
		if v, ok := os.LookupEnv(name); ok && (v != "" || sub[2] == nil) {
			return []byte(v)
		}
		if sub[2] != nil {
			return sub[3]
		}
		errs = append(errs, fmt.Errorf("environment variable %s is not set (use ${%s:-default})", name, name))
		return m
	})
	return out, errors.Join(errs...)
}

// Load reads, expands, strictly decodes and validates path over the
// defaults. The error lists every problem found.
func Load(path string) (File, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return File{}, err
	}
	return Parse(path, raw)
}

// Parse is Load for bytes already read; name labels error messages.
func Parse(name string, raw []byte) (File, error) {
	cfg := Default()
	expanded, err := Expand(raw)
	if err != nil {
		return cfg, fmt.Errorf("%s: %w", name, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(expanded))
	dec.KnownFields(true)
	var probs Problems
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return cfg, fmt.Errorf("%s: %w", name, err) // syntax error: nothing more to check
		}
		for _, msg := range te.Errors { // e.g. "line 2: field bogus not found in type config.File"
			line := 0
			fmt.Sscanf(msg, "line %d:", &line)
			if _, rest, ok := strings.Cut(msg, ": "); ok && line > 0 {
				msg = rest
			}
			probs = append(probs, Problem{File: name, Line: line, Msg: msg})
		}
	}
	cfg.Resolve()
	probs = append(probs, validated(cfg.Normalize.Validate(), name, 0, "normalize")...)
	if cfg.Metrics.Listen != "" {
		probs = append(probs, validated(cfg.Metrics.Validate(), name, 0, "metrics")...)
	}
	if cfg.SpanEvents.On() {
		probs = append(probs, validated(cfg.SpanEvents.Validate(), name, 0, "span_events")...)
	}
	if cfg.ShutdownGrace <= 0 || cfg.ShutdownGrace > 10*time.Minute {
		probs = append(probs, Problem{File: name, Key: "shutdown_grace", Msg: fmt.Sprintf("%s: must be in (0, 10m]", cfg.ShutdownGrace)})
	}
	if cfg.DataDir == "" {
		probs = append(probs, Problem{File: name, Key: "data_dir", Msg: "must not be empty"})
	}
	if _, _, err := ParseMemoryLimit(cfg.MemoryLimit); err != nil {
		probs = append(probs, Problem{File: name, Key: "memory_limit", Msg: err.Error()})
	}
	probs = append(probs, cfg.validateGraph(name)...)
	if len(probs) > 0 {
		return cfg, probs
	}
	return cfg, nil
}

// Resolve copies top-level defaults into the sections that use them.
func (f *File) Resolve() {
	if f.Environment != "" {
		f.Normalize.Environment = f.Environment
	}
	if f.Project != "" {
		f.Normalize.Project = f.Project
	}
	if f.Service != "" {
		f.Normalize.Service = f.Service
	}
}

// AutoMemoryBase is what "auto" allows besides the sink queues: the
// normalizer's runs in flight, read buffers, caches and the runtime.
const AutoMemoryBase = 24 << 20

// AutoDiskQueueInFlight is what "auto" allows for a disk-buffered sink:
// the batch being encoded into the buffer, the one read back and the one
// the destination is being sent, about 1–2 MiB each. Without it, a
// daemon whose sinks all buffer on disk ran at the 24 MiB base and spent
// half its CPU collecting garbage (bench/run's outage shape: 2× the CPU).
const AutoDiskQueueInFlight = 8 << 20

// MinMemoryLimit is the smallest explicit memory_limit accepted: below
// it the garbage collector would run all the time.
const MinMemoryLimit = 16 << 20

// ParseMemoryLimit reads a memory_limit value: auto reports "auto", n is 0
// for "off", else the limit in bytes.
func ParseMemoryLimit(s string) (n int64, auto bool, err error) {
	switch strings.TrimSpace(s) {
	case "auto", "":
		return 0, true, nil
	case "off":
		return 0, false, nil
	}
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"B", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.m
			break
		}
	}
	v, perr := strconv.ParseInt(t, 10, 64)
	if perr != nil || v <= 0 || v > (1<<50)/mult {
		return 0, false, fmt.Errorf("%q: want auto, off, or a size such as 96MiB, 1GiB or a number of bytes", s)
	}
	if v*mult < MinMemoryLimit {
		return 0, false, fmt.Errorf("%q: must be at least 16MiB (or off)", s)
	}
	return v * mult, false, nil
}
