package forward

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

func TestDefaultConfigValid(t *testing.T) {
	cfg := DefaultConfig()
	require.NoError(t, cfg.Validate())
	require.Equal(t, "0.0.0.0:24224", cfg.Listen)
	require.Equal(t, "127.0.0.1:8877", cfg.HealthListen)
	require.Equal(t, 16<<20, cfg.MaxMessageBytes)
	require.Equal(t, 5*time.Minute, cfg.ReadTimeout)
}

func TestConfigYAML(t *testing.T) {
	src := `
listen: ""
unix_socket: /var/run/fluent.sock
unix_socket_mode: 0660
shared_key: k
self_hostname: router
max_message_bytes: 1048576
max_connections: 64
read_timeout: 30s
shutdown_grace: 10s
health_listen: ""
http_listen: 127.0.0.1:2020
ecs_metadata: "off"
tls: {cert_file: "", key_file: "", client_ca_file: ""}
`
	cfg := DefaultConfig()
	dec := yaml.NewDecoder(bytes.NewReader([]byte(src)))
	dec.KnownFields(true)
	require.NoError(t, dec.Decode(&cfg))
	require.NoError(t, cfg.Validate())
	require.Equal(t, "0660", cfg.UnixSocketMode, "an unquoted octal keeps its text")
	mode, err := cfg.socketMode()
	require.NoError(t, err)
	require.EqualValues(t, 0o660, mode)
	require.Equal(t, 30*time.Second, cfg.ReadTimeout)
}

func TestConfigValidateJoinsErrors(t *testing.T) {
	cfg := Config{
		UnixSocketMode:  "999",
		MaxMessageBytes: 10,
		ReadTimeout:     time.Millisecond,
		ShutdownGrace:   -1,
		HealthListen:    "nope",
		ECSMetadata:     "maybe",
		TLS:             TLSConfig{ClientCAFile: "ca.pem"},
	}
	err := cfg.Validate()
	require.Error(t, err)
	for _, want := range []string{"listen, unix_socket", "unix_socket_mode", "max_message_bytes", "max_connections",
		"read_timeout", "shutdown_grace", "health_listen", "ecs_metadata", "client_ca_file"} {
		require.ErrorContains(t, err, want)
	}
	cfg = DefaultConfig()
	cfg.Listen = ""
	cfg.UnixSocket = "/tmp/x.sock"
	cfg.TLS = TLSConfig{CertFile: "c.pem"}
	err = cfg.Validate()
	require.ErrorContains(t, err, "cert_file and key_file must be set together")
	require.ErrorContains(t, err, "needs listen")

	_, err = New("fw", Config{}, nil, nil)
	require.ErrorContains(t, err, "forward fw:")
}
