package loki

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"
)

// Defaults.
const (
	DefaultTimeout             = 10 * time.Second   // loki-client-go's Timeout
	DefaultMaxPushBytes        = 1 << 20            // loki-client-go's BatchSize; far below Loki's 6 MB burst
	DefaultMaxLineBytes        = 256 << 10          // Loki max_line_size "256KB" (KB = 1024 there)
	DefaultRejectOldAfter      = 7 * 24 * time.Hour // Loki reject_old_samples_max_age
	DefaultCreationGracePeriod = 10 * time.Minute   // Loki creation_grace_period
	// MaxLabels is Loki's default max_label_names_per_series.
	MaxLabels = 15
	// minPushOverhead: max_push_bytes must leave this much room beside one
	// maximal line (labels, metadata, framing).
	minPushOverhead = 64 << 10
)

// Config configures the Loki sink. Field names are the YAML keys.
type Config struct {
	// URL is the full push URL, path and query included, e.g.
	// https://loki:3100/loki/api/v1/push or, for VictoriaLogs,
	// http://vl:9428/insert/loki/api/v1/push?_msg_field=message.
	URL string `yaml:"url"`
	// TenantID is sent as X-Scope-OrgID (empty: no header).
	TenantID string `yaml:"tenant_id"`
	// Labels are the stream labels, each "field" or "name=field", where
	// field is one of LabelFields. Default: service, environment,
	// project, level.
	Labels []string `yaml:"labels"`
	// StaticLabels are added to every stream (like loki-client-go's
	// ExternalLabels).
	StaticLabels map[string]string `yaml:"static_labels"`
	// StructuredMetadata entries are "path" or "name=path": tracking_id,
	// trace_id, span_id, any label field, or a dotted path into the record
	// (user.id). Default: tracking_id, trace_id, span_id.
	StructuredMetadata []string `yaml:"structured_metadata"`

	Username        string `yaml:"username"`
	Password        string `yaml:"password"`
	PasswordFile    string `yaml:"password_file"`
	BearerToken     string `yaml:"bearer_token"`
	BearerTokenFile string `yaml:"bearer_token_file"`
	TLS             TLS    `yaml:"tls"`
	// Timeout bounds one push request (default 10s).
	Timeout time.Duration `yaml:"timeout"`
	// Headers are extra request headers.
	Headers map[string]string `yaml:"headers"`

	// MaxPushBytes splits a batch into pushes of at most this many
	// uncompressed bytes (default 1 MiB).
	MaxPushBytes int `yaml:"max_push_bytes"`
	// MaxLineBytes truncates longer lines (default 256 KiB).
	MaxLineBytes int `yaml:"max_line_bytes"`
	// RejectOldAfter: records older than this are dead-lettered as
	// too_old before sending (default 168h; 0 disables the check).
	RejectOldAfter time.Duration `yaml:"reject_old_after"`
	// CreationGracePeriod: records further in the future are dead-lettered
	// as too_new (default 10m).
	CreationGracePeriod time.Duration `yaml:"creation_grace_period"`
}

// TLS configures the client side of TLS.
type TLS struct {
	CAFile             string `yaml:"ca_file"`
	CertFile           string `yaml:"cert_file"`
	KeyFile            string `yaml:"key_file"`
	ServerName         string `yaml:"server_name"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
}

// DefaultConfig returns the defaults (URL still to be set).
func DefaultConfig() Config {
	return Config{
		Labels:              []string{"service", "environment", "project", "level"},
		StructuredMetadata:  []string{"tracking_id", "trace_id", "span_id"},
		Timeout:             DefaultTimeout,
		MaxPushBytes:        DefaultMaxPushBytes,
		MaxLineBytes:        DefaultMaxLineBytes,
		RejectOldAfter:      DefaultRejectOldAfter,
		CreationGracePeriod: DefaultCreationGracePeriod,
	}
}

// LabelFields are the record fields a stream label can take its value from:
// the low-cardinality ones.
var LabelFields = []string{"service", "environment", "project", "level", "source", "stream"}

// highCardinality names fields that must never become labels (one value per
// request, user, session or trace), with the usual spellings.
var highCardinality = map[string]bool{
	"tracking_id": true, "trace_id": true, "span_id": true, "tracing.trace_id": true, "tracing.span_id": true,
	"traceid": true, "spanid": true, "request_id": true, "request.id": true, "correlation_id": true,
	"user_id": true, "user.id": true, "userid": true, "session_id": true, "session.id": true,
	"request.path": true, "request_path": true, "path": true, "url": true, "request.ip": true, "request_ip": true,
	"ip": true, "client_ip": true, "request.user_agent": true, "user_agent": true,
	"message": true, "@message": true, "msg": true, "timestamp": true, "@timestamp": true, "time": true, "ts": true,
	"origin.file": true, "origin.container_id": true, "container_id": true, "exception.stack_trace": true,
	"error.message": true, "workflow.id": true, "pod": true, "pod_name": true,
}

// itemFields are the metadata sources read from the batch item instead of
// the record JSON.
var itemFields = []string{"service", "environment", "project", "level", "source", "stream", "tracking_id", "trace_id", "span_id"}

// reservedHeaders may not be set through headers.
var reservedHeaders = []string{"Content-Type", "Content-Encoding", "Content-Length", "Authorization", "X-Scope-Orgid", "Host"}

// ValidLabelName reports whether s follows the Prometheus label name rules
// Loki enforces ([a-zA-Z_][a-zA-Z0-9_]*, "__" prefix reserved).
func ValidLabelName(s string) bool {
	if s == "" || strings.HasPrefix(s, "__") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9') {
			continue
		}
		return false
	}
	return true
}

// splitSpec splits "name=source" (or "source", whose name is the source
// with every character outside [a-zA-Z0-9_] replaced by '_').
func splitSpec(s string) (name, src string) {
	if n, v, ok := strings.Cut(s, "="); ok {
		return strings.TrimSpace(n), strings.TrimSpace(v)
	}
	src = strings.TrimSpace(s)
	b := []byte(src)
	for i, c := range b {
		if !(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
			b[i] = '_'
		}
	}
	return strings.TrimLeft(string(b), "_"), src
}

// Validate reports every problem, joined (one line each).
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	if c.URL == "" {
		add("url: required (the full push URL, e.g. http://loki:3100/loki/api/v1/push)")
	} else if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		add("url %q: must be an absolute http(s) URL", c.URL)
	}

	names := map[string]string{}
	claim := func(key, name, what string) {
		if prev, dup := names[name]; dup {
			add("%s: label name %q used twice (%s and %s)", key, name, prev, what)
		}
		names[name] = what
	}
	for _, spec := range c.Labels {
		name, src := splitSpec(spec)
		switch {
		case highCardinality[strings.ToLower(src)]:
			add("labels: %q is a high-cardinality field (one value per request, user, session or trace); put it in structured_metadata instead", src)
			continue
		case !slices.Contains(LabelFields, src):
			add("labels: %q is not a label field (one of %s)", src, strings.Join(LabelFields, ", "))
			continue
		case !ValidLabelName(name):
			add("labels: label name %q is invalid (must match [a-zA-Z_][a-zA-Z0-9_]*, no __ prefix)", name)
			continue
		}
		claim("labels", name, "labels "+spec)
	}
	for name, v := range c.StaticLabels {
		if !ValidLabelName(name) {
			add("static_labels: label name %q is invalid (must match [a-zA-Z_][a-zA-Z0-9_]*, no __ prefix)", name)
		}
		if v == "" {
			add("static_labels.%s: empty value", name)
		}
		claim("static_labels", name, "static_labels."+name)
	}
	if len(names) == 0 {
		add("labels: at least one label is required (Loki refuses streams without labels)")
	}
	if len(names) > MaxLabels {
		add("labels: %d labels; Loki accepts at most %d per stream", len(names), MaxLabels)
	}
	smNames := map[string]bool{}
	for _, spec := range c.StructuredMetadata {
		name, src := splitSpec(spec)
		if src == "" || strings.ContainsAny(src, "*?|#") {
			add("structured_metadata: %q: need a field or a dotted path", spec)
			continue
		}
		if !ValidLabelName(name) {
			add("structured_metadata: name %q is invalid (must match [a-zA-Z_][a-zA-Z0-9_]*, no __ prefix)", name)
			continue
		}
		if smNames[name] {
			add("structured_metadata: name %q used twice", name)
		}
		smNames[name] = true
	}

	if c.Password != "" && c.PasswordFile != "" {
		add("password, password_file: set at most one")
	}
	if (c.Password != "" || c.PasswordFile != "") && c.Username == "" {
		add("password: needs username")
	}
	if c.BearerToken != "" && c.BearerTokenFile != "" {
		add("bearer_token, bearer_token_file: set at most one")
	}
	if c.Username != "" && (c.BearerToken != "" || c.BearerTokenFile != "") {
		add("username, bearer_token: basic auth and bearer token are exclusive")
	}
	for _, f := range []struct{ key, path string }{{"password_file", c.PasswordFile}, {"bearer_token_file", c.BearerTokenFile}, {"tls.ca_file", c.TLS.CAFile}, {"tls.cert_file", c.TLS.CertFile}, {"tls.key_file", c.TLS.KeyFile}} {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			add("%s: %v", f.key, err)
		}
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		add("tls.cert_file, tls.key_file: set both or neither")
	}
	for k := range c.Headers {
		if !validHeaderName(k) {
			add("headers: %q is not a valid header name", k)
		} else if slices.Contains(reservedHeaders, http.CanonicalHeaderKey(k)) {
			add("headers: %q is set by the sink (use tenant_id, username/password or bearer_token)", k)
		}
	}
	if c.Timeout <= 0 {
		add("timeout %s: must be > 0", c.Timeout)
	}
	if c.MaxLineBytes < 1024 {
		add("max_line_bytes %d: must be >= 1024", c.MaxLineBytes)
	}
	if c.MaxPushBytes < c.MaxLineBytes+minPushOverhead {
		add("max_push_bytes %d: must be >= max_line_bytes + %d (%d), so one maximal entry fits", c.MaxPushBytes, minPushOverhead, c.MaxLineBytes+minPushOverhead)
	}
	if c.RejectOldAfter < 0 {
		add("reject_old_after %s: must be >= 0 (0 disables the check)", c.RejectOldAfter)
	}
	if c.CreationGracePeriod <= 0 {
		add("creation_grace_period %s: must be > 0", c.CreationGracePeriod)
	}
	return errors.Join(errs...)
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?={}`, c) >= 0 {
			return false
		}
	}
	return true
}
