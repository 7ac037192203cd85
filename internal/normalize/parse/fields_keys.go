package parse

// Key alias tables shared by every key/value format (JSON, logfmt, slog text,
// zap context, klog structured tails). SetKey maps a known alias into its
// schema slot; anything else lands in Extra with the key as written.
//
// The first value found for a slot wins; later aliases of the same slot are
// kept in Extra so nothing is lost.

import (
	"bytes"
	"time"
)

func equalFold(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x >= 'A' && x <= 'Z' {
			x += 'a' - 'A'
		}
		if y >= 'A' && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// Group names a nested object of the canonical schema.
type Group uint8

const (
	GroupNone Group = iota
	GroupRequest
	GroupResponse
	GroupHTTP // ECS / OTel "http" object: request and response mixed
	GroupUser
	GroupSession
	GroupTracing
	GroupWorkflow
	GroupOperation
	GroupError
	GroupException
	GroupSource
	GroupLog     // ECS "log" object: logger, level, origin
	GroupInstant // log4j2 JsonLayout "instant": epochSecond, nanoOfSecond
)

// GroupOf returns the group a top-level object key opens, or GroupNone.
func GroupOf(key []byte) Group {
	switch string(key) {
	case "request", "req", "http_request", "httpRequest":
		return GroupRequest
	case "response", "res", "resp", "http_response":
		return GroupResponse
	case "http":
		return GroupHTTP
	case "user", "usr":
		return GroupUser
	case "session":
		return GroupSession
	case "tracing", "trace", "otel", "span":
		return GroupTracing
	case "workflow":
		return GroupWorkflow
	case "operation":
		return GroupOperation
	case "error", "err":
		return GroupError
	case "exception", "exc", "thrown":
		return GroupException
	case "source", "src", "caller_info", "code":
		return GroupSource
	case "log":
		return GroupLog
	case "instant":
		return GroupInstant
	}
	return GroupNone
}

// setIf fills an empty slot. A second value equal to the one already in
// the slot (the @message twin of message, say) counts as consumed.
func setIf(dst *Value, v Value) bool {
	if v.Kind == KindNone || v.Kind == KindNull {
		return false
	}
	if dst.Kind != KindNone {
		return string(dst.B) == string(v.B)
	}
	*dst = v
	return true
}

// scalar reports whether v is a string, number or bool.
func scalar(v Value) bool { return v.Kind == KindString || v.Kind == KindNumber || v.Kind == KindBool }

// isRequestTarget reports whether b looks like an HTTP request target: a
// path, an absolute URL, or "*".
func isRequestTarget(b []byte) bool {
	return len(b) > 0 && (b[0] == '/' || b[0] == '*' || bytes.Contains(b, []byte("://")))
}

// isHTTPMethod reports whether b looks like an HTTP method token.
func isHTTPMethod(b []byte) bool {
	if len(b) == 0 || len(b) > 12 {
		return false
	}
	for _, c := range b {
		if c < 'A' || c > 'Z' {
			if c >= 'a' && c <= 'z' {
				continue
			}
			return false
		}
	}
	return true
}

// isStatus reports whether v is an HTTP status code (100-599).
func isStatus(v Value) bool {
	if v.Kind != KindNumber && v.Kind != KindString {
		return false
	}
	b := v.B
	if len(b) != 3 {
		return false
	}
	n, ok := digits(b, 3)
	return ok && n >= 100 && n <= 599
}

// SetTime sets the record time from a value under a time key.
// A second time value equal to the first (the @timestamp twin) counts as
// consumed; a different one is left for Extra.
func (f *Fields) SetTime(v Value) bool {
	var t time.Time
	var local, ok bool
	switch v.Kind {
	case KindString:
		t, local, ok = AnyTime(v.B)
	case KindNumber:
		t, ok = Epoch(v.B)
	}
	if !ok {
		return false
	}
	if f.HasTime {
		return t.Equal(f.Time) && local == f.TimeLocal
	}
	f.Time, f.TimeLocal, f.HasTime = t, local, true
	return true
}

// SetLevel sets the raw level from a value under a level key.
func (f *Fields) SetLevel(v Value, numScheme LevelScheme) bool {
	if f.Level != nil {
		return (v.Kind == KindString || v.Kind == KindNumber) && equalFold(f.Level, v.B)
	}
	switch v.Kind {
	case KindString:
		if len(v.B) == 0 || len(v.B) > 32 {
			return false
		}
		if n, ok := digits(v.B, len(v.B)); ok && len(v.B) <= 3 {
			f.LevelNum, f.LevelScheme = n, numScheme
		}
		f.Level = v.B
		return true
	case KindNumber:
		n, ok := digits(v.B, len(v.B))
		if !ok || len(v.B) > 3 {
			return false
		}
		f.Level, f.LevelNum, f.LevelScheme = v.B, n, numScheme
		return true
	}
	return false
}

// setCaller splits "path/file.go:123" into Source.File and Source.Line.
func (f *Fields) setCaller(v Value) bool {
	if v.Kind != KindString || f.Source.File.Set() {
		return false
	}
	b := v.B
	i := len(b) - 1
	for i >= 0 && b[i] >= '0' && b[i] <= '9' {
		i--
	}
	if i > 0 && i < len(b)-1 && b[i] == ':' {
		f.Source.File = Str(b[:i])
		f.Source.Line = Num(b[i+1:])
		return true
	}
	f.Source.File = v
	return true
}

// scaled returns v with a duration scale.
func scaled(v Value, s float64) Value { v.Scale = s; return v }

// SetKey stores a top-level key/value. It reports whether the value went
// into a schema slot (true) or into Extra (false).
func (f *Fields) SetKey(key []byte, v Value) bool {
	if f.setKey(key, v) {
		return true
	}
	f.AddExtra(key, v)
	return false
}

func (f *Fields) setKey(key []byte, v Value) bool {
	switch string(key) {
	// time
	case "time", "ts", "timestamp", "@timestamp", "asctime", "datetime", "t", "date", "eventTime", "event_time", "logtime", "timeMillis", "timestamp_ms", "@t", "Timestamp":
		return f.SetTime(v)
	case "created":
		return v.Kind == KindNumber && f.SetTime(v)
	case "__REALTIME_TIMESTAMP", "_SOURCE_REALTIME_TIMESTAMP", "timeUnixNano", "time_unix_nano", "observedTimeUnixNano":
		// journald (µs) and OTLP/JSON (ns): epoch integers written as strings.
		if v.Kind == KindString && IsJSONNumber(v.B) {
			v.Kind = KindNumber
		}
		return v.Kind == KindNumber && f.SetTime(v)
	case "SYSLOG_IDENTIFIER":
		return v.Kind == KindString && setIf(&f.Logger, v)
	// level
	case "level", "@level", "lvl", "severity", "levelname", "loglevel", "log_level", "log.level", "level_name", "severity_text", "severityText", "levelName", "Level", "LEVEL", "Severity", "@l", "LogLevel":
		return f.SetLevel(v, LevelBunyan)
	case "PRIORITY", "priority", "syslog.severity":
		return f.SetLevel(v, LevelSyslog)
	case "severity_number", "severityNumber", "SeverityNumber":
		return f.SetLevel(v, LevelOTLP)
	// message
	case "msg", "message", "@message", "MESSAGE", "Message", "text", "short_message", "body", "Body", "@m", "@mt":
		return scalar(v) && setIf(&f.Message, v)
	case "event":
		return v.Kind == KindString && setIf(&f.Message, v)
	// identity
	case "logger", "logger_name", "loggerName", "log.logger", "name", "component", "Category":
		return v.Kind == KindString && setIf(&f.Logger, v)
	case "service", "service_name", "service.name", "serviceName", "app", "application", "app_name":
		return v.Kind == KindString && setIf(&f.Service, v)
	case "environment", "env", "deployment.environment", "deployment_environment", "stage":
		return v.Kind == KindString && setIf(&f.Environment, v)
	case "project":
		return v.Kind == KindString && setIf(&f.Project, v)
	case "hostname", "host.name", "HOSTNAME", "_HOSTNAME":
		return v.Kind == KindString && setIf(&f.Host, v)
	case "tracking_id", "trackingId", "trackingID", "tracking-id", "x-tracking-id", "x_tracking_id", "X-Tracking-ID", "X-Tracking-Id", "http_x_tracking_id":
		return scalar(v) && setIf(&f.TrackingID, v)
	case "trace_id", "traceId", "traceid", "traceID", "trace.id", "otelTraceID", "TraceId", "trace", "@tr":
		return v.Kind == KindString && setIf(&f.TraceID, v)
	case "logging.googleapis.com/trace": // "projects/P/traces/ID" (Cloud Logging)
		if v.Kind != KindString {
			return false
		}
		for i := len(v.B) - 1; i >= 0; i-- {
			if v.B[i] == '/' {
				v.B = v.B[i+1:]
				break
			}
		}
		return setIf(&f.TraceID, v)
	case "span_id", "spanId", "spanid", "spanID", "span.id", "otelSpanID", "SpanId", "@sp", "logging.googleapis.com/spanId":
		return v.Kind == KindString && setIf(&f.SpanID, v)
	case "traceparent", "trace_parent", "traceParent":
		return v.Kind == KindString && setIf(&f.TraceParent, v)
	// HTTP, flat
	case "method", "http_method", "http.method", "request_method", "http.request.method", "httpMethod", "verb", "RequestMethod":
		return v.Kind == KindString && isHTTPMethod(v.B) && setIf(&f.Request.Method, v)
	case "path", "url", "uri", "request_uri", "http.url", "url.path", "url.original", "http.target", "http.route", "request_path", "requestPath", "endpoint", "target", "RequestPath":
		if string(key) == "target" && v.Kind == KindString && !isRequestTarget(v.B) {
			// Rust tracing's module path ("my_app::server"), not a request.
			return bytes.Contains(v.B, []byte("::")) && setIf(&f.Logger, v)
		}
		if v.Kind == KindString && !f.Request.Path.Set() {
			f.Request.Path, f.Request.PathKey = v, key
			return true
		}
		return v.Kind == KindString && setIf(&f.Request.Path, v)
	case "status", "status_code", "statusCode", "http_status", "http.status_code", "response_status", "http.response.status_code", "http_status_code", "code", "response_code", "DownstreamStatus":
		return isStatus(v) && setIf(&f.Response.Status, v)
	case "duration", "latency", "elapsed", "response_time", "request_time", "took", "duration_s", "duration_seconds", "elapsed_seconds", "request_duration", "duration_sec":
		return f.setFlatDuration(key, v, 0)
	case "duration_ms", "latency_ms", "elapsed_ms", "response_time_ms", "took_ms", "durationMs", "elapsedMs", "latencyMs":
		return f.setFlatDuration(key, v, 0.001)
	case "duration_us", "latency_us", "duration_micros":
		return f.setFlatDuration(key, v, 1e-6)
	case "duration_ns", "latency_ns", "event.duration":
		return f.setFlatDuration(key, v, 1e-9)
	case "user_agent", "userAgent", "http.user_agent", "ua", "user_agent.original", "http_user_agent", "useragent":
		return v.Kind == KindString && setIf(&f.Request.UserAgent, v)
	case "ip", "client_ip", "remote_addr", "remote_ip", "clientIp", "client.ip", "source.ip", "client.address", "clientIP", "remoteAddr", "remote_address", "peer.ip", "ClientHost":
		return v.Kind == KindString && setIf(&f.Request.IP, v)
	case "referer", "referrer", "http_referer", "http.referer":
		return v.Kind == KindString && setIf(&f.Request.Referer, v)
	case "request_size", "request_bytes", "bytes_in", "bytes_received", "http.request.body.size":
		return v.Kind == KindNumber && setIf(&f.Request.Size, v)
	case "response_size", "bytes", "bytes_sent", "body_bytes_sent", "response_bytes", "bytes_out", "http.response.body.size", "size":
		return v.Kind == KindNumber && setIf(&f.Response.Size, v)
	case "content_type", "contentType", "response_content_type":
		return v.Kind == KindString && setIf(&f.Response.ContentType, v)
	// user / session
	case "user_id", "userId", "userID", "user.id", "uid", "usr.id", "enduser.id":
		return scalar(v) && setIf(&f.User.ID, v)
	case "user_segment", "segment", "user.segment":
		return v.Kind == KindString && setIf(&f.User.Segment, v)
	case "session_id", "sessionId", "sessionID", "session.id":
		return scalar(v) && setIf(&f.Session.ID, v)
	case "session_duration", "session.duration":
		return v.Kind == KindNumber && setIf(&f.Session.Duration, v)
	// workflow / operation
	case "workflow_id", "workflowId", "workflow.id":
		return scalar(v) && setIf(&f.Workflow.ID, v)
	case "workflow_type", "workflowType", "workflow.type":
		return v.Kind == KindString && setIf(&f.Workflow.Type, v)
	case "workflow_status", "workflowStatus", "workflow.status":
		return v.Kind == KindString && setIf(&f.Workflow.Status, v)
	case "operation", "operation_name", "operationName", "operation.name":
		return v.Kind == KindString && setIf(&f.Operation.Name, v)
	case "operation_result", "operation.result":
		return v.Kind == KindString && setIf(&f.Operation.Result, v)
	case "operation_duration", "operation.duration":
		return v.Kind == KindNumber && setIf(&f.Operation.Duration, v)
	// error / exception
	case "error", "err", "error.message", "error_message", "errorMessage":
		return scalar(v) && setIf(&f.Error.Message, v)
	case "error_type", "errorType", "error.type", "error.kind", "error_kind":
		return v.Kind == KindString && setIf(&f.Error.Type, v)
	case "error_code", "errorCode", "error.code":
		return scalar(v) && setIf(&f.Error.Code, v)
	case "error_category", "error.category":
		return v.Kind == KindString && setIf(&f.Error.Category, v)
	case "exc_info", "exception", "stack_trace", "stacktrace", "stack", "error.stack_trace", "exc_text", "error.stack", "stackTrace", "errorVerbose", "@x", "Exception":
		return v.Kind == KindString && setIf(&f.Exception.StackTrace, v)
	case "exc_type", "exception_class", "exception.type", "exception_type", "exception.class":
		return v.Kind == KindString && setIf(&f.Exception.Class, v)
	case "exception.message", "exc_message":
		return v.Kind == KindString && setIf(&f.Exception.Message, v)
	// code location
	case "module", "code.namespace":
		return v.Kind == KindString && setIf(&f.Source.Module, v)
	case "funcName", "function", "func", "code.function", "log.origin.function", "method_name":
		return v.Kind == KindString && setIf(&f.Source.Function, v)
	case "lineno", "line", "code.lineno", "log.origin.file.line", "line_number":
		return (v.Kind == KindNumber || v.Kind == KindString) && setIf(&f.Source.Line, v)
	case "filename", "file", "pathname", "code.filepath", "log.origin.file.name":
		return v.Kind == KindString && setIf(&f.Source.File, v)
	case "caller", "source":
		return f.setCaller(v)
	}
	return false
}

func (f *Fields) setFlatDuration(key []byte, v Value, scale float64) bool {
	if v.Kind != KindNumber && v.Kind != KindString {
		return false
	}
	if !setIf(&f.Request.Duration, scaled(v, scale)) {
		return false
	}
	f.Request.DurationKey = key
	return true
}

// SetGroupKey stores key/v found inside a nested object of group g. It
// reports whether a slot took it; the caller keeps unknown keys (as
// "<group>.<key>" in Extra).
func (f *Fields) SetGroupKey(g Group, key []byte, v Value) bool {
	k := string(key)
	switch g {
	case GroupRequest, GroupHTTP:
		switch k {
		case "method", "request_method", "verb":
			return v.Kind == KindString && setIf(&f.Request.Method, v)
		case "path", "url", "uri", "target", "route", "requestUrl", "request_uri":
			return v.Kind == KindString && setIf(&f.Request.Path, v)
		case "protocol", "proto", "version", "http_version":
			return v.Kind == KindString && setIf(&f.Request.Protocol, v)
		case "size", "bytes", "body_size", "content_length", "requestSize":
			return v.Kind == KindNumber && setIf(&f.Request.Size, v)
		case "duration", "latency", "elapsed", "duration_s":
			return (v.Kind == KindNumber || v.Kind == KindString) && setIf(&f.Request.Duration, v)
		case "duration_ms", "latency_ms", "elapsed_ms":
			return v.Kind == KindNumber && setIf(&f.Request.Duration, scaled(v, 0.001))
		case "user_agent", "userAgent", "ua":
			return v.Kind == KindString && setIf(&f.Request.UserAgent, v)
		case "ip", "client_ip", "remote_addr", "remoteIp", "remote_ip", "clientIp":
			return v.Kind == KindString && setIf(&f.Request.IP, v)
		case "referer", "referrer":
			return v.Kind == KindString && setIf(&f.Request.Referer, v)
		case "host":
			return v.Kind == KindString && setIf(&f.Request.Host, v)
		case "status", "status_code", "statusCode":
			return isStatus(v) && setIf(&f.Response.Status, v)
		}
	case GroupResponse:
		switch k {
		case "status", "status_code", "statusCode", "code":
			return isStatus(v) && setIf(&f.Response.Status, v)
		case "size", "bytes", "body_size", "content_length", "responseSize":
			return v.Kind == KindNumber && setIf(&f.Response.Size, v)
		case "content_type", "contentType", "mime_type":
			return v.Kind == KindString && setIf(&f.Response.ContentType, v)
		case "duration", "latency", "elapsed":
			return (v.Kind == KindNumber || v.Kind == KindString) && setIf(&f.Request.Duration, v)
		case "duration_ms", "latency_ms":
			return v.Kind == KindNumber && setIf(&f.Request.Duration, scaled(v, 0.001))
		}
	case GroupUser:
		switch k {
		case "id", "user_id", "userId", "name":
			return scalar(v) && setIf(&f.User.ID, v)
		case "segment", "tier", "plan":
			return v.Kind == KindString && setIf(&f.User.Segment, v)
		}
	case GroupSession:
		switch k {
		case "id", "session_id":
			return scalar(v) && setIf(&f.Session.ID, v)
		case "duration":
			return v.Kind == KindNumber && setIf(&f.Session.Duration, v)
		}
	case GroupTracing:
		switch k {
		case "trace_id", "traceId", "traceid", "traceID", "id":
			return v.Kind == KindString && setIf(&f.TraceID, v)
		case "span_id", "spanId", "spanid", "spanID":
			return v.Kind == KindString && setIf(&f.SpanID, v)
		case "traceparent":
			return v.Kind == KindString && setIf(&f.TraceParent, v)
		}
	case GroupWorkflow:
		switch k {
		case "id", "workflow_id":
			return scalar(v) && setIf(&f.Workflow.ID, v)
		case "type", "workflow_type":
			return v.Kind == KindString && setIf(&f.Workflow.Type, v)
		case "status", "state":
			return v.Kind == KindString && setIf(&f.Workflow.Status, v)
		}
	case GroupOperation:
		switch k {
		case "name":
			return v.Kind == KindString && setIf(&f.Operation.Name, v)
		case "result", "outcome":
			return v.Kind == KindString && setIf(&f.Operation.Result, v)
		case "duration":
			return v.Kind == KindNumber && setIf(&f.Operation.Duration, v)
		}
	case GroupError:
		switch k {
		case "type", "kind", "class", "name":
			return v.Kind == KindString && setIf(&f.Error.Type, v)
		case "code":
			return scalar(v) && setIf(&f.Error.Code, v)
		case "message", "msg":
			return scalar(v) && setIf(&f.Error.Message, v)
		case "category":
			return v.Kind == KindString && setIf(&f.Error.Category, v)
		case "stack_trace", "stack", "stacktrace", "trace":
			return v.Kind == KindString && setIf(&f.Exception.StackTrace, v)
		}
	case GroupException:
		switch k {
		case "class", "type", "name", "exc_type":
			return v.Kind == KindString && setIf(&f.Exception.Class, v)
		case "message", "msg", "value", "localizedMessage":
			return scalar(v) && setIf(&f.Exception.Message, v)
		case "stack_trace", "stacktrace", "stack", "traceback", "extendedStackTrace":
			return v.Kind == KindString && setIf(&f.Exception.StackTrace, v)
		case "file", "filename":
			return v.Kind == KindString && setIf(&f.Exception.File, v)
		case "line", "lineno":
			return (v.Kind == KindNumber || v.Kind == KindString) && setIf(&f.Exception.Line, v)
		}
	case GroupSource:
		switch k {
		case "module", "namespace", "package":
			return v.Kind == KindString && setIf(&f.Source.Module, v)
		case "function", "func", "funcName", "method":
			return v.Kind == KindString && setIf(&f.Source.Function, v)
		case "line", "lineno":
			return (v.Kind == KindNumber || v.Kind == KindString) && setIf(&f.Source.Line, v)
		case "file", "filename", "filepath", "path":
			return v.Kind == KindString && setIf(&f.Source.File, v)
		}
	case GroupLog:
		switch k {
		case "logger", "name":
			return v.Kind == KindString && setIf(&f.Logger, v)
		case "level":
			return f.SetLevel(v, LevelBunyan)
		}
	case GroupInstant:
		switch k {
		case "epochSecond":
			if v.Kind != KindNumber || f.HasTime {
				return false
			}
			if t, ok := Epoch(v.B); ok {
				f.Time, f.HasTime, f.timeInstant = t, true, true
				return true
			}
		case "nanoOfSecond":
			if v.Kind != KindNumber || !f.timeInstant {
				return false
			}
			if n, ok := digits(v.B, len(v.B)); ok && n < 1e9 {
				f.Time = f.Time.Add(time.Duration(n))
				f.timeInstant = false
				return true
			}
		}
	}
	return false
}
