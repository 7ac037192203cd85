package cloudwatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/starmates/logshipd/internal/event"
	"github.com/starmates/logshipd/internal/sink"
)

// API is the part of the CloudWatch Logs client the sink uses.
type API interface {
	PutLogEvents(context.Context, *cloudwatchlogs.PutLogEventsInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutLogEventsOutput, error)
	CreateLogGroup(context.Context, *cloudwatchlogs.CreateLogGroupInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.CreateLogGroupOutput, error)
	CreateLogStream(context.Context, *cloudwatchlogs.CreateLogStreamInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.CreateLogStreamOutput, error)
	PutRetentionPolicy(context.Context, *cloudwatchlogs.PutRetentionPolicyInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutRetentionPolicyOutput, error)
}

// Sink delivers batches to CloudWatch Logs. It implements sink.Sink and
// sink.AgeLimiter. Send may be called concurrently for different batches.
type Sink struct {
	cfg    Config
	client API
	http   *http.Client
	logger *slog.Logger
	stats  *Stats
	host   string

	groupT, streamT, fireLensT *template
	needOrigin                 bool

	mu      sync.Mutex
	groups  map[string]*groupState
	streams map[string]*streamState
	plans   map[*event.Batch]*plan
	order   []*event.Batch // plans in insertion order (bounded)
}

// maxPlans bounds the plans kept for batches whose Send failed and may be
// retried. A worker sends one batch at a time, so a few suffice; the
// oldest is forgotten first (its retry, if any, then re-sends everything).
const maxPlans = 16

// maxStreams bounds the group/stream caches; past it they are reset (the
// next ResourceNotFoundException re-creates idempotently).
const maxStreams = 1 << 16

// New builds the sink: it loads the AWS configuration (standard chain:
// environment, shared config and credentials files, ECS task role, EC2
// instance metadata) and makes a CloudWatch Logs client whose SDK retries
// are off (the sink.Worker is the only retry layer). optFns adjust the
// client after that (tests set BaseEndpoint and static credentials).
// stats may be nil.
func New(ctx context.Context, cfg Config, logger *slog.Logger, stats *Stats, optFns ...func(*cloudwatchlogs.Options)) (*Sink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	conns := max(2*cfg.Concurrency, 8)
	bc := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConns = conns
		t.MaxIdleConnsPerHost = conns
	})
	loadOpts := []func(*config.LoadOptions) error{
		config.WithHTTPClient(bc),
		config.WithRetryer(func() aws.Retryer { return aws.NopRetryer{} }),
		config.WithEC2IMDSRegion(),
	}
	if cfg.Region != "" {
		loadOpts = append(loadOpts, config.WithRegion(cfg.Region))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("cloudwatch: load AWS configuration: %w", err)
	}
	if awsCfg.Region == "" {
		return nil, errors.New("cloudwatch: no AWS region: set region, AWS_REGION, or region in the shared config")
	}
	// The loader may have adjusted the client (AWS_CA_BUNDLE, defaults
	// mode); freeze that result so Close can drop idle connections.
	var hc *http.Client
	if b, ok := awsCfg.HTTPClient.(*awshttp.BuildableClient); ok {
		if c, ok := b.Freeze().(*http.Client); ok {
			hc = c
			awsCfg.HTTPClient = c
		}
	}
	client := cloudwatchlogs.NewFromConfig(awsCfg, func(o *cloudwatchlogs.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		for _, f := range optFns {
			f(o)
		}
		// One retry layer: the worker's. AWS_MAX_ATTEMPTS cannot turn the
		// SDK's back on (NopRetryer retries nothing whatever its attempts).
		o.Retryer = aws.NopRetryer{}
		o.RetryMaxAttempts = 0
	})
	s, err := newSink(cfg, client, logger, stats)
	if err != nil {
		return nil, err
	}
	s.http = hc
	return s, nil
}

// NewWithClient builds the sink over an existing client (whose retry
// settings are the caller's business: keep the SDK's retries off).
func NewWithClient(cfg Config, client API, logger *slog.Logger, stats *Stats) (*Sink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return newSink(cfg, client, logger, stats)
}

func newSink(cfg Config, client API, logger *slog.Logger, stats *Stats) (*Sink, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if stats == nil {
		stats = &Stats{}
	}
	stats.maxBytes = int64(cfg.MaxBatchBytes)
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	s := &Sink{cfg: cfg, client: client, logger: logger.With("component", "sink.cloudwatch"), stats: stats, host: host,
		groups: map[string]*groupState{}, streams: map[string]*streamState{}, plans: map[*event.Batch]*plan{}}
	s.groupT, _ = parseTemplate(cfg.LogGroup)
	s.streamT, _ = parseTemplate(cfg.LogStream)
	if cfg.FireLensLogStream != "" {
		s.fireLensT, _ = parseTemplate(cfg.FireLensLogStream)
	}
	s.needOrigin = s.fireLensT != nil || s.groupT.needsOrigin || s.streamT.needsOrigin
	return s, nil
}

// Stats returns the counters.
func (s *Sink) Stats() *Stats { return s.stats }

// Host returns the host name {host} renders as.
func (s *Sink) Host() string { return s.host }

// AgeReason implements sink.AgeLimiter: "too_old" for records more than
// 14 days old, "expired" for records older than retention_days (when set),
// "too_new" for records more than 2 hours in the future, else "".
func (s *Sink) AgeReason(t, now time.Time) string {
	switch {
	case t.Before(now.Add(-MaxAge)):
		return ReasonTooOld
	case s.cfg.RetentionDays > 0 && t.Before(now.AddDate(0, 0, -s.cfg.RetentionDays)):
		return ReasonExpired
	case t.After(now.Add(MaxFuture)):
		return ReasonTooNew
	}
	return ""
}

// Send delivers b (see the sink package doc for the meaning of the
// error). Calls run with bounded parallelism. When some calls fail with a
// retryable error the others' success is remembered: a retry of the same
// batch re-sends only the calls that have not succeeded.
func (s *Sink) Send(ctx context.Context, b *event.Batch) error {
	if len(b.Items) == 0 {
		return nil
	}
	p := s.planFor(b)
	var todo []*call
	for _, c := range p.calls {
		if !c.done {
			todo = append(todo, c)
		}
	}
	results := make([]outcome, len(todo))
	// After a throttling answer no further call of this Send is started:
	// the worker backs off and the retry re-sends what is left.
	var throttledNow atomic.Bool
	run := func(k int) {
		if throttledNow.Load() {
			results[k] = outcome{class: classThrottled, err: errNotStarted}
			return
		}
		results[k] = s.put(ctx, todo[k])
		if results[k].class == classThrottled {
			throttledNow.Store(true)
		}
	}
	if n := min(s.cfg.Concurrency, len(todo)); n <= 1 {
		for k := range todo {
			run(k)
		}
	} else {
		var next atomic.Int64
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				for {
					k := int(next.Add(1) - 1)
					if k >= len(todo) {
						return
					}
					run(k)
				}
			})
		}
		wg.Wait()
	}

	failed, throttled := 0, false
	var firstErr error
	for k, c := range todo {
		r := &results[k]
		switch r.class {
		case classOK:
			c.done = true
			p.refused = append(p.refused, r.rejected...)
			p.accepted += len(c.items) - len(r.rejected)
		case classPermanent:
			c.done = true
			p.permErr = r.err
			for _, i := range c.items {
				p.refused = append(p.refused, sink.ItemError{Index: i, Reason: r.reason, Detail: r.err.Error()})
			}
			s.stats.RejectedRefused.Add(int64(len(c.items)))
		default:
			failed++
			throttled = throttled || r.class == classThrottled
			if firstErr == nil || errors.Is(firstErr, errNotStarted) {
				firstErr = r.err
			}
		}
	}
	if failed > 0 {
		err := fmt.Errorf("cloudwatch: %d of %d PutLogEvents calls not delivered: %w", failed, len(p.calls), firstErr)
		if throttled {
			return sink.Throttled(err, s.cfg.ThrottleBackoff)
		}
		return err
	}
	s.forget(b)
	if len(p.refused) == 0 {
		return nil
	}
	if p.accepted == 0 && p.permErr != nil && len(p.refused) == len(b.Items) {
		return sink.Permanent(fmt.Errorf("cloudwatch: every record refused: %w", p.permErr))
	}
	slices.SortFunc(p.refused, func(a, c sink.ItemError) int { return a.Index - c.Index })
	return &sink.PartialError{Items: p.refused}
}

// Close releases idle connections. Send is synchronous, so nothing is
// buffered.
func (s *Sink) Close(context.Context) error {
	s.mu.Lock()
	clear(s.plans)
	s.order = nil
	s.mu.Unlock()
	if s.http != nil {
		s.http.CloseIdleConnections()
	}
	return nil
}

func (s *Sink) planFor(b *event.Batch) *plan {
	s.mu.Lock()
	p, ok := s.plans[b]
	s.mu.Unlock()
	if ok {
		return p
	}
	p = s.buildPlan(b)
	s.mu.Lock()
	if len(s.order) >= maxPlans {
		delete(s.plans, s.order[0])
		s.order = slices.Delete(s.order, 0, 1)
	}
	s.plans[b] = p
	s.order = append(s.order, b)
	s.mu.Unlock()
	return p
}

func (s *Sink) forget(b *event.Batch) {
	s.mu.Lock()
	if _, ok := s.plans[b]; ok {
		delete(s.plans, b)
		if i := slices.Index(s.order, b); i >= 0 {
			s.order = slices.Delete(s.order, i, i+1)
		}
	}
	s.mu.Unlock()
}

// errNotStarted marks calls skipped after a throttling answer.
var errNotStarted = errors.New("not started: throttled")

// outcome is the result of one call.
type outcome struct {
	class    class
	reason   string // permanent: reason label
	err      error
	rejected []sink.ItemError
}

// put sends one call; on ResourceNotFoundException it creates the log
// group/stream and re-sends once.
func (s *Sink) put(ctx context.Context, c *call) outcome {
	for attempt := 0; ; attempt++ {
		gen := c.ss.gen.Load()
		cctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
		s.stats.Puts.Add(1)
		out, err := s.client.PutLogEvents(cctx, &c.in)
		cancel()
		cl, reason := classify(err)
		switch cl {
		case classOK:
			s.stats.PutsOK.Add(1)
			s.stats.putEventsOK.Add(int64(len(c.items)))
			s.stats.putBytesOK.Add(int64(c.bytes))
			var rej []sink.ItemError
			rejBytes := 0
			if out != nil {
				rej, rejBytes = rejectedItems(c, out.RejectedLogEventsInfo)
			}
			if len(rej) > 0 {
				for _, r := range rej {
					s.stats.countReason(r.Reason, 1)
				}
				s.logger.Warn("CloudWatch rejected events by age", "group", c.ss.group, "stream", c.ss.name, "rejected", len(rej), "events", len(c.items))
			}
			s.stats.EventsSent.Add(int64(len(c.items) - len(rej)))
			s.stats.BytesSent.Add(int64(c.bytes - rejBytes))
			return outcome{class: classOK, rejected: rej}
		case classNotFound:
			s.stats.ErrNotFound.Add(1)
			if attempt > 0 {
				// Still missing right after it was created: eventual
				// consistency. Retry later; the next attempt re-creates
				// idempotently if it really is gone.
				return outcome{class: classRetryable, err: fmt.Errorf("log group %q / stream %q: still not found after creating it: %w", c.ss.group, c.ss.name, err)}
			}
			if o := s.ensure(ctx, c.ss, gen); o.class != classOK {
				return o
			}
			continue
		}
		return s.failed(cl, reason, "PutLogEvents", c.ss.group, c.ss.name, err)
	}
}

// failed counts and logs a failed call and returns its outcome.
func (s *Sink) failed(cl class, reason, op, group, stream string, err error) outcome {
	err = fmt.Errorf("%s %s / %s: %w", op, group, stream, err)
	switch cl {
	case classThrottled:
		s.stats.ErrThrottled.Add(1)
	case classPermanent:
		s.stats.ErrPermanent.Add(1)
		if reason == ReasonInvalidParameter {
			// Batches and names are shaped to CloudWatch's rules, so this
			// is a bug (or a rule changed): say so loudly.
			s.logger.Error("CloudWatch refused a request as invalid: records dead-lettered; this is a logshipd bug or a changed CloudWatch rule, please report it",
				"op", op, "group", group, "stream", stream, "err", err)
		} else {
			s.logger.Error("CloudWatch refused a request for good: records dead-lettered", "op", op, "group", group, "stream", stream, "reason", reason, "err", err)
		}
	default:
		s.stats.ErrRetryable.Add(1)
		switch errorCode(err) {
		case "AccessDeniedException", "UnrecognizedClientException", "ExpiredTokenException", "InvalidSignatureException":
			s.logger.Error("CloudWatch refused the credentials: retrying; check the IAM role/keys (logs:PutLogEvents, logs:CreateLogGroup, logs:CreateLogStream, logs:PutRetentionPolicy)",
				"op", op, "group", group, "err", err)
		}
		cl = classRetryable
	}
	if cl == classThrottled || cl == classRetryable {
		return outcome{class: cl, err: err}
	}
	return outcome{class: classPermanent, reason: reason, err: err}
}
