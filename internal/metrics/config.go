package metrics

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// Config configures the metrics listener and the derived request metrics
// (the `metrics:` section of the daemon's configuration).
type Config struct {
	// Listen is the address of the /metrics, /healthz and /readyz listener.
	// Default 127.0.0.1:9464 (loopback: expose it deliberately).
	Listen string `yaml:"listen"`
	// EndpointTemplates are route templates matched before the automatic
	// id detection, e.g. "/api/v1/sessions/{id}" or "/users/{user}/keys".
	// A `{name}` segment matches any one non-empty path segment; other
	// segments must match exactly. The first matching template (in order)
	// becomes the endpoint label verbatim.
	EndpointTemplates []string `yaml:"endpoint_templates"`
	// APIKeyIDs is the allow-list of API key ids that may appear as the
	// api_key_id label. A key id that is not listed is exposed as
	// "unlisted"; raw keys never become label values.
	APIKeyIDs []string `yaml:"api_key_ids"`
	// MaxSeriesPerMetric bounds the series of each derived metric. A new
	// label combination beyond it is folded into an overflow series whose
	// variable labels are "other" (counted in
	// logshipd_metrics_series_overflow_total). Default 2000.
	MaxSeriesPerMetric int `yaml:"max_series_per_metric"`
	// SeriesIdleExpiry removes a derived series that has not been updated
	// for this long (default 10m). A removed counter restarts from zero
	// when it comes back (Prometheus treats that as a counter reset).
	SeriesIdleExpiry time.Duration `yaml:"series_idle_expiry"`
	// ExcludeFormats lists detected formats (origin.format, e.g.
	// "uvicorn-access") whose records are not counted as HTTP requests.
	// Use it when a service writes both its own request log and a server
	// access log for the same request, which would count it twice.
	ExcludeFormats []string `yaml:"exclude_formats"`
	// DurationBuckets are the request_duration_seconds bucket bounds
	// (seconds, increasing). Default: the monitoring guide's
	// 0.005 … 10 s.
	DurationBuckets []float64 `yaml:"duration_buckets"`
}

// Defaults.
const (
	DefaultListen             = "127.0.0.1:9464"
	DefaultMaxSeriesPerMetric = 2000
	DefaultSeriesIdleExpiry   = 10 * time.Minute
)

// DefaultDurationBuckets are the monitoring guide's request_duration_seconds
// buckets.
var DefaultDurationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		Listen:             DefaultListen,
		MaxSeriesPerMetric: DefaultMaxSeriesPerMetric,
		SeriesIdleExpiry:   DefaultSeriesIdleExpiry,
		DurationBuckets:    append([]float64(nil), DefaultDurationBuckets...),
	}
}

// Validate reports every problem, joined.
func (c *Config) Validate() error {
	var errs []error
	if c.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Listen); err != nil {
			errs = append(errs, fmt.Errorf("metrics.listen %q: %w", c.Listen, err))
		}
	} else {
		errs = append(errs, errors.New("metrics.listen: must be host:port (e.g. 127.0.0.1:9464)"))
	}
	for i, t := range c.EndpointTemplates {
		if err := checkTemplate(t); err != nil {
			errs = append(errs, fmt.Errorf("metrics.endpoint_templates[%d] %q: %w", i, t, err))
		}
	}
	for i, k := range c.APIKeyIDs {
		if k == "" || len(k) > 128 {
			errs = append(errs, fmt.Errorf("metrics.api_key_ids[%d]: must be 1..128 bytes", i))
		}
	}
	if c.MaxSeriesPerMetric < 10 || c.MaxSeriesPerMetric > 1_000_000 {
		errs = append(errs, fmt.Errorf("metrics.max_series_per_metric %d: must be 10..1000000", c.MaxSeriesPerMetric))
	}
	if c.SeriesIdleExpiry < time.Second {
		errs = append(errs, fmt.Errorf("metrics.series_idle_expiry %s: must be >= 1s", c.SeriesIdleExpiry))
	}
	if len(c.DurationBuckets) == 0 {
		errs = append(errs, errors.New("metrics.duration_buckets: must not be empty"))
	}
	for i, b := range c.DurationBuckets {
		if b <= 0 || (i > 0 && b <= c.DurationBuckets[i-1]) {
			errs = append(errs, fmt.Errorf("metrics.duration_buckets: must be positive and strictly increasing (%v)", c.DurationBuckets))
			break
		}
	}
	return errors.Join(errs...)
}

func checkTemplate(t string) error {
	if !strings.HasPrefix(t, "/") {
		return errors.New("must start with /")
	}
	if strings.ContainsAny(t, "?#") {
		return errors.New("must be a path without query or fragment")
	}
	if t == "/" {
		return nil
	}
	segs := strings.Split(strings.TrimSuffix(t[1:], "/"), "/")
	for i, seg := range segs {
		if seg == "" {
			return errors.New("empty path segment")
		}
		if strings.HasSuffix(seg, "...}") && i != len(segs)-1 {
			return fmt.Errorf("segment %q: a {name...} placeholder must be the last segment", seg)
		}
		if strings.HasPrefix(seg, "{") != strings.HasSuffix(seg, "}") {
			return fmt.Errorf("segment %q: a placeholder is {name}", seg)
		}
		if seg == "{}" || seg == "{...}" {
			return fmt.Errorf("segment %q: a placeholder needs a name", seg)
		}
	}
	return nil
}
