package deploy_test

import (
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMonitoringLogshipdConfigValidates: the compose stack's logshipd
// configuration passes `logshipd validate` with no environment set and
// listens for scrapes on all interfaces.
func TestMonitoringLogshipdConfigValidates(t *testing.T) {
	t.Parallel()
	out, err := runLogshipd(t, nil, "validate", "-c", "monitoring/logshipd.yaml")
	require.NoError(t, err, out)
	assert.Contains(t, out, "monitoring/logshipd.yaml: ok")
	cfg := expandConfig(t, "monitoring/logshipd.yaml", nil)
	assert.Equal(t, "0.0.0.0:9464", cfg["metrics"].(map[string]any)["listen"])
}

// TestMonitoringSpanEventsReachCollector: logshipd's span events go to the
// compose collector's OTLP gRPC receiver, in plaintext like the receiver.
func TestMonitoringSpanEventsReachCollector(t *testing.T) {
	t.Parallel()
	cfg := expandConfig(t, "monitoring/logshipd.yaml", nil)
	se, _ := cfg["span_events"].(map[string]any)
	require.NotNil(t, se, "span_events section")
	assert.Equal(t, true, se["enabled"])
	assert.Equal(t, "grpc", se["protocol"])
	assert.Equal(t, true, se["insecure"], "the collector's OTLP receiver has no TLS")
	host, port, err := net.SplitHostPort(se["endpoint"].(string))
	require.NoError(t, err)
	c, _ := loadCompose(t)
	assert.Contains(t, c.Services, host, "a compose service")
	assert.Equal(t, "otel-collector", host)
	col, _ := loadCollectorConfig(t)
	grpc := col.Receivers["otlp"]["protocols"].(map[string]any)["grpc"].(map[string]any)
	assert.True(t, strings.HasSuffix(grpc["endpoint"].(string), ":"+port), "the collector's OTLP gRPC port")
	assert.Contains(t, c.Services["logshipd"].DependsOn, "otel-collector")
}
