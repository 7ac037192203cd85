// Package parse turns the first line of one log record into Fields: the
// per-format parsers that package normalize runs, explicitly (the format
// setting) or by auto-detection, plus the key alias tables and timestamp
// readers they share. It extracts values; it does not normalize them.
//
// Parsers (Name in parentheses): JSONParser (json), LogfmtParser (logfmt),
// Syslog5424Parser (syslog-rfc5424), Syslog3164Parser (syslog-rfc3164),
// AccessParser (access: NCSA common/combined as written by nginx, Apache,
// gunicorn), NginxErrorParser (nginx-error), ApacheErrorParser
// (apache-error), UvicornAccessParser (uvicorn-access), UvicornParser
// (uvicorn), KlogParser (klog), ZapConsoleParser (zap-console), JavaParser
// (java), PythonParser (python), GoLogParser (go-log), GoPanicParser
// (go-panic) and TimestampLevelParser (ts-level, the last structured
// fallback for text that starts with an ISO-8601 timestamp). Each type's
// comment lists the layouts it accepts. The detection order is package
// normalize's.
//
// Parser contract (see the Parser interface): Parse fills a Fields the
// caller has Reset and reports whether the line is in the parser's format.
// A parser must not panic, must not retain the line, must not allocate per
// call on valid input except where its comment says so, and must be strict:
// auto-detection relies on a false answer, and a parser that accepted
// anything would shadow every parser after it. Fields may be partly filled
// when Parse returns false; Reset it before the next attempt.
//
// Ownership: every Value.B, Level and Extra key points into the line given
// to Parse or into the parser's scratch buffer or Arena. It is valid while
// the line's bytes are unchanged and until the parser's next Parse or the
// Fields' next Reset, whichever comes first; whoever keeps bytes beyond
// that copies them. Fields.Reset
// keeps the Extra backing array for reuse. KindString values may hold
// invalid UTF-8 or control bytes (the encoder sanitises them); KindNumber,
// KindBool and KindJSON values are already valid JSON.
//
// Key mapping (SetKey, SetGroupKey, GroupOf) is shared by every key/value
// format: a known alias fills its schema slot, the first value for a slot
// wins, and later aliases of the same slot, like unknown keys, go to Extra
// in input order, so nothing is lost. Slots hold values as written: level
// mapping, UUID checks, units, path splitting and time-zone resolution
// (TimeLocal, TimeNoYear) happen in package normalize.
//
// Concurrency: JSONParser, LogfmtParser, KlogParser and Syslog5424Parser
// keep scratch memory and are not safe for concurrent use; the other
// parsers are stateless. Every parser's zero value is ready to use. The timestamp
// functions (ISO, CLF, Syslog, Epoch, AnyTime, TAI64N, ...) are pure. Each
// normalizing goroutine needs its own Fields and its own stateful parsers.
package parse
