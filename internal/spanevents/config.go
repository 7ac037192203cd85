package spanevents

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/starmates/logshipd/internal/event"
)

// Protocols accepted by Config.Protocol (the OTEL_EXPORTER_OTLP_PROTOCOL values).
const (
	ProtocolGRPC         = "grpc"
	ProtocolHTTPProtobuf = "http/protobuf"
	ProtocolHTTPJSON     = "http/json"
)

// Config configures the span-events sink. Zero values of Endpoint, Protocol,
// Headers, Insecure and Timeout mean "not set here": the standard
// OTEL_EXPORTER_OTLP_* environment variables (traces-specific first) apply,
// then the OTLP defaults. A value set here always wins over the environment.
type Config struct {
	// Endpoint is "host:port" or a URL ("http://jaeger:4318"). For HTTP a
	// URL whose path does not end in /v1/traces gets /v1/traces appended (the
	// OTEL_EXPORTER_OTLP_ENDPOINT rule). A URL with scheme http means
	// plaintext. Empty: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
	// OTEL_EXPORTER_OTLP_ENDPOINT, else localhost:4317 (grpc) or
	// localhost:4318 (http).
	Endpoint string `yaml:"endpoint"`
	// Protocol is grpc, http/protobuf or http/json. Empty:
	// OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, OTEL_EXPORTER_OTLP_PROTOCOL, else
	// http/protobuf (the OTLP default).
	Protocol string `yaml:"protocol"`
	// Headers are sent with every export. They are merged over
	// OTEL_EXPORTER_OTLP_HEADERS and OTEL_EXPORTER_OTLP_TRACES_HEADERS (a
	// key set here replaces the environment's value for that key).
	Headers map[string]string `yaml:"headers"`
	// Insecure disables TLS. nil: OTEL_EXPORTER_OTLP_[TRACES_]INSECURE, or the
	// endpoint URL's scheme (http: plaintext), else TLS.
	Insecure *bool `yaml:"insecure"`
	// Timeout bounds one export attempt. 0: OTEL_EXPORTER_OTLP_TRACES_TIMEOUT,
	// OTEL_EXPORTER_OTLP_TIMEOUT (milliseconds), else 10s.
	Timeout time.Duration `yaml:"timeout"`
	// MaxRetryTime bounds how long one batch of spans is retried (jittered
	// exponential backoff from 1s up to 5s) before it is dropped and counted
	// as export_failed.
	MaxRetryTime time.Duration `yaml:"max_retry_time"`
	// QueueSize bounds the spans waiting for export. A span that does not
	// fit is dropped and counted as queue_full; Send never waits for room.
	QueueSize int `yaml:"queue_size"`
	// BatchSize is the most spans in one export request.
	BatchSize int `yaml:"batch_size"`
	// BatchTimeout exports a partial batch after this long.
	BatchTimeout time.Duration `yaml:"batch_timeout"`
	// MinLevel is the lowest record level that becomes a span (default ERROR).
	MinLevel string `yaml:"min_level"`
	// MaxAttributeLength cuts string attributes (message, stack trace, ...)
	// to this many bytes, so the queue's memory stays bounded.
	MaxAttributeLength int `yaml:"max_attribute_length"`
}

// Defaults.
const (
	DefaultTimeout            = 10 * time.Second
	DefaultMaxRetryTime       = 30 * time.Second
	DefaultQueueSize          = 2048
	DefaultBatchSize          = 512
	DefaultBatchTimeout       = time.Second
	DefaultMaxAttributeLength = 8192
	retryInitialBackoff       = time.Second
	retryMaxBackoff           = 5 * time.Second
)

// DefaultConfig returns the defaults (documented in docs/sinks/spanevents.md).
func DefaultConfig() Config {
	return Config{
		MaxRetryTime:       DefaultMaxRetryTime,
		QueueSize:          DefaultQueueSize,
		BatchSize:          DefaultBatchSize,
		BatchTimeout:       DefaultBatchTimeout,
		MinLevel:           "ERROR",
		MaxAttributeLength: DefaultMaxAttributeLength,
	}
}

// Validate reports every problem, joined. It checks the values set here and
// the OTEL_EXPORTER_OTLP_* variables they would fall back to.
func (c *Config) Validate() error {
	var errs []error
	if c.Protocol != "" && !validProtocol(c.Protocol) {
		errs = append(errs, fmt.Errorf("protocol %q: must be grpc, http/protobuf or http/json", c.Protocol))
	}
	if c.Protocol == "" {
		if p, name := envFirst("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"); p != "" && !validProtocol(p) {
			errs = append(errs, fmt.Errorf("protocol: %s=%q: must be grpc, http/protobuf or http/json", name, p))
		}
	}
	if c.Endpoint != "" {
		if err := checkEndpoint(c.Endpoint); err != nil {
			errs = append(errs, fmt.Errorf("endpoint %q: %w", c.Endpoint, err))
		}
	}
	for k := range c.Headers {
		if k == "" || strings.ContainsAny(k, " \t\r\n:") {
			errs = append(errs, fmt.Errorf("headers: key %q: must be a non-empty header name", k))
		}
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout %s: must be >= 0 (0: environment or 10s)", c.Timeout))
	}
	if c.Timeout == 0 {
		if _, err := envTimeout(); err != nil {
			errs = append(errs, fmt.Errorf("timeout: %w", err))
		}
	}
	if c.MaxRetryTime < 0 {
		errs = append(errs, fmt.Errorf("max_retry_time %s: must be >= 0 (0: no retries)", c.MaxRetryTime))
	}
	if c.QueueSize < 1 {
		errs = append(errs, fmt.Errorf("queue_size %d: must be >= 1", c.QueueSize))
	}
	if c.BatchSize < 1 || c.BatchSize > c.QueueSize {
		errs = append(errs, fmt.Errorf("batch_size %d: must be 1..queue_size (%d)", c.BatchSize, c.QueueSize))
	}
	if c.BatchTimeout <= 0 {
		errs = append(errs, fmt.Errorf("batch_timeout %s: must be > 0", c.BatchTimeout))
	}
	if _, ok := event.ParseLevel(c.MinLevel); !ok {
		errs = append(errs, fmt.Errorf("min_level %q: must be DEBUG, INFO, WARN or ERROR", c.MinLevel))
	}
	if c.MaxAttributeLength < 256 {
		errs = append(errs, fmt.Errorf("max_attribute_length %d: must be >= 256", c.MaxAttributeLength))
	}
	return errors.Join(errs...)
}

func validProtocol(p string) bool {
	return p == ProtocolGRPC || p == ProtocolHTTPProtobuf || p == ProtocolHTTPJSON
}

func checkEndpoint(ep string) error {
	if strings.Contains(ep, "://") {
		u, err := url.Parse(ep)
		if err != nil {
			return err
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			return fmt.Errorf("scheme %q: must be http or https", u.Scheme)
		}
		if u.Host == "" {
			return errors.New("no host")
		}
		return nil
	}
	if strings.ContainsAny(ep, "/ ") || !strings.Contains(ep, ":") {
		return errors.New(`must be "host:port" or an http(s) URL`)
	}
	return nil
}

// envFirst returns the first non-empty variable among names, and its name.
func envFirst(names ...string) (string, string) {
	for _, n := range names {
		if v := strings.TrimSpace(os.Getenv(n)); v != "" {
			return v, n
		}
	}
	return "", ""
}

// envTimeout returns the OTEL_EXPORTER_OTLP_[TRACES_]TIMEOUT (milliseconds), or 0.
func envTimeout() (time.Duration, error) {
	v, name := envFirst("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT")
	if v == "" {
		return 0, nil
	}
	ms, err := strconv.ParseInt(v, 10, 64)
	if err != nil || ms <= 0 {
		return 0, fmt.Errorf("%s=%q: must be a positive number of milliseconds", name, v)
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// resolved is the effective exporter configuration after the environment.
type resolved struct {
	protocol string
	timeout  time.Duration
	headers  map[string]string
}

func (c *Config) resolve() resolved {
	r := resolved{protocol: c.Protocol, timeout: c.Timeout}
	if r.protocol == "" {
		r.protocol, _ = envFirst("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	if r.protocol == "" {
		r.protocol = ProtocolHTTPProtobuf
	}
	if r.timeout == 0 {
		r.timeout, _ = envTimeout()
	}
	if r.timeout == 0 {
		r.timeout = DefaultTimeout
	}
	if len(c.Headers) > 0 {
		r.headers = map[string]string{}
		parseHeaders(os.Getenv("OTEL_EXPORTER_OTLP_HEADERS"), r.headers)
		parseHeaders(os.Getenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS"), r.headers)
		for k, v := range c.Headers {
			r.headers[k] = v
		}
	}
	return r
}

// parseHeaders adds the W3C-baggage-style list "k1=v1,k2=v2" (values
// percent-encoded) to dst, skipping malformed entries as the SDK does.
func parseHeaders(s string, dst map[string]string) {
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		k = strings.TrimSpace(k)
		uv, err := url.PathUnescape(strings.TrimSpace(v))
		if k == "" || err != nil {
			continue
		}
		dst[k] = uv
	}
}
