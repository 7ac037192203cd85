package forward

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"
)

// Config configures the Forward source. The zero value is not valid: start
// from DefaultConfig.
type Config struct {
	// Listen is the TCP address (host:port) of the Forward input; empty
	// disables TCP. FireLens apps get FLUENT_HOST/FLUENT_PORT=24224.
	Listen string `yaml:"listen"`
	// UnixSocket is the path of a unix stream socket to listen on; empty
	// disables it. FireLens bind-mounts the task's socket directory at
	// /var/run/, so the router listens on /var/run/fluent.sock.
	UnixSocket string `yaml:"unix_socket"`
	// UnixSocketMode is the octal permission set on the socket file.
	UnixSocketMode string `yaml:"unix_socket_mode"`
	// SharedKey, when set, requires the Forward v1 handshake (HELO, PING,
	// PONG with SHA-512 digests) before any data on every connection.
	SharedKey string `yaml:"shared_key"`
	// SelfHostname is the server hostname sent in PONG (default: the
	// machine's hostname).
	SelfHostname string `yaml:"self_hostname"`
	// TLS turns on TLS for the TCP listener (not the unix socket).
	TLS TLSConfig `yaml:"tls"`
	// MaxMessageBytes caps one frame on the wire, and the decompressed
	// entries of a compressed frame. A larger frame closes the connection.
	MaxMessageBytes int `yaml:"max_message_bytes"`
	// MaxConnections caps concurrent connections (TCP and unix together);
	// connections over the cap are accepted and closed at once.
	MaxConnections int `yaml:"max_connections"`
	// ReadTimeout closes a connection idle for this long (no data and no
	// acknowledgement outstanding).
	ReadTimeout time.Duration `yaml:"read_timeout"`
	// ShutdownGrace bounds how long Run, once its context is cancelled,
	// waits for in-flight batches to finish so their acks can still be sent.
	ShutdownGrace time.Duration `yaml:"shutdown_grace"`
	// HealthListen is a TCP address that accepts and closes connections
	// (FireLens's fluent-bit health check convention); empty disables it.
	HealthListen string `yaml:"health_listen"`
	// HTTPListen serves /healthz and /readyz; empty disables it (the
	// daemon can mount Source.Handler on its own listener instead).
	HTTPListen string `yaml:"http_listen"`
	// ECSMetadata is "auto" (when ECS_CONTAINER_METADATA_URI_V4 is set,
	// fetch the task metadata once and add ecs_cluster, ecs_task_arn,
	// ecs_task_definition and ecs_availability_zone to records lacking
	// them) or "off".
	ECSMetadata string `yaml:"ecs_metadata"`
}

// TLSConfig holds PEM file paths. CertFile and KeyFile turn TLS on;
// ClientCAFile also requires and verifies client certificates.
type TLSConfig struct {
	CertFile     string `yaml:"cert_file"`
	KeyFile      string `yaml:"key_file"`
	ClientCAFile string `yaml:"client_ca_file"`
}

// Enabled reports whether TLS is configured.
func (t TLSConfig) Enabled() bool { return t.CertFile != "" || t.KeyFile != "" }

// Defaults and bounds.
const (
	DefaultListen          = "0.0.0.0:24224"
	DefaultUnixSocketMode  = "0666"
	DefaultMaxMessageBytes = 16 << 20
	DefaultMaxConnections  = 1024
	DefaultReadTimeout     = 5 * time.Minute
	DefaultShutdownGrace   = 5 * time.Second
	DefaultHealthListen    = "127.0.0.1:8877"
	MinMaxMessageBytes     = 1 << 10
	MaxMaxMessageBytes     = 512 << 20
	maxUnixPath            = 107 // sizeof(sockaddr_un.sun_path) - 1 on Linux
)

// DefaultConfig returns the defaults: TCP on 0.0.0.0:24224, no unix
// socket, health port 127.0.0.1:8877, ECS metadata auto.
func DefaultConfig() Config {
	return Config{
		Listen:          DefaultListen,
		UnixSocketMode:  DefaultUnixSocketMode,
		MaxMessageBytes: DefaultMaxMessageBytes,
		MaxConnections:  DefaultMaxConnections,
		ReadTimeout:     DefaultReadTimeout,
		ShutdownGrace:   DefaultShutdownGrace,
		HealthListen:    DefaultHealthListen,
		ECSMetadata:     "auto",
	}
}

// socketMode parses UnixSocketMode.
func (c *Config) socketMode() (uint32, error) {
	m, err := strconv.ParseUint(c.UnixSocketMode, 8, 32)
	if err != nil || m > 0o777 {
		return 0, fmt.Errorf("unix_socket_mode %q: must be an octal mode 0000..0777", c.UnixSocketMode)
	}
	return uint32(m), nil
}

// Validate reports every problem found, joined.
func (c *Config) Validate() error {
	var errs []error
	if c.Listen == "" && c.UnixSocket == "" {
		errs = append(errs, errors.New("listen, unix_socket: at least one must be set"))
	}
	for _, a := range []struct{ key, v string }{{"listen", c.Listen}, {"health_listen", c.HealthListen}, {"http_listen", c.HTTPListen}} {
		if a.v == "" {
			continue
		}
		if _, port, err := net.SplitHostPort(a.v); err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %w", a.key, a.v, err))
		} else if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			errs = append(errs, fmt.Errorf("%s %q: port must be 0..65535", a.key, a.v))
		}
	}
	if len(c.UnixSocket) > maxUnixPath {
		errs = append(errs, fmt.Errorf("unix_socket %q: path longer than %d bytes", c.UnixSocket, maxUnixPath))
	}
	if _, err := c.socketMode(); err != nil {
		errs = append(errs, err)
	}
	if c.MaxMessageBytes < MinMaxMessageBytes || c.MaxMessageBytes > MaxMaxMessageBytes {
		errs = append(errs, fmt.Errorf("max_message_bytes %d: must be %d..%d", c.MaxMessageBytes, MinMaxMessageBytes, MaxMaxMessageBytes))
	}
	if c.MaxConnections < 1 {
		errs = append(errs, fmt.Errorf("max_connections %d: must be >= 1", c.MaxConnections))
	}
	if c.ReadTimeout < time.Second {
		errs = append(errs, fmt.Errorf("read_timeout %s: must be >= 1s", c.ReadTimeout))
	}
	if c.ShutdownGrace < 0 {
		errs = append(errs, fmt.Errorf("shutdown_grace %s: must be >= 0", c.ShutdownGrace))
	}
	if c.ECSMetadata != "auto" && c.ECSMetadata != "off" {
		errs = append(errs, fmt.Errorf("ecs_metadata %q: must be auto or off", c.ECSMetadata))
	}
	if c.TLS.Enabled() {
		if c.TLS.CertFile == "" || c.TLS.KeyFile == "" {
			errs = append(errs, errors.New("tls: cert_file and key_file must be set together"))
		}
		if c.Listen == "" {
			errs = append(errs, errors.New("tls: needs listen (TLS applies to the TCP listener only)"))
		}
	} else if c.TLS.ClientCAFile != "" {
		errs = append(errs, errors.New("tls.client_ca_file: needs cert_file and key_file"))
	}
	return errors.Join(errs...)
}
