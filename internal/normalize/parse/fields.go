package parse

import "time"

// Kind says how a Value's bytes are to be read.
type Kind uint8

const (
	// KindNone marks an unset slot.
	KindNone Kind = iota
	// KindString holds unescaped text. It may contain invalid UTF-8 or control
	// bytes: the encoder sanitises it.
	KindString
	// KindNumber holds a JSON number literal (already validated).
	KindNumber
	// KindBool holds "true" or "false".
	KindBool
	// KindNull is JSON null.
	KindNull
	// KindJSON holds a raw, gjson-validated JSON object or array.
	KindJSON
)

// Value is one parsed value. B points into the parsed line (or into a buffer
// owned by the parser) and is valid until the next Parse on the same Fields.
type Value struct {
	B    []byte
	Kind Kind
	// Scale converts a numeric duration to seconds (0 means 1). Parsers set it
	// when the key or format fixes the unit, e.g. duration_ms -> 0.001.
	Scale float64
}

// Set reports whether the value is present.
func (v Value) Set() bool { return v.Kind != KindNone }

// Str makes a string Value over b (empty b still counts as set).
func Str(b []byte) Value { return Value{B: b, Kind: KindString} }

// Num makes a number Value over a JSON number literal.
func Num(b []byte) Value { return Value{B: b, Kind: KindNumber} }

// KV is a field that has no schema slot; it is written under the record's
// "attrs" namespace in the order it was found.
type KV struct {
	Key []byte
	Val Value
}

// Fields is the flat, reusable result of parsing one line. Slices point into
// the line given to Parse (the textparse contract): they are valid until the
// next Parse or Reset. Call Reset before reusing a Fields for another line.
//
// Slots hold values as written; normalization (level mapping, UUID checks,
// units, path splitting) happens in package normalize, not in parsers.
type Fields struct {
	// Format is the parser name that produced these fields.
	Format string

	// Time is the record's own time. TimeLocal means the text had no zone:
	// the wall clock must be reinterpreted in the configured time zone.
	// TimeNoYear means the text had no year (syslog): the year is inferred.
	Time       time.Time
	HasTime    bool
	TimeLocal  bool
	TimeNoYear bool
	// timeInstant: Time came from a log4j2 "instant" object's epochSecond,
	// so its nanoOfSecond may still be added.
	timeInstant bool

	// Level is the raw level token (e.g. "warning", "E", "30").
	// LevelNum is set for numeric levels with LevelScheme naming the scale.
	Level       []byte
	LevelNum    int
	LevelScheme LevelScheme

	Message     Value
	Logger      Value
	Service     Value
	Environment Value
	Project     Value
	Host        Value
	TrackingID  Value
	TraceID     Value // 32 hex, or a W3C traceparent (normalize splits it)
	SpanID      Value
	TraceParent Value // full W3C traceparent header

	Request   Request
	Response  Response
	User      User
	Session   Session
	Workflow  Workflow
	Operation Operation
	Error     Error
	Exception Exception
	Source    SourceLoc

	// Extra holds the fields without a schema slot, in input order.
	Extra []KV

	// Envelope is set by the JSON parser when the object looks like a
	// container runtime's wrapper (a "log" string next to stream, source or
	// container_* keys): the normalizer then unwraps it instead.
	Envelope bool
}

// LevelScheme names the scale of a numeric level.
type LevelScheme uint8

const (
	LevelText   LevelScheme = iota // Level is a word
	LevelBunyan                    // 10 trace .. 60 fatal (bunyan, pino)
	LevelSyslog                    // 0 emerg .. 7 debug (syslog severity, journald PRIORITY)
	LevelOTLP                      // 1..24 OTLP severityNumber
	LevelRedis                     // Redis marks: '.' debug, '-' verbose, '*' notice, '#' warning
)

// Request is the HTTP request side.
type Request struct {
	Method    Value
	Path      Value // raw request target; normalize splits the query off
	Protocol  Value
	Size      Value
	Duration  Value // seconds unless Scale says otherwise
	UserAgent Value
	IP        Value
	Referer   Value
	Host      Value
	// DurationKey is the flat key Duration came from ("duration_ms") when
	// it was not inside a request object. Without other HTTP evidence the
	// normalizer writes it back under attrs with this key.
	DurationKey []byte
	// PathKey is the flat key Path came from ("path", "url"). A flat path
	// alone is not HTTP evidence (dockerd logs path=/var/lib/...): without
	// a method or status the normalizer keeps it under attrs.
	PathKey []byte
}

// Response is the HTTP response side.
type Response struct {
	Status      Value
	Size        Value
	ContentType Value
}

// User identifies the end user.
type User struct {
	ID      Value
	Segment Value
}

// Session is the user's session.
type Session struct {
	ID       Value
	Duration Value
}

// Workflow describes a workflow run.
type Workflow struct {
	ID     Value
	Type   Value
	Status Value
}

// Operation describes a named operation.
type Operation struct {
	Name     Value
	Result   Value
	Duration Value
}

// Error is the structured error of an ERROR record.
type Error struct {
	Type     Value
	Code     Value
	Message  Value
	Category Value
}

// Exception is a thrown exception; StackTrace is the joined trace text.
type Exception struct {
	Class      Value
	Message    Value
	StackTrace Value
	File       Value
	Line       Value
}

// SourceLoc is the code location that emitted the record.
type SourceLoc struct {
	Module   Value
	Function Value
	File     Value
	Line     Value
}

// Reset clears f for reuse, keeping the Extra backing array.
func (f *Fields) Reset() {
	extra := f.Extra[:0]
	*f = Fields{Extra: extra}
}

// AddExtra appends a field without a schema slot.
func (f *Fields) AddExtra(key []byte, v Value) {
	f.Extra = append(f.Extra, KV{Key: key, Val: v})
}

// Parser parses the first line of one logical record.
//
// Parse fills f (which the caller has Reset) and reports whether line is in
// the parser's format. It must not panic or allocate per call on valid input
// except where noted, must not retain line, and must be strict enough that
// auto-detection can rely on a false answer: a parser that accepts anything
// would shadow every parser after it. Implementations are not safe for
// concurrent use unless they are stateless.
type Parser interface {
	Name() string
	Parse(line []byte, f *Fields) bool
}
