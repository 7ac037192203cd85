package normalize

import (
	"errors"
	"fmt"
	"time"

	"github.com/starmates/logshipd/internal/event"
)

// Config controls normalization. The zero value is not valid: start from
// DefaultConfig and override.
type Config struct {
	// Format is "auto" (per-line detection, sticky per source) or the name of
	// one parser (see Formats).
	Format string `yaml:"format"`
	// Service is used when a record names none.
	Service string `yaml:"service"`
	// Environment and Project are injected when a record carries none.
	Environment string `yaml:"environment"`
	Project     string `yaml:"project"`
	// Timezone interprets timestamps written without a zone (IANA name).
	Timezone string `yaml:"timezone"`
	// TrackingIDFallback is written when neither a valid tracking id nor a
	// trace id is found. At most 36 bytes.
	TrackingIDFallback string `yaml:"tracking_id_fallback"`
	// MaxFields caps the flattened leaf fields of one record (as CloudWatch
	// Logs Insights counts them). 64..1000.
	MaxFields int `yaml:"max_fields"`
	// MaxEventBytes caps the encoded record; longer free-text fields are cut
	// with a "[truncated N bytes]" marker. Default 1,048,550 (CloudWatch's
	// 1 MiB event limit minus its 26-byte overhead).
	MaxEventBytes int `yaml:"max_event_bytes"`
	// AtFields writes the @timestamp/@level/@message twins (default true).
	AtFields *bool `yaml:"at_fields"`
	// LevelFilter maps an environment to the lowest level kept. Records below
	// it are dropped and counted. Default: prod and production keep WARN+,
	// every other environment keeps everything.
	LevelFilter map[string]string `yaml:"level_filter"`
	// Multiline bounds joined records.
	Multiline MultilineConfig `yaml:"multiline"`
}

// MultilineConfig bounds multiline joining.
type MultilineConfig struct {
	// MaxLines is the most physical lines joined into one record.
	MaxLines int `yaml:"max_lines"`
	// MaxBytes is the most bytes joined into one record.
	MaxBytes int `yaml:"max_bytes"`
	// FlushTimeout emits a pending record when no line followed it for this
	// long (streaming sources only).
	FlushTimeout time.Duration `yaml:"flush_timeout"`
}

// Defaults.
const (
	DefaultMaxFields     = 200
	MinMaxFields         = 64
	MaxMaxFields         = 1000
	DefaultMaxEventBytes = 1048576 - 26
	MinMaxEventBytes     = 4096
)

// DefaultConfig returns the defaults documented in docs/configuration.md.
func DefaultConfig() Config {
	return Config{
		Format:             "auto",
		Environment:        "dev",
		Project:            "starmates-ai-team",
		Timezone:           "UTC",
		TrackingIDFallback: "unknown",
		MaxFields:          DefaultMaxFields,
		MaxEventBytes:      DefaultMaxEventBytes,
		LevelFilter:        map[string]string{"prod": "WARN", "production": "WARN"},
		Multiline: MultilineConfig{
			MaxLines:     500,
			MaxBytes:     256 << 10,
			FlushTimeout: time.Second,
		},
	}
}

// Validate reports every problem in c, joined.
func (c *Config) Validate() error {
	var errs []error
	if c.Format != "auto" && !knownFormat(c.Format) {
		errs = append(errs, fmt.Errorf("format %q: unknown (one of auto, %v)", c.Format, Formats()))
	}
	if _, err := time.LoadLocation(c.Timezone); err != nil {
		errs = append(errs, fmt.Errorf("timezone %q: %w", c.Timezone, err))
	}
	if len(c.TrackingIDFallback) == 0 || len(c.TrackingIDFallback) > 36 {
		errs = append(errs, fmt.Errorf("tracking_id_fallback %q: must be 1..36 bytes", c.TrackingIDFallback))
	}
	if c.MaxFields < MinMaxFields || c.MaxFields > MaxMaxFields {
		errs = append(errs, fmt.Errorf("max_fields %d: must be %d..%d", c.MaxFields, MinMaxFields, MaxMaxFields))
	}
	if c.MaxEventBytes < MinMaxEventBytes || c.MaxEventBytes > DefaultMaxEventBytes {
		errs = append(errs, fmt.Errorf("max_event_bytes %d: must be %d..%d", c.MaxEventBytes, MinMaxEventBytes, DefaultMaxEventBytes))
	}
	if c.Environment == "" {
		errs = append(errs, errors.New("environment: must not be empty"))
	}
	if c.Project == "" {
		errs = append(errs, errors.New("project: must not be empty"))
	}
	for env, lv := range c.LevelFilter {
		if _, ok := event.ParseLevel(lv); !ok {
			errs = append(errs, fmt.Errorf("level_filter.%s %q: must be DEBUG, INFO, WARN or ERROR", env, lv))
		}
	}
	if c.Multiline.MaxLines < 1 {
		errs = append(errs, fmt.Errorf("multiline.max_lines %d: must be >= 1", c.Multiline.MaxLines))
	}
	if c.Multiline.MaxBytes < 1024 {
		errs = append(errs, fmt.Errorf("multiline.max_bytes %d: must be >= 1024", c.Multiline.MaxBytes))
	}
	if c.Multiline.FlushTimeout <= 0 {
		errs = append(errs, fmt.Errorf("multiline.flush_timeout %s: must be > 0", c.Multiline.FlushTimeout))
	}
	return errors.Join(errs...)
}
