package loki

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/snappy"

	"github.com/starmates/logshipd/internal/event"
	"github.com/starmates/logshipd/internal/sink"
)

// maxErrBody bounds how much of an error response is read.
const maxErrBody = 64 << 10

// Sink pushes batches to Loki. It is safe for concurrent use, but pushes
// are serialized (one batch in flight).
type Sink struct {
	cfg     Config
	client  *http.Client
	labels  []labelSlot
	meta    []metaSpec
	needHex bool
	logger  *slog.Logger
	stats   *Stats
	now     func() time.Time

	mu      sync.Mutex
	plan    *plan // the batch being sent, kept across retries
	scratch []byte
	raw     []byte
}

var (
	_ sink.Sink       = (*Sink)(nil)
	_ sink.AgeLimiter = (*Sink)(nil)
)

// New validates cfg and returns a Loki sink. logger may be nil (discard);
// stats may be nil (a fresh Stats).
func New(cfg Config, logger *slog.Logger, stats *Stats) (*Sink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if stats == nil {
		stats = &Stats{}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 4
	tc, err := tlsConfig(&cfg.TLS)
	if err != nil {
		return nil, err
	}
	tr.TLSClientConfig = tc
	s := &Sink{
		cfg:    cfg,
		client: &http.Client{Transport: tr, Timeout: cfg.Timeout},
		labels: compileLabels(&cfg),
		meta:   compileMeta(&cfg),
		logger: logger,
		stats:  stats,
		now:    time.Now,
	}
	for _, m := range s.meta {
		s.needHex = s.needHex || m.from == fTraceID || m.from == fSpanID
	}
	return s, nil
}

func tlsConfig(c *TLS) (*tls.Config, error) {
	tc := &tls.Config{ServerName: c.ServerName, InsecureSkipVerify: c.InsecureSkipVerify, MinVersion: tls.VersionTLS12} //nolint:gosec // opt-in
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.ca_file %s: no PEM certificate found", c.CAFile)
		}
		tc.RootCAs = pool
	}
	if c.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls.cert_file/key_file: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// Stats returns the sink's counters.
func (s *Sink) Stats() *Stats { return s.stats }

// AgeReason implements sink.AgeLimiter: Loki refuses entries older than
// reject_old_samples_max_age and newer than now + creation_grace_period.
func (s *Sink) AgeReason(t, now time.Time) string {
	if s.cfg.RejectOldAfter > 0 && t.Before(now.Add(-s.cfg.RejectOldAfter)) {
		return ReasonTooOld
	}
	if t.After(now.Add(s.cfg.CreationGracePeriod)) {
		return ReasonTooNew
	}
	return ""
}

// Send pushes b: one or more push requests of at most max_push_bytes,
// each acknowledged only by a 2xx. When a push fails with a retryable
// error, Send returns it and a later Send of the same batch resumes at
// that push (pushes already acknowledged are not repeated).
func (s *Sink) Send(ctx context.Context, b *event.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(b.Items) == 0 {
		return nil
	}
	p := s.plan
	if p == nil || p.b != b {
		p = s.buildPlan(b)
		s.plan = p
	}
	for p.done < len(p.pushes) {
		refused, err := s.push(ctx, p.pushes[p.done])
		if err != nil {
			return err
		}
		p.refused = append(p.refused, refused...)
		p.done++
	}
	s.plan = nil
	return result(p)
}

// result turns the refusals of a finished plan into Send's error.
func result(p *plan) error {
	if len(p.refused) == 0 {
		return nil
	}
	if len(p.pushes) == 1 && len(p.refused) == 1 && p.refused[0].whole {
		r := p.refused[0]
		return sink.Permanent(fmt.Errorf("loki refused the push (%s, HTTP %d): %s", r.reason, r.status, r.detail))
	}
	pe := &sink.PartialError{}
	for _, r := range p.refused {
		for _, i := range r.items {
			pe.Items = append(pe.Items, sink.ItemError{Index: i, Reason: r.reason, Detail: r.detail})
		}
	}
	slices.SortFunc(pe.Items, func(a, b sink.ItemError) int { return a.Index - b.Index })
	return pe
}

// Close releases idle connections. It does not flush anything: every
// batch is pushed (or not) within its Send.
func (s *Sink) Close(context.Context) error {
	s.mu.Lock()
	s.plan = nil
	s.mu.Unlock()
	s.client.CloseIdleConnections()
	return nil
}

// push sends one push request. It returns the entries refused for good
// (nil: all accepted) or a retryable error.
func (s *Sink) push(ctx context.Context, pp *pushPlan) ([]refusedEntries, error) {
	n := pp.req.Size()
	s.raw = slices.Grow(s.raw[:0], n)[:n]
	if _, err := pp.req.MarshalToSizedBuffer(s.raw); err != nil {
		return nil, sink.Permanent(fmt.Errorf("loki: encode push: %w", err))
	}
	// A fresh body per request: the transport may still read it after Do
	// returned (an early response), so it must not be reused.
	comp := snappy.Encode(nil, s.raw)

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.URL, bytes.NewReader(comp))
	if err != nil {
		return nil, sink.Permanent(fmt.Errorf("loki: %w", err))
	}
	if err := s.setHeaders(req); err != nil {
		return nil, err
	}
	s.stats.Pushes.Add(1)
	resp, err := s.client.Do(req)
	if err != nil {
		s.stats.countErr(ClassTransport)
		return nil, fmt.Errorf("loki push: %w", err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()

	code := resp.StatusCode
	if code >= 200 && code < 300 {
		s.stats.PushesOK.Add(1)
		s.stats.EntriesSent.Add(int64(pp.entries))
		s.stats.BytesSent.Add(int64(pp.lines))
		s.stats.BodyBytes.Add(int64(len(comp)))
		s.stats.countFill(n, s.cfg.MaxPushBytes)
		return nil, nil
	}
	detail := summarize(body)
	perr := fmt.Errorf("loki push: HTTP %d: %s", code, detail)
	switch {
	case code == http.StatusTooManyRequests:
		s.stats.countErr(ClassThrottled)
		return nil, sink.Throttled(perr, retryAfter(resp.Header, s.now()))
	case code >= 500:
		s.stats.countErr(ClassServer)
		if d := retryAfter(resp.Header, s.now()); d > 0 {
			return nil, sink.Throttled(perr, d)
		}
		return nil, perr
	case code == http.StatusBadRequest:
		s.stats.countErr(ClassBadRequest)
		return s.refuse(pp, code, string(body), detail), nil
	case code == http.StatusRequestTimeout || code == http.StatusTooEarly ||
		code == http.StatusUnauthorized || code == http.StatusForbidden ||
		code == http.StatusNotFound || code == http.StatusProxyAuthRequired:
		// Timeouts, and configuration or credentials that an operator can
		// fix without losing data: keep retrying (backpressure).
		s.stats.countErr(ClassClient)
		return nil, perr
	case code == http.StatusRequestEntityTooLarge:
		s.stats.countErr(ClassClient)
		return s.refuseWhole(pp, ReasonTooLarge, code, detail+" (lower max_push_bytes or max_line_bytes)"), nil
	default:
		s.stats.countErr(ClassClient)
		return s.refuseWhole(pp, ReasonRefused, code, detail), nil
	}
}

// refuse attributes a 400 to entries (one refusedEntries per reason);
// unattributable, the whole push is refused.
func (s *Sink) refuse(pp *pushPlan, code int, body, detail string) []refusedEntries {
	a, ok := attribute(pp, body)
	if !ok {
		s.logger.Warn("loki refused a push; cannot tell which entries, dead-lettering all of them",
			"status", code, "entries", pp.entries, "err", detail)
		return s.refuseWhole(pp, ReasonRefused, code, detail)
	}
	var out []refusedEntries
	at := map[string]int{}
	accepted, lines := 0, 0
	for i, r := range a.reason {
		if r == "" {
			accepted++
			lines += a.entries[i].lineLen
			continue
		}
		k, seen := at[r]
		if !seen {
			k = len(out)
			at[r] = k
			out = append(out, refusedEntries{reason: r, detail: detail, status: code})
		}
		out[k].items = append(out[k].items, a.entries[i].item)
	}
	parts := make([]string, 0, len(out))
	for _, re := range out {
		s.stats.countRejected(re.reason, int64(len(re.items)))
		parts = append(parts, fmt.Sprintf("%s=%d", re.reason, len(re.items)))
	}
	s.stats.EntriesSent.Add(int64(accepted))
	s.stats.BytesSent.Add(int64(lines))
	s.logger.Warn("loki refused entries for good, dead-lettering them", "status", code,
		"refused", strings.Join(parts, " "), "accepted", accepted)
	return out
}

func (s *Sink) refuseWhole(pp *pushPlan, reason string, code int, detail string) []refusedEntries {
	s.stats.countRejected(reason, int64(pp.entries))
	re := refusedEntries{reason: reason, detail: detail, status: code, whole: true}
	for _, items := range pp.items {
		re.items = append(re.items, items...)
	}
	return []refusedEntries{re}
}

func (s *Sink) setHeaders(req *http.Request) error {
	h := req.Header
	for k, v := range s.cfg.Headers {
		h.Set(k, v)
	}
	h.Set("Content-Type", "application/x-protobuf")
	h.Set("User-Agent", "logshipd")
	if s.cfg.TenantID != "" {
		h.Set("X-Scope-OrgID", s.cfg.TenantID)
	}
	switch {
	case s.cfg.Username != "":
		pw := s.cfg.Password
		if s.cfg.PasswordFile != "" {
			b, err := os.ReadFile(s.cfg.PasswordFile)
			if err != nil {
				return fmt.Errorf("loki: password_file: %w", err)
			}
			pw = strings.TrimSpace(string(b))
		}
		req.SetBasicAuth(s.cfg.Username, pw)
	case s.cfg.BearerToken != "":
		h.Set("Authorization", "Bearer "+s.cfg.BearerToken)
	case s.cfg.BearerTokenFile != "":
		b, err := os.ReadFile(s.cfg.BearerTokenFile)
		if err != nil {
			return fmt.Errorf("loki: bearer_token_file: %w", err)
		}
		h.Set("Authorization", "Bearer "+strings.TrimSpace(string(b)))
	}
	return nil
}
