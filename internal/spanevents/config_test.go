package spanevents

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

func TestDefaultConfigIsValid(t *testing.T) {
	clearOTLPEnv(t)
	c := DefaultConfig()
	require.NoError(t, c.Validate())
	assert.Equal(t, "ERROR", c.MinLevel)
	r := c.resolve()
	assert.Equal(t, ProtocolHTTPProtobuf, r.protocol)
	assert.Equal(t, DefaultTimeout, r.timeout)
	assert.Nil(t, r.headers, "no config headers: the exporter reads the environment's itself")
}

func TestValidateJoinsEveryProblem(t *testing.T) {
	clearOTLPEnv(t)
	c := Config{
		Endpoint: "ftp://x", Protocol: "thrift", Headers: map[string]string{"bad key": "v"},
		Timeout: -time.Second, MaxRetryTime: -1, QueueSize: 0, BatchSize: 5, BatchTimeout: 0,
		MinLevel: "LOUD", MaxAttributeLength: 10,
	}
	err := c.Validate()
	require.Error(t, err)
	for _, want := range []string{"endpoint", "protocol", "headers", "timeout", "max_retry_time",
		"queue_size", "batch_size", "batch_timeout", "min_level", "max_attribute_length"} {
		assert.Contains(t, err.Error(), want)
	}
	assert.Len(t, strings.Split(err.Error(), "\n"), 10)
}

func TestEndpointForms(t *testing.T) {
	for ep, ok := range map[string]bool{
		"localhost:4317": true, "http://jaeger:4318": true, "https://otlp.example.com/otlp": true,
		"localhost": false, "grpc://x:1": false, "http://": false, "a/b:1": false,
	} {
		c := DefaultConfig()
		c.Endpoint = ep
		assert.Equal(t, ok, c.Validate() == nil, ep)
	}
}

func TestEnvironmentFallbacks(t *testing.T) {
	clearOTLPEnv(t)
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "2500")
	t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "a=1,b=two%20words,broken")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "b=3")
	c := DefaultConfig()
	c.Headers = map[string]string{"c": "4"}
	r := c.resolve()
	assert.Equal(t, ProtocolGRPC, r.protocol)
	assert.Equal(t, 2500*time.Millisecond, r.timeout)
	assert.Equal(t, map[string]string{"a": "1", "b": "3", "c": "4"}, r.headers)

	// Explicit config wins.
	c.Protocol = ProtocolHTTPJSON
	c.Timeout = time.Second
	r = c.resolve()
	assert.Equal(t, ProtocolHTTPJSON, r.protocol)
	assert.Equal(t, time.Second, r.timeout)

	// A bad environment value is reported when the config does not override it.
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "carrier-pigeon")
	t.Setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "soon")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "")
	c = DefaultConfig()
	err := c.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
	assert.Contains(t, err.Error(), "OTEL_EXPORTER_OTLP_TIMEOUT")
}

func TestYAMLKeys(t *testing.T) {
	clearOTLPEnv(t)
	src := `
endpoint: http://jaeger:4318
protocol: http/protobuf
headers: {x-scope-orgid: team-a}
insecure: true
timeout: 5s
max_retry_time: 1m
queue_size: 4096
batch_size: 256
batch_timeout: 2s
min_level: WARN
max_attribute_length: 4096
`
	c := DefaultConfig()
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	require.NoError(t, dec.Decode(&c))
	require.NoError(t, c.Validate())
	require.NotNil(t, c.Insecure)
	assert.True(t, *c.Insecure)
	assert.Equal(t, time.Minute, c.MaxRetryTime)
	assert.Equal(t, "team-a", c.Headers["x-scope-orgid"])
}
