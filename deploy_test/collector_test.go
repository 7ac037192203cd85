package deploy_test

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// Components and configuration keys of the OpenTelemetry Collector contrib
// release pinned in docker-compose.monitoring.yml (0.161.0), taken from the
// components' metadata.yaml (type names) and config structs / config.schema
// (mapstructure keys) at that release. A key outside these lists is a typo or
// belongs to another release; update the lists together with the image.
const collectorRelease = "0.161.0"

var (
	// confighttp.ClientConfig / configgrpc.ClientConfig keys.
	httpClientKeys = []string{"endpoint", "proxy_url", "tls", "read_buffer_size", "write_buffer_size", "timeout", "headers",
		"auth", "compression", "compression_params", "max_idle_conns", "max_idle_conns_per_host", "max_conns_per_host",
		"idle_conn_timeout", "disable_keep_alives", "http2_read_idle_timeout", "http2_ping_timeout", "cookies", "middlewares",
		"force_attempt_http2"}
	grpcClientKeys = []string{"endpoint", "compression", "tls", "keepalive", "read_buffer_size", "write_buffer_size",
		"wait_for_ready", "headers", "balancer_name", "authority", "auth", "middlewares"}
	// confighttp.ServerConfig / configgrpc.ServerConfig keys.
	httpServerKeys = []string{"endpoint", "tls", "cors", "auth", "max_request_body_size", "include_metadata", "response_headers",
		"compression_algorithms", "read_timeout", "read_header_timeout", "write_timeout", "idle_timeout", "middlewares",
		"keep_alives_enabled"}
	grpcServerKeys = []string{"endpoint", "transport", "tls", "max_recv_msg_size_mib", "max_concurrent_streams",
		"read_buffer_size", "write_buffer_size", "keepalive", "auth", "include_metadata", "middlewares"}
	exporterHelperKeys = []string{"timeout", "sending_queue", "retry_on_failure"}
	tlsClientKeys      = []string{"insecure", "insecure_skip_verify", "ca_file", "ca_pem", "cert_file", "cert_pem",
		"key_file", "key_pem", "server_name_override", "min_version", "max_version", "include_system_ca_certs_pool",
		"reload_interval", "cipher_suites", "curve_preferences"}
)

func join(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

type collectorComponent struct {
	keys    []string
	signals []string // pipelines it may appear in (receivers, processors, exporters)
}

var collectorComponents = map[string]map[string]collectorComponent{
	"receivers": {
		"otlp": {keys: []string{"protocols"}, signals: []string{"traces", "metrics", "logs"}},
	},
	"processors": {
		"batch": {keys: []string{"timeout", "send_batch_size", "send_batch_max_size", "metadata_keys", "metadata_cardinality_limit"},
			signals: []string{"traces", "metrics", "logs"}},
		"memory_limiter": {keys: []string{"check_interval", "limit_mib", "spike_limit_mib", "limit_percentage", "spike_limit_percentage",
			"min_gc_interval_when_soft_limited", "min_gc_interval_when_hard_limited", "max_gc_interval_when_soft_limited",
			"max_gc_interval_when_hard_limited"}, signals: []string{"traces", "metrics", "logs"}},
		"resource": {keys: []string{"attributes"}, signals: []string{"traces", "metrics", "logs"}},
	},
	"exporters": {
		"otlp_grpc": {keys: join(grpcClientKeys, exporterHelperKeys), signals: []string{"traces", "metrics", "logs"}},
		"otlp_http": {keys: join(httpClientKeys, exporterHelperKeys, []string{"traces_endpoint", "metrics_endpoint", "logs_endpoint", "profiles_endpoint", "encoding"}),
			signals: []string{"traces", "metrics", "logs"}},
		"prometheus": {keys: join(httpServerKeys, []string{"sending_queue", "namespace", "const_labels", "send_timestamps", "metric_expiration",
			"resource_to_telemetry_conversion", "resource_constant_labels", "enable_open_metrics", "without_scope_info",
			"add_metric_suffixes", "translation_strategy"}), signals: []string{"metrics"}},
		"prometheus_remote_write": {keys: join(httpClientKeys, []string{"timeout", "retry_on_failure", "namespace", "remote_write_queue",
			"external_labels", "http", "max_batch_size_bytes", "max_batch_request_parallelism", "resource_to_telemetry_conversion",
			"resource_constant_labels", "wal", "target_info", "disable_scope_info", "add_metric_suffixes", "translation_strategy",
			"send_metadata", "protobuf_message", "include_metadata_keys", "convert_explicit_histograms_to_nhcb",
			"keep_classic_histograms"}), signals: []string{"metrics"}},
	},
	"extensions": {
		"health_check": {keys: join(httpServerKeys, []string{"path", "response_body", "check_collector_pipeline", "http", "grpc"})},
		"basicauth":    {keys: []string{"htpasswd", "client_auth"}},
	},
}

// Names the guide uses that are gone or deprecated at this release.
var collectorRemoved = map[string]string{
	"jaeger":                "removed in contrib v0.85: export OTLP to Jaeger (otlp_grpc)",
	"loki":                  "removed: use otlp_http to Loki's OTLP endpoint",
	"logging":               "removed: use debug",
	"otlp":                  "deprecated exporter alias since v0.144: otlp_grpc",
	"otlphttp":              "deprecated alias since v0.144: otlp_http",
	"prometheusremotewrite": "deprecated alias since v0.154: prometheus_remote_write",
}

type collectorConfig struct {
	Receivers  map[string]map[string]any `yaml:"receivers"`
	Processors map[string]map[string]any `yaml:"processors"`
	Exporters  map[string]map[string]any `yaml:"exporters"`
	Extensions map[string]map[string]any `yaml:"extensions"`
	Connectors map[string]map[string]any `yaml:"connectors"`
	Service    struct {
		Extensions []string `yaml:"extensions"`
		Pipelines  map[string]struct {
			Receivers  []string `yaml:"receivers"`
			Processors []string `yaml:"processors"`
			Exporters  []string `yaml:"exporters"`
		} `yaml:"pipelines"`
		Telemetry map[string]any `yaml:"telemetry"`
	} `yaml:"service"`
}

func loadCollectorConfig(t *testing.T) (collectorConfig, string) {
	t.Helper()
	src := string(readFile(t, "monitoring", "otel-collector-config.yml"))
	var cfg collectorConfig
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	require.NoError(t, dec.Decode(&cfg), "top-level and service keys of a collector configuration")
	return cfg, src
}

func typeOf(id string) string { typ, _, _ := strings.Cut(id, "/"); return typ }

func keysOf(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestCollectorConfigComponents(t *testing.T) {
	t.Parallel()
	cfg, _ := loadCollectorConfig(t)
	sections := map[string]map[string]map[string]any{
		"receivers": cfg.Receivers, "processors": cfg.Processors, "exporters": cfg.Exporters, "extensions": cfg.Extensions,
	}
	assert.Empty(t, cfg.Connectors)
	for kind, comps := range sections {
		for id, conf := range comps {
			typ := typeOf(id)
			if why, gone := collectorRemoved[typ]; gone && !(kind == "receivers" && typ == "otlp") {
				t.Errorf("%s %q: %s", kind, id, why)
				continue
			}
			known, ok := collectorComponents[kind][typ]
			if !assert.True(t, ok, "%s %q: not a component the test knows for collector %s", kind, id, collectorRelease) {
				continue
			}
			for _, k := range keysOf(conf) {
				assert.Contains(t, known.keys, k, "%s %q: key %q is not in its %s configuration", kind, id, k, collectorRelease)
			}
		}
	}

	// Nested keys that matter.
	protocols, _ := cfg.Receivers["otlp"]["protocols"].(map[string]any)
	require.NotNil(t, protocols, "otlp receiver protocols")
	for p, keys := range map[string][]string{"grpc": grpcServerKeys, "http": append(httpServerKeys, "traces_url_path", "metrics_url_path", "logs_url_path")} {
		conf, _ := protocols[p].(map[string]any)
		require.NotNil(t, conf, "otlp %s", p)
		for _, k := range keysOf(conf) {
			assert.Contains(t, keys, k, "otlp.protocols.%s.%s", p, k)
		}
		// Since collector v0.104 endpoints default to localhost: a
		// container must listen on all interfaces.
		assert.True(t, strings.HasPrefix(conf["endpoint"].(string), "0.0.0.0:"), "otlp %s endpoint reachable from other containers", p)
	}
	for _, a := range cfg.Processors["resource"]["attributes"].([]any) {
		attr := a.(map[string]any)
		for _, k := range keysOf(attr) {
			assert.Contains(t, []string{"key", "value", "from_attribute", "from_context", "action", "pattern", "converted_type"}, k)
		}
		assert.Contains(t, []string{"insert", "update", "upsert", "delete", "hash", "extract", "convert"}, attr["action"])
	}
	for id, conf := range cfg.Extensions {
		if typeOf(id) == "basicauth" {
			ca, _ := conf["client_auth"].(map[string]any)
			require.NotNil(t, ca, id)
			for _, k := range keysOf(ca) {
				assert.Contains(t, []string{"username", "username_file", "password", "password_file"}, k, id)
			}
		}
	}
	for id, conf := range cfg.Exporters {
		if tls, ok := conf["tls"].(map[string]any); ok {
			for _, k := range keysOf(tls) {
				assert.Contains(t, tlsClientKeys, k, "%s.tls", id)
			}
		}
		if typeOf(id) == "prometheus_remote_write" {
			h, _ := conf["http"].(map[string]any)
			require.NotNil(t, h, "%s: the endpoint under http (the top-level form is kept for compatibility only)", id)
			for _, k := range keysOf(h) {
				assert.Contains(t, httpClientKeys, k, "%s.http", id)
			}
		}
		for _, deprecated := range []string{"resource_to_telemetry_conversion", "add_metric_suffixes"} {
			assert.NotContains(t, conf, deprecated, "%s: %s is deprecated at %s", id, deprecated, collectorRelease)
		}
	}

	// ${env:VAR} is the only substitution syntax (plain ${VAR} is deprecated).
	refs := collectorEnvRefs(t)
	assert.NotEmpty(t, refs)
	for _, ref := range refs {
		assert.Regexp(t, `^\$\{env:[A-Z_][A-Z0-9_]*\}$`, ref)
	}
}

func TestCollectorConfigPipelines(t *testing.T) {
	t.Parallel()
	cfg, _ := loadCollectorConfig(t)
	used := map[string]bool{}
	defined := func(section map[string]map[string]any, id string) bool { _, ok := section[id]; return ok }
	for name, p := range cfg.Service.Pipelines {
		signal := typeOf(name)
		require.Contains(t, []string{"traces", "metrics", "logs"}, signal, name)
		check := func(kind string, section map[string]map[string]any, ids []string) {
			require.NotEmpty(t, ids, "%s: %s", name, kind)
			for _, id := range ids {
				used[kind+"/"+id] = true
				assert.True(t, defined(section, id), "pipeline %s uses undefined %s %q", name, kind, id)
				if c, ok := collectorComponents[kind][typeOf(id)]; ok {
					assert.Contains(t, c.signals, signal, "%s %q in a %s pipeline", kind, id, signal)
				}
			}
		}
		check("receivers", cfg.Receivers, p.Receivers)
		check("processors", cfg.Processors, p.Processors)
		check("exporters", cfg.Exporters, p.Exporters)
		assert.Equal(t, "memory_limiter", typeOf(p.Processors[0]), "%s: memory_limiter first", name)
		assert.Equal(t, "batch", typeOf(p.Processors[len(p.Processors)-1]), "%s: batch last", name)
	}
	for kind, section := range map[string]map[string]map[string]any{"receivers": cfg.Receivers, "processors": cfg.Processors, "exporters": cfg.Exporters} {
		for id := range section {
			assert.True(t, used[kind+"/"+id], "%s %q is defined but in no pipeline", kind, id)
		}
	}
	for _, id := range cfg.Service.Extensions {
		assert.Contains(t, cfg.Extensions, id, "service.extensions names an undefined extension")
	}
	for id := range cfg.Extensions {
		assert.Contains(t, cfg.Service.Extensions, id, "extension %q is defined but not enabled", id)
	}
	for id, conf := range cfg.Exporters {
		if auth, ok := conf["auth"].(map[string]any); ok {
			assert.Contains(t, cfg.Extensions, auth["authenticator"], id)
		}
		if h, ok := conf["http"].(map[string]any); ok {
			if auth, ok := h["auth"].(map[string]any); ok {
				assert.Contains(t, cfg.Extensions, auth["authenticator"], id)
			}
		}
	}

	// What the stack needs: traces to Jaeger over OTLP; metrics to the
	// local Prometheus exporter (with environment/project) and to Grafana
	// Cloud Mimir; logs to Loki over OTLP/HTTP.
	exp := func(signal string) []string {
		var out []string
		for name, p := range cfg.Service.Pipelines {
			if typeOf(name) == signal {
				for _, id := range p.Exporters {
					out = append(out, typeOf(id))
				}
			}
		}
		return out
	}
	assert.Contains(t, exp("traces"), "otlp_grpc")
	assert.Contains(t, exp("metrics"), "prometheus")
	assert.Contains(t, exp("metrics"), "prometheus_remote_write")
	assert.Contains(t, exp("logs"), "otlp_http")
	jaeger := cfg.Exporters["otlp_grpc/jaeger"]
	require.NotNil(t, jaeger)
	assert.Equal(t, "jaeger:4317", jaeger["endpoint"], "Jaeger's OTLP gRPC port (compose service jaeger)")
	labels := cfg.Exporters["prometheus"]["const_labels"].(map[string]any)
	assert.Equal(t, "${env:ENVIRONMENT}", labels["environment"])
	assert.Equal(t, "starmates-ai-team", labels["project"])
	ext := cfg.Exporters["prometheus_remote_write/mimir"]["external_labels"].(map[string]any)
	assert.Contains(t, ext, "environment")
	assert.Contains(t, ext, "project")
	assert.True(t, strings.HasSuffix(cfg.Exporters["otlp_http/loki"]["logs_endpoint"].(string), "/otlp/v1/logs"), "Loki's OTLP logs path")
}

// collectorPorts returns the ports the collector listens on: OTLP, its
// prometheus exporter, health_check, and its own telemetry.
func collectorPorts(t *testing.T) map[string]string {
	t.Helper()
	cfg, _ := loadCollectorConfig(t)
	port := func(endpoint any) string {
		s := fmt.Sprint(endpoint)
		return s[strings.LastIndex(s, ":")+1:]
	}
	ports := map[string]string{
		"prometheus":   port(cfg.Exporters["prometheus"]["endpoint"]),
		"health_check": port(cfg.Extensions["health_check"]["endpoint"]),
	}
	readers := cfg.Service.Telemetry["metrics"].(map[string]any)["readers"].([]any)
	prom := readers[0].(map[string]any)["pull"].(map[string]any)["exporter"].(map[string]any)["prometheus"].(map[string]any)
	assert.Equal(t, "0.0.0.0", prom["host"], "the collector's own metrics reachable by Prometheus")
	ports["telemetry"] = fmt.Sprint(prom["port"])
	return ports
}

// collectorEnvRefs lists the ${...} references in the configuration's values
// (comments are not configuration).
func collectorEnvRefs(t *testing.T) []string {
	t.Helper()
	var doc any
	require.NoError(t, yaml.Unmarshal(readFile(t, "monitoring", "otel-collector-config.yml"), &doc))
	var refs []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for _, e := range v {
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		case string:
			refs = append(refs, regexp.MustCompile(`\$\{[^}]*\}`).FindAllString(v, -1)...)
		}
	}
	walk(doc)
	sort.Strings(refs)
	return refs
}
