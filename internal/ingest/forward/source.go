package forward

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/starmates/logshipd/internal/ingest"
)

// Source is the Fluent Forward server. Create it with New; call Run once.
type Source struct {
	name     string
	cfg      Config
	logger   *slog.Logger
	stats    *Stats
	tlsConf  *tls.Config
	sockMode fs.FileMode
	hostname string

	zstd      *zstd.Decoder
	meta      atomic.Pointer[ecsMeta]
	metaReady chan struct{}
	runStart  time.Time

	running   atomic.Bool
	live      atomic.Bool // listeners are up
	accepting atomic.Bool // accepting new connections (not shutting down)
	active    atomic.Int64
	listening chan struct{}

	mu         sync.Mutex
	tcpAddr    net.Addr
	healthAddr net.Addr
	httpAddr   net.Addr

	warnings warnLimiter
}

var _ ingest.Source = (*Source)(nil)

// New validates cfg, loads the TLS files and returns a Source. stats may
// be nil.
func New(name string, cfg Config, logger *slog.Logger, stats *Stats) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("forward %s: %w", name, err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if stats == nil {
		stats = &Stats{}
	}
	mode, _ := cfg.socketMode()
	s := &Source{
		name:      name,
		cfg:       cfg,
		logger:    logger.With(slog.String("component", "forward"), slog.String("source", name)),
		stats:     stats,
		sockMode:  fs.FileMode(mode),
		metaReady: make(chan struct{}),
		listening: make(chan struct{}),
	}
	if cfg.TLS.Enabled() {
		conf, err := loadTLS(cfg.TLS)
		if err != nil {
			return nil, fmt.Errorf("forward %s: tls: %w", name, err)
		}
		s.tlsConf = conf
	}
	if cfg.SharedKey != "" {
		s.hostname = cfg.SelfHostname
		if s.hostname == "" {
			h, err := os.Hostname()
			if err != nil {
				return nil, fmt.Errorf("forward %s: self_hostname: %w", name, err)
			}
			s.hostname = h
		}
	}
	return s, nil
}

func loadTLS(c TLSConfig) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
	if err != nil {
		return nil, err
	}
	conf := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if c.ClientCAFile != "" {
		pem, err := os.ReadFile(c.ClientCAFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("client_ca_file %s: no PEM certificates", c.ClientCAFile)
		}
		conf.ClientCAs = pool
		conf.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return conf, nil
}

// Name returns the source's configured name.
func (s *Source) Name() string { return s.name }

// Stats returns the source's counters.
func (s *Source) Stats() *Stats { return s.stats }

// Listening is closed once Run has bound every listener.
func (s *Source) Listening() <-chan struct{} { return s.listening }

// Addr returns the bound TCP address (nil before Listening or when TCP is
// disabled); useful with port 0.
func (s *Source) Addr() net.Addr { s.mu.Lock(); defer s.mu.Unlock(); return s.tcpAddr }

// HealthAddr returns the bound health port address (nil when disabled).
func (s *Source) HealthAddr() net.Addr { s.mu.Lock(); defer s.mu.Unlock(); return s.healthAddr }

// HTTPAddr returns the bound /healthz address (nil when disabled).
func (s *Source) HTTPAddr() net.Addr { s.mu.Lock(); defer s.mu.Unlock(); return s.httpAddr }

// Handler serves GET /healthz (200 while the listeners are up) and GET
// /readyz (200 while new connections are accepted and max_connections is
// not reached); 503 otherwise.
func (s *Source) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		if s.live.Load() {
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte("ok\n"))
			return
		}
		http.Error(w, "forward listeners are down", http.StatusServiceUnavailable)
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		switch {
		case !s.accepting.Load():
			http.Error(w, "forward source is not accepting connections", http.StatusServiceUnavailable)
		case s.active.Load() >= int64(s.cfg.MaxConnections):
			http.Error(w, "forward source is at max_connections", http.StatusServiceUnavailable)
		default:
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte("ok\n"))
		}
	})
	return mux
}

type listeners struct {
	data   []net.Listener
	unix   string
	health net.Listener
	http   net.Listener
}

func (l *listeners) close() {
	for _, ln := range l.data {
		_ = ln.Close()
	}
	if l.health != nil {
		_ = l.health.Close()
	}
	if l.http != nil {
		_ = l.http.Close()
	}
	if l.unix != "" {
		// UnixListener.Close unlinks the file; this covers the error paths.
		if err := os.Remove(l.unix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			_ = err // nothing more to do
		}
	}
}

func (s *Source) listen() (*listeners, error) {
	l := &listeners{}
	fail := func(err error) (*listeners, error) {
		l.close()
		return nil, err
	}
	if s.cfg.Listen != "" {
		ln, err := net.Listen("tcp", s.cfg.Listen)
		if err != nil {
			return fail(fmt.Errorf("listen %s: %w", s.cfg.Listen, err))
		}
		s.mu.Lock()
		s.tcpAddr = ln.Addr()
		s.mu.Unlock()
		if s.tlsConf != nil {
			ln = tls.NewListener(ln, s.tlsConf)
		}
		l.data = append(l.data, ln)
	}
	if p := s.cfg.UnixSocket; p != "" {
		if fi, err := os.Lstat(p); err == nil {
			if fi.Mode()&fs.ModeSocket == 0 {
				return fail(fmt.Errorf("unix_socket %s: exists and is not a socket", p))
			}
			if err := os.Remove(p); err != nil { // stale socket of an earlier run
				return fail(fmt.Errorf("unix_socket %s: remove stale socket: %w", p, err))
			}
		}
		ln, err := net.Listen("unix", p)
		if err != nil {
			return fail(fmt.Errorf("unix_socket %s: %w", p, err))
		}
		l.data = append(l.data, ln)
		l.unix = p
		if err := os.Chmod(p, s.sockMode); err != nil {
			return fail(fmt.Errorf("unix_socket %s: chmod %o: %w", p, s.sockMode, err))
		}
	}
	if s.cfg.HealthListen != "" {
		ln, err := net.Listen("tcp", s.cfg.HealthListen)
		if err != nil {
			return fail(fmt.Errorf("health_listen %s: %w", s.cfg.HealthListen, err))
		}
		l.health = ln
		s.mu.Lock()
		s.healthAddr = ln.Addr()
		s.mu.Unlock()
	}
	if s.cfg.HTTPListen != "" {
		ln, err := net.Listen("tcp", s.cfg.HTTPListen)
		if err != nil {
			return fail(fmt.Errorf("http_listen %s: %w", s.cfg.HTTPListen, err))
		}
		l.http = ln
		s.mu.Lock()
		s.httpAddr = ln.Addr()
		s.mu.Unlock()
	}
	return l, nil
}

// Run serves until ctx is cancelled, then closes the listeners, stops
// reading, commits what was read, waits up to shutdown_grace for in-flight
// batches (sending their acks), removes the unix socket and returns nil.
// It returns an error when a listener cannot be opened.
func (s *Source) Run(ctx context.Context, lanes ingest.Lanes) error {
	if !s.running.CompareAndSwap(false, true) {
		return fmt.Errorf("forward %s: Run called twice", s.name)
	}
	l, err := s.listen()
	if err != nil {
		return fmt.Errorf("forward %s: %w", s.name, err)
	}
	s.runStart = time.Now()
	s.zstd, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(2), zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxMemory(uint64(s.cfg.MaxMessageBytes)))
	if err != nil {
		l.close()
		return fmt.Errorf("forward %s: zstd: %w", s.name, err)
	}
	defer s.zstd.Close()

	var bg sync.WaitGroup // accept loops, health, http, metadata
	var conns sync.WaitGroup
	if uri := os.Getenv(EnvECSMetadataURI); s.cfg.ECSMetadata == "auto" && uri != "" {
		bg.Go(func() { s.loadECSMetadata(ctx, uri) })
	} else {
		close(s.metaReady)
	}
	for _, ln := range l.data {
		bg.Go(func() { s.acceptLoop(ctx, ln, lanes, &conns) })
	}
	if l.health != nil {
		bg.Go(func() { healthLoop(l.health) })
	}
	var srv *http.Server
	if l.http != nil {
		srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 5 * time.Second, ErrorLog: slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn)}
		bg.Go(func() { _ = srv.Serve(l.http) })
	}
	s.live.Store(true)
	s.accepting.Store(true)
	close(s.listening)
	s.logger.Info("forward: listening", "listen", addrString(s.Addr()), "unix_socket", s.cfg.UnixSocket,
		"tls", s.tlsConf != nil, "shared_key", s.cfg.SharedKey != "")

	<-ctx.Done()
	s.accepting.Store(false)
	for _, ln := range l.data {
		_ = ln.Close()
	}
	conns.Wait() // each connection drains within shutdown_grace
	if srv != nil {
		_ = srv.Close()
	}
	l.close()
	bg.Wait()
	s.live.Store(false)
	s.logger.Info("forward: stopped")
	return nil
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// acceptLoop accepts connections until ln is closed.
func (s *Source) acceptLoop(ctx context.Context, ln net.Listener, lanes ingest.Lanes, conns *sync.WaitGroup) {
	backoff := 5 * time.Millisecond
	for {
		nc, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || ctx.Err() != nil {
				return
			}
			// EMFILE and the like: back off as net/http does.
			if s.warnings.allow() {
				s.logger.Warn("forward: accept failed", "err", err.Error(), "retry_in", backoff.String())
			}
			t := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			backoff = min(backoff*2, time.Second)
			continue
		}
		backoff = 5 * time.Millisecond
		if s.active.Load() >= int64(s.cfg.MaxConnections) {
			s.stats.ConnectionsRejected.Add(1)
			if s.warnings.allow() {
				s.logger.Warn("forward: max_connections reached; connection closed",
					"remote", remoteOf(nc, s.cfg.UnixSocket), "max_connections", s.cfg.MaxConnections)
			}
			_ = nc.Close()
			continue
		}
		s.active.Add(1)
		s.stats.Connections.Add(1)
		s.stats.ConnectionsActive.Add(1)
		conns.Go(func() {
			defer func() {
				s.active.Add(-1)
				s.stats.ConnectionsActive.Add(-1)
			}()
			newConn(ctx, s, nc, lanes).serve()
		})
	}
}

// healthLoop accepts and closes connections until ln is closed.
func healthLoop(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		_ = c.Close()
	}
}

func remoteOf(nc net.Conn, unixPath string) string {
	if a := nc.RemoteAddr(); a != nil && a.String() != "" && a.String() != "@" {
		return a.String()
	}
	return "unix:" + unixPath
}

// warnLimiter allows at most warnBurst warnings per warnWindow so a client
// reconnecting in a loop cannot flood the log (everything stays counted).
type warnLimiter struct {
	mu    sync.Mutex
	start time.Time
	n     int
}

const (
	warnBurst  = 20
	warnWindow = 10 * time.Second
)

func (w *warnLimiter) allow() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	if now.Sub(w.start) > warnWindow {
		w.start, w.n = now, 0
	}
	w.n++
	return w.n <= warnBurst
}
