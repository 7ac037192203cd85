package loki

import "sync/atomic"

// Reasons for entries the server refused for good (dead-letter reasons).
const (
	ReasonTooOld        = "too_old"
	ReasonTooNew        = "too_new"
	ReasonOutOfOrder    = "out_of_order"
	ReasonLineTooLong   = "line_too_long"
	ReasonInvalidLabels = "invalid_labels"
	ReasonTooLarge      = "too_large"
	ReasonRefused       = "refused" // a 400 or other 4xx the sink could not attribute to entries
)

var reasons = []string{ReasonTooOld, ReasonTooNew, ReasonOutOfOrder, ReasonLineTooLong, ReasonInvalidLabels, ReasonTooLarge, ReasonRefused}

// Error classes of failed pushes.
const (
	ClassThrottled  = "throttled"   // 429
	ClassServer     = "server"      // 5xx
	ClassTransport  = "transport"   // connection errors, timeouts
	ClassBadRequest = "bad_request" // 400
	ClassClient     = "client"      // other 4xx
)

var classes = []string{ClassThrottled, ClassServer, ClassTransport, ClassBadRequest, ClassClient}

// Stats are the sink's counters, all atomics: safe to read at any time.
// Records refused by age before sending (AgeReason) are counted by the
// worker (sink.Stats.DeadByReason), not here.
type Stats struct {
	Pushes       atomic.Int64 // push requests made (every attempt)
	PushesOK     atomic.Int64 // pushes answered 2xx
	EntriesSent  atomic.Int64 // entries accepted (in 2xx pushes, or in 400 pushes and not refused)
	BytesSent    atomic.Int64 // uncompressed line bytes of accepted entries
	BodyBytes    atomic.Int64 // compressed request body bytes of 2xx pushes
	Truncated    atomic.Int64 // lines truncated to max_line_bytes
	TruncatedRem atomic.Int64 // bytes removed by truncation

	errs     [5]atomic.Int64 // by class, in the order of classes
	rejected [7]atomic.Int64 // by reason, in the order of reasons

	fillSum   atomic.Int64 // sum over pushes of 1e6 * uncompressed bytes / max_push_bytes
	fillCount atomic.Int64
}

func (s *Stats) countErr(class string) {
	for i, c := range classes {
		if c == class {
			s.errs[i].Add(1)
			return
		}
	}
}

func (s *Stats) countRejected(reason string, n int64) {
	for i, r := range reasons {
		if r == reason {
			s.rejected[i].Add(n)
			return
		}
	}
	s.rejected[len(reasons)-1].Add(n)
}

func (s *Stats) countFill(bytes, max int) {
	if max <= 0 {
		return
	}
	s.fillSum.Add(int64(bytes) * 1_000_000 / int64(max))
	s.fillCount.Add(1)
}

// PushErrors returns failed pushes per class (throttled, server,
// transport, bad_request, client).
func (s *Stats) PushErrors() map[string]int64 {
	out := make(map[string]int64, len(classes))
	for i, c := range classes {
		out[c] = s.errs[i].Load()
	}
	return out
}

// Rejected returns entries the server refused for good, per reason.
func (s *Stats) Rejected() map[string]int64 {
	out := make(map[string]int64, len(reasons))
	for i, r := range reasons {
		out[r] = s.rejected[i].Load()
	}
	return out
}

// FillRatio returns the mean fill of the pushes made: uncompressed push
// bytes / max_push_bytes, in [0, 1] (0 before the first push).
func (s *Stats) FillRatio() float64 {
	n := s.fillCount.Load()
	if n == 0 {
		return 0
	}
	return float64(s.fillSum.Load()) / float64(n) / 1e6
}
