package event

import "time"

// Level is a canonical log level.
type Level uint8

// Canonical levels, in increasing severity. LevelUnset sorts below DEBUG.
const (
	LevelUnset Level = iota
	LevelDebug
	LevelInfo
	LevelWarn
	LevelError
)

var levelNames = [...]string{"", "DEBUG", "INFO", "WARN", "ERROR"}

// String returns the canonical name ("DEBUG", "INFO", "WARN", "ERROR").
func (l Level) String() string {
	if int(l) < len(levelNames) {
		return levelNames[l]
	}
	return ""
}

// ParseLevel parses a canonical level name (case-insensitive, WARNING
// accepted for WARN).
func ParseLevel(s string) (Level, bool) {
	switch s {
	case "DEBUG", "debug", "Debug":
		return LevelDebug, true
	case "INFO", "info", "Info":
		return LevelInfo, true
	case "WARN", "warn", "Warn", "WARNING", "warning", "Warning":
		return LevelWarn, true
	case "ERROR", "error", "Error":
		return LevelError, true
	}
	return LevelUnset, false
}

// Record is one canonical log record.
//
// JSON is the complete canonical record (one line, no newline). Every field
// of a Record, JSON included, is valid only until the Emit call that handed
// it out returns: a consumer that keeps a record must Clone it.
type Record struct {
	JSON        []byte
	Time        time.Time
	Level       Level
	Service     string
	Environment string
	Project     string
	// TrackingID holds the canonical tracking id (TrackingIDLen bytes).
	TrackingID    [36]byte
	TrackingIDLen uint8
	TraceID       [16]byte
	SpanID        [8]byte
	HasTrace      bool
	HasSpan       bool
	// Line is the 1-based number, within its stream, of the physical line
	// the record started on.
	Line int64
	// BelowLevel marks a record under its environment's level filter: log
	// destinations skip it (counted), derived telemetry (metrics) still
	// sees it.
	BelowLevel bool
}

// TrackingIDString returns the tracking id as a string (allocates).
func (r *Record) TrackingIDString() string { return string(r.TrackingID[:r.TrackingIDLen]) }

// Clone returns a deep copy that the caller owns.
func (r *Record) Clone() *Record {
	c := *r
	c.JSON = append([]byte(nil), r.JSON...)
	return &c
}

// Origin says where a stream's lines come from.
type Origin struct {
	Kind string // "file", "stdin", "forward", "replay"
	Path string // file path, or the Forward tag
}
