package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
)

// Server serves /metrics (Prometheus text or OpenMetrics, negotiated; the
// exemplars need OpenMetrics), /healthz (the process is alive) and /readyz
// (every registered readiness check passes) on one listener.
//
// Its registry holds the Go runtime and process collectors; register the
// Deriver and the SelfCollector on Registry(), and add further gatherers
// (for example a library's global registry) with AddGatherer.
type Server struct {
	cfg    Config
	logger *slog.Logger
	reg    *prometheus.Registry

	mu        sync.Mutex
	gatherers prometheus.Gatherers
	checks    []readyCheck
	ln        net.Listener
}

type readyCheck struct {
	name  string
	check func(context.Context) error
}

// ReadyTimeout bounds each readiness check.
const ReadyTimeout = 2 * time.Second

// NewServer returns a server for cfg.Listen. logger may be nil.
func NewServer(cfg Config, logger *slog.Logger) *Server {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return &Server{cfg: cfg, logger: logger.With("component", "metrics"), reg: reg, gatherers: prometheus.Gatherers{reg}}
}

// Registry is the server's own registry (never the global default one).
func (s *Server) Registry() *prometheus.Registry { return s.reg }

// AddGatherer exposes g's metrics on /metrics too.
func (s *Server) AddGatherer(g prometheus.Gatherer) {
	s.mu.Lock()
	s.gatherers = append(s.gatherers, g)
	s.mu.Unlock()
}

// AddReadiness registers a check for /readyz (for example "sinks
// reachable" or "buffers not full"). A check returns nil when ready.
func (s *Server) AddReadiness(name string, check func(context.Context) error) {
	s.mu.Lock()
	s.checks = append(s.checks, readyCheck{name: name, check: check})
	s.mu.Unlock()
}

func (s *Server) gather() ([]*dto.MetricFamily, error) {
	s.mu.Lock()
	g := append(prometheus.Gatherers(nil), s.gatherers...)
	s.mu.Unlock()
	return g.Gather()
}

// Handler returns the HTTP handler with /metrics, /healthz and /readyz.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(prometheus.GathererFunc(s.gather), promhttp.HandlerOpts{
		EnableOpenMetrics: true,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
		ErrorHandling:     promhttp.ContinueOnError,
		Timeout:           10 * time.Second,
	}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/readyz", s.serveReady)
	return mux
}

func (s *Server) serveReady(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	checks := append([]readyCheck(nil), s.checks...)
	s.mu.Unlock()
	type result struct {
		name string
		err  error
	}
	results := make([]result, len(checks))
	var wg sync.WaitGroup
	for i, c := range checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(r.Context(), ReadyTimeout)
			defer cancel()
			results[i] = result{name: c.name, err: runCheck(ctx, c.check)}
		}()
	}
	wg.Wait()
	var failed []string
	for _, res := range results {
		if res.err != nil {
			failed = append(failed, res.name+": "+res.err.Error())
		}
	}
	sort.Strings(failed)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if len(failed) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = fmt.Fprintf(w, "not ready\n%s\n", strings.Join(failed, "\n"))
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}

// runCheck runs check, turning a panic into an error and giving up at the
// context's deadline.
func runCheck(ctx context.Context, check func(context.Context) error) (err error) {
	done := make(chan error, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- fmt.Errorf("check panicked: %v", p)
			}
		}()
		done <- check(ctx)
	}()
	select {
	case err = <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("check timed out: %w", ctx.Err())
	}
}

// Listen binds the configured address (once). Use it before Run to learn
// the address when listening on port 0.
func (s *Server) Listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return nil
	}
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("metrics listener %s: %w", s.cfg.Listen, err)
	}
	s.ln = ln
	return nil
}

// Addr returns the bound address ("" before Listen).
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Run serves until ctx ends, then shuts down (in-flight scrapes get 5 s).
func (s *Server) Run(ctx context.Context) error {
	if err := s.Listen(); err != nil {
		return err
	}
	s.mu.Lock()
	ln := s.ln
	s.mu.Unlock()
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.logger.Info("metrics listener started", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("metrics listener: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}
