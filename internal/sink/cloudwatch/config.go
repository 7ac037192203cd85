package cloudwatch

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// CloudWatch Logs PutLogEvents limits (docs/sinks/cloudwatch.md, specs §1.1).
const (
	// EventOverhead is the per-event byte overhead CloudWatch adds to the
	// UTF-8 length of each message when it sizes a batch.
	EventOverhead = 26
	// MaxBatchBytes is the most bytes of one PutLogEvents call:
	// Σ (len(message) + EventOverhead).
	MaxBatchBytes = 1_048_576
	// MaxEventBytes is the most message bytes of one event (1 MB minus the
	// overhead, so that a maximum-size event fits a call on its own).
	MaxEventBytes = MaxBatchBytes - EventOverhead
	// MaxBatchEvents is the most events of one call.
	MaxBatchEvents = 10_000
	// MaxSpan is the longest time span (newest − oldest timestamp) of the
	// events of one call.
	MaxSpan = 24 * time.Hour
	// MaxAge and MaxFuture bound the timestamps CloudWatch accepts.
	MaxAge    = 14 * 24 * time.Hour
	MaxFuture = 2 * time.Hour
	// MaxNameLen is the longest log group or log stream name.
	MaxNameLen = 512
)

// RetentionDays lists the values PutRetentionPolicy accepts.
var RetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// Log group classes accepted by log_group_class. ESSENTIALS and DELIVERY
// exist too but are not offered: Insights field discovery needs STANDARD,
// and DELIVERY groups cannot take PutLogEvents from us.
const (
	ClassStandard         = "STANDARD"
	ClassInfrequentAccess = "INFREQUENT_ACCESS"
)

// Config configures the CloudWatch Logs sink (`type: cloudwatch`).
type Config struct {
	// Region is the AWS region. Empty: the standard chain (AWS_REGION,
	// AWS_DEFAULT_REGION, shared config, then EC2 instance metadata).
	Region string `yaml:"region"`
	// Endpoint overrides the service endpoint (http(s) URL). Empty: the
	// SDK's resolution, which honours AWS_ENDPOINT_URL_CLOUDWATCH_LOGS,
	// AWS_ENDPOINT_URL and endpoint_url in the shared config.
	Endpoint string `yaml:"endpoint"`
	// LogGroup and LogStream are name templates (see Placeholders).
	LogGroup  string `yaml:"log_group"`
	LogStream string `yaml:"log_stream"`
	// FireLensLogStream is the stream template used instead of LogStream
	// for records that came from a Fluent Forward source (FireLens).
	// Empty: LogStream for every record.
	FireLensLogStream string `yaml:"firelens_log_stream"`
	// RetentionDays is set on log groups this sink creates (0: leave the
	// group's retention alone, i.e. never expire).
	RetentionDays int `yaml:"retention_days"`
	// CreateLogGroup creates missing log groups (else a missing group
	// refuses the records for good).
	CreateLogGroup bool `yaml:"create_log_group"`
	// LogGroupClass of created groups: STANDARD or INFREQUENT_ACCESS.
	LogGroupClass string `yaml:"log_group_class"`
	// MaxEventBytes caps one message; longer ones are truncated with a
	// "[truncated N bytes]" marker.
	MaxEventBytes int `yaml:"max_event_bytes"`
	// MaxBatchBytes and MaxBatchEvents cap one PutLogEvents call.
	MaxBatchBytes  int `yaml:"max_batch_bytes"`
	MaxBatchEvents int `yaml:"max_batch_events"`
	// Concurrency is the most PutLogEvents calls in flight per Send.
	Concurrency int `yaml:"concurrency"`
	// RequestTimeout bounds one API call.
	RequestTimeout time.Duration `yaml:"request_timeout"`
	// ThrottleBackoff is the least delay the worker waits after a
	// throttling answer (its own jittered exponential backoff applies on
	// top).
	ThrottleBackoff time.Duration `yaml:"throttle_backoff"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		LogGroup:          "/ai-teams/{environment}/{service}",
		LogStream:         "{host}/{source}",
		FireLensLogStream: "{container_name}/{task_id}",
		CreateLogGroup:    true,
		LogGroupClass:     ClassStandard,
		MaxEventBytes:     MaxEventBytes,
		MaxBatchBytes:     MaxBatchBytes,
		MaxBatchEvents:    MaxBatchEvents,
		Concurrency:       4,
		RequestTimeout:    30 * time.Second,
		ThrottleBackoff:   time.Second,
	}
}

// Validate reports every problem, joined.
func (c *Config) Validate() error {
	var errs []error
	if c.Endpoint != "" {
		u, err := url.Parse(c.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("endpoint %q: must be an http:// or https:// URL", c.Endpoint))
		}
	}
	for _, t := range []struct{ key, val string }{
		{"log_group", c.LogGroup}, {"log_stream", c.LogStream}, {"firelens_log_stream", c.FireLensLogStream},
	} {
		if t.val == "" {
			if t.key != "firelens_log_stream" {
				errs = append(errs, fmt.Errorf("%s: required", t.key))
			}
			continue
		}
		if _, err := parseTemplate(t.val); err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %w", t.key, t.val, err))
		}
	}
	if tpl, err := parseTemplate(c.LogGroup); err == nil && c.LogGroup != "" && tpl.literalPrefixAWS() {
		errs = append(errs, fmt.Errorf("log_group %q: must not start with \"aws/\"", c.LogGroup))
	}
	if c.RetentionDays != 0 && !slices.Contains(RetentionDays, c.RetentionDays) {
		errs = append(errs, fmt.Errorf("retention_days %d: must be 0 (do not set) or one of %v", c.RetentionDays, RetentionDays))
	}
	if c.LogGroupClass != ClassStandard && c.LogGroupClass != ClassInfrequentAccess {
		errs = append(errs, fmt.Errorf("log_group_class %q: must be %s or %s", c.LogGroupClass, ClassStandard, ClassInfrequentAccess))
	}
	if c.MaxEventBytes < 1024 || c.MaxEventBytes > MaxEventBytes {
		errs = append(errs, fmt.Errorf("max_event_bytes %d: must be 1024..%d", c.MaxEventBytes, MaxEventBytes))
	}
	if c.MaxBatchBytes < 1024+EventOverhead || c.MaxBatchBytes > MaxBatchBytes {
		errs = append(errs, fmt.Errorf("max_batch_bytes %d: must be %d..%d", c.MaxBatchBytes, 1024+EventOverhead, MaxBatchBytes))
	}
	if c.MaxBatchEvents < 1 || c.MaxBatchEvents > MaxBatchEvents {
		errs = append(errs, fmt.Errorf("max_batch_events %d: must be 1..%d", c.MaxBatchEvents, MaxBatchEvents))
	}
	if c.Concurrency < 1 || c.Concurrency > 64 {
		errs = append(errs, fmt.Errorf("concurrency %d: must be 1..64", c.Concurrency))
	}
	if c.RequestTimeout <= 0 {
		errs = append(errs, fmt.Errorf("request_timeout %s: must be > 0", c.RequestTimeout))
	}
	if c.ThrottleBackoff < 0 {
		errs = append(errs, fmt.Errorf("throttle_backoff %s: must be >= 0", c.ThrottleBackoff))
	}
	return errors.Join(errs...)
}

// eventCap is the most message bytes one event may carry.
func (c *Config) eventCap() int { return min(c.MaxEventBytes, c.MaxBatchBytes-EventOverhead) }

func hasAWSPrefix(s string) bool { return strings.HasPrefix(s, "aws/") }
