package cloudwatch

import "sync/atomic"

// Stats are the sink's counters (exported for metrics). All are totals
// since start.
type Stats struct {
	// Puts counts PutLogEvents calls made; PutsOK those answered 200.
	Puts   atomic.Int64
	PutsOK atomic.Int64
	// Failed calls (any operation) by class.
	ErrThrottled atomic.Int64 // ThrottlingException and kin, HTTP 429
	ErrRetryable atomic.Int64 // 5xx, connection errors, timeouts, credential/auth trouble
	ErrNotFound  atomic.Int64 // ResourceNotFoundException from PutLogEvents (group/stream then created)
	ErrPermanent atomic.Int64 // InvalidParameterException and other refusals that retrying cannot fix
	// EventsSent and BytesSent count events CloudWatch accepted and their
	// batch bytes (message bytes + 26 each).
	EventsSent atomic.Int64
	BytesSent  atomic.Int64
	// Records refused for good, by reason.
	RejectedTooOld   atomic.Int64 // rejectedLogEventsInfo.tooOldLogEventEndIndex
	RejectedTooNew   atomic.Int64 // rejectedLogEventsInfo.tooNewLogEventStartIndex
	RejectedExpired  atomic.Int64 // rejectedLogEventsInfo.expiredLogEventEndIndex
	RejectedRefused  atomic.Int64 // whole calls refused for good (invalid_parameter, limit_exceeded, ...)
	TruncatedEvents  atomic.Int64 // messages cut to max_event_bytes
	TruncatedBytes   atomic.Int64 // bytes removed by truncation
	GroupsCreated    atomic.Int64
	StreamsCreated   atomic.Int64
	RetentionSet     atomic.Int64
	ControlPlaneCall atomic.Int64 // CreateLogGroup + PutRetentionPolicy + CreateLogStream calls

	putEventsOK atomic.Int64 // events submitted in calls answered 200 (for the fill ratio)
	putBytesOK  atomic.Int64
	maxBytes    int64
}

// EventsPerPut is the mean number of events of a successful PutLogEvents
// call.
func (s *Stats) EventsPerPut() float64 {
	n := s.PutsOK.Load()
	if n == 0 {
		return 0
	}
	return float64(s.putEventsOK.Load()) / float64(n)
}

// BytesPerPut is the mean batch bytes of a successful call.
func (s *Stats) BytesPerPut() float64 {
	n := s.PutsOK.Load()
	if n == 0 {
		return 0
	}
	return float64(s.putBytesOK.Load()) / float64(n)
}

// FillRatio is BytesPerPut / max_batch_bytes (1 = every call full).
func (s *Stats) FillRatio() float64 {
	if s.maxBytes == 0 {
		return 0
	}
	return s.BytesPerPut() / float64(s.maxBytes)
}

// RejectedByReason returns the refused records per reason label.
func (s *Stats) RejectedByReason() map[string]int64 {
	return map[string]int64{
		ReasonTooOld:  s.RejectedTooOld.Load(),
		ReasonTooNew:  s.RejectedTooNew.Load(),
		ReasonExpired: s.RejectedExpired.Load(),
		"refused":     s.RejectedRefused.Load(),
	}
}

// ErrorsByClass returns failed calls per class.
func (s *Stats) ErrorsByClass() map[string]int64 {
	return map[string]int64{
		"throttled": s.ErrThrottled.Load(),
		"retryable": s.ErrRetryable.Load(),
		"not_found": s.ErrNotFound.Load(),
		"permanent": s.ErrPermanent.Load(),
	}
}

func (s *Stats) countReason(reason string, n int64) {
	switch reason {
	case ReasonTooOld:
		s.RejectedTooOld.Add(n)
	case ReasonTooNew:
		s.RejectedTooNew.Add(n)
	case ReasonExpired:
		s.RejectedExpired.Add(n)
	default:
		s.RejectedRefused.Add(n)
	}
}
