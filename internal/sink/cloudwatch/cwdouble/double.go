package cwdouble

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Limits enforced by the double (the service's documented values).
const (
	EventOverhead  = 26
	MaxBatchBytes  = 1_048_576
	MaxEventBytes  = MaxBatchBytes - EventOverhead
	MaxBatchEvents = 10_000
	MaxSpan        = 24 * time.Hour
	MaxAge         = 14 * 24 * time.Hour
	MaxFuture      = 2 * time.Hour
	MaxNameLen     = 512
	TargetPrefix   = "Logs_20140328."
	ContentType    = "application/x-amz-json-1.1"
)

// RetentionDays are the values PutRetentionPolicy accepts.
var RetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// Group classes CreateLogGroup accepts.
var GroupClasses = []string{"STANDARD", "INFREQUENT_ACCESS", "ESSENTIALS", "DELIVERY"}

// FaultKind is an injected failure.
type FaultKind int

const (
	// Throttle answers 400 ThrottlingException ("Rate exceeded").
	Throttle FaultKind = iota + 1
	// Unavailable answers 500 ServiceUnavailableException.
	Unavailable
	// Reset closes the connection without an answer.
	Reset
	// LostResponse applies the call, then answers 500 InternalFailure, as
	// if the response had been lost: a retry duplicates the events.
	LostResponse
	// Invalid answers 400 InvalidParameterException (what a batch-shaping
	// bug would get).
	Invalid
)

// Event is one accepted log event.
type Event struct {
	Timestamp     int64  // ms since the epoch, as sent
	Message       string // as sent
	IngestionTime int64  // ms, the double's clock
}

// GroupInfo describes a log group.
type GroupInfo struct {
	Name          string
	Class         string
	RetentionDays int // 0: never expire
	Streams       []string
}

type group struct {
	name      string
	class     string
	retention int
	created   int64
	streams   map[string]*stream
}

type stream struct {
	created int64
	events  []Event
	count   int
	first   int64
	last    int64
}

type fault struct {
	op   string // "" matches every operation
	skip int    // matching calls to let through first
	kind FaultKind
	n    int
}

// Options configure a Server.
type Options struct {
	// Now is the service clock (default time.Now).
	Now func() time.Time
	// DiscardEvents keeps counts only (benchmarks).
	DiscardEvents bool
}

// Server is the double. Its zero value is not usable: call New.
type Server struct {
	opts Options

	mu         sync.Mutex
	groups     map[string]*group
	groupLimit int
	faults     []fault
	latency    time.Duration
	calls      map[string]int
	errs       map[string]int
	events     int
	reqs       int
}

// New returns an empty double.
func New(opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Server{opts: opts, groups: map[string]*group{}, groupLimit: 1_000_000, calls: map[string]int{}, errs: map[string]int{}}
}

// Inject makes the next n calls of op ("" for any operation) fail with
// kind. Faults queue in order of injection.
func (s *Server) Inject(op string, kind FaultKind, n int) { s.InjectAfter(op, 0, kind, n) }

// InjectAfter lets skip calls of op through, then fails the next n.
func (s *Server) InjectAfter(op string, skip int, kind FaultKind, n int) {
	s.mu.Lock()
	s.faults = append(s.faults, fault{op: op, skip: skip, kind: kind, n: n})
	s.mu.Unlock()
}

// ThrottleNext throttles the next n PutLogEvents calls.
func (s *Server) ThrottleNext(n int) { s.Inject("PutLogEvents", Throttle, n) }

// UnavailableNext answers the next n PutLogEvents calls with 500.
func (s *Server) UnavailableNext(n int) { s.Inject("PutLogEvents", Unavailable, n) }

// PendingFaults returns how many injected failures are still to come.
func (s *Server) PendingFaults() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, f := range s.faults {
		n += f.n
	}
	return n
}

// SetLatency delays every answer by d.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	s.latency = d
	s.mu.Unlock()
}

// SetGroupLimit sets the most log groups (CreateLogGroup beyond it:
// LimitExceededException).
func (s *Server) SetGroupLimit(n int) {
	s.mu.Lock()
	s.groupLimit = n
	s.mu.Unlock()
}

// CreateLogGroup creates a group directly (test setup). retentionDays 0:
// never expire.
func (s *Server) CreateLogGroup(name, class string, retentionDays int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if class == "" {
		class = "STANDARD"
	}
	s.groups[name] = &group{name: name, class: class, retention: retentionDays, created: s.nowMs(), streams: map[string]*stream{}}
}

// CreateLogStream creates a stream directly (test setup); the group must
// exist.
func (s *Server) CreateLogStream(groupName, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.groups[groupName]
	if !ok {
		return fmt.Errorf("no log group %q", groupName)
	}
	g.streams[name] = &stream{created: s.nowMs()}
	return nil
}

// DeleteLogGroup removes a group and its streams.
func (s *Server) DeleteLogGroup(name string) {
	s.mu.Lock()
	delete(s.groups, name)
	s.mu.Unlock()
}

// Events returns a copy of the events accepted into a stream, in the order
// they were accepted.
func (s *Server) Events(groupName, streamName string) []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.groups[groupName]
	if !ok {
		return nil
	}
	st, ok := g.streams[streamName]
	if !ok {
		return nil
	}
	return slices.Clone(st.events)
}

// AllEvents returns every accepted event per "group\x00stream".
func (s *Server) AllEvents() map[string][]Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string][]Event{}
	for gn, g := range s.groups {
		for sn, st := range g.streams {
			out[gn+"\x00"+sn] = slices.Clone(st.events)
		}
	}
	return out
}

// EventCount is the number of events accepted in total.
func (s *Server) EventCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.events
}

// Group describes a group (false when it does not exist).
func (s *Server) Group(name string) (GroupInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.groups[name]
	if !ok {
		return GroupInfo{}, false
	}
	gi := GroupInfo{Name: g.name, Class: g.class, RetentionDays: g.retention}
	for n := range g.streams {
		gi.Streams = append(gi.Streams, n)
	}
	sort.Strings(gi.Streams)
	return gi, true
}

// Groups returns the names of all groups, sorted.
func (s *Server) Groups() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for n := range s.groups {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Calls returns how many requests named op (fault-injected ones included).
func (s *Server) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// Errors returns how many answers carried error code.
func (s *Server) Errors(code string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.errs[code]
}

func (s *Server) nowMs() int64 { return s.opts.Now().UnixMilli() }

// apiError is an error answer.
type apiError struct {
	status int
	code   string
	msg    string
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

func invalid(format string, a ...any) *apiError {
	return &apiError{400, "InvalidParameterException", fmt.Sprintf(format, a...)}
}

func notFound(what string) *apiError {
	return &apiError{400, "ResourceNotFoundException", "The specified " + what + " does not exist."}
}

// ServeHTTP implements the JSON 1.1 protocol.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.reqs++
	reqID := "cwdouble-" + strconv.Itoa(s.reqs)
	latency := s.latency
	s.mu.Unlock()
	w.Header().Set("X-Amzn-Requestid", reqID)

	op, aerr := s.checkEnvelope(r)
	if aerr != nil {
		s.writeErr(w, aerr)
		return
	}
	body, err := readBody(r)
	if err != nil {
		s.writeErr(w, &apiError{400, "SerializationException", "cannot read body: " + err.Error()})
		return
	}
	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-r.Context().Done():
			t.Stop()
			return
		case <-t.C:
		}
	}

	s.mu.Lock()
	s.calls[op]++
	kind := s.takeFault(op)
	s.mu.Unlock()
	switch kind {
	case Throttle:
		s.writeErr(w, &apiError{400, "ThrottlingException", "Rate exceeded"})
		return
	case Unavailable:
		s.writeErr(w, &apiError{500, "ServiceUnavailableException", "The server failed to fulfill the request. Please try again."})
		return
	case Invalid:
		s.writeErr(w, invalid("injected: the request is invalid"))
		return
	case Reset:
		s.count("connection_reset")
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				_ = c.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}

	var out any
	switch op {
	case "PutLogEvents":
		out, aerr = s.putLogEvents(body)
	case "CreateLogGroup":
		out, aerr = s.createLogGroup(body)
	case "CreateLogStream":
		out, aerr = s.createLogStream(body)
	case "PutRetentionPolicy":
		out, aerr = s.putRetentionPolicy(body)
	case "DescribeLogGroups":
		out, aerr = s.describeLogGroups(body)
	case "DescribeLogStreams":
		out, aerr = s.describeLogStreams(body)
	case "GetLogEvents":
		out, aerr = s.getLogEvents(body)
	default:
		aerr = &apiError{400, "UnknownOperationException", "operation " + op + " is outside what the double serves"}
	}
	if aerr != nil {
		s.writeErr(w, aerr)
		return
	}
	if kind == LostResponse {
		s.writeErr(w, &apiError{500, "InternalFailure", "The request processing has failed because of an unknown error."})
		return
	}
	w.Header().Set("Content-Type", ContentType)
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(out)
}

func (s *Server) checkEnvelope(r *http.Request) (string, *apiError) {
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		return "", &apiError{404, "UnknownOperationException", "expected POST /, got " + r.Method + " " + r.URL.Path}
	}
	if ct := r.Header.Get("Content-Type"); ct != ContentType {
		return "", &apiError{400, "SerializationException", fmt.Sprintf("Content-Type %q: expected %s", ct, ContentType)}
	}
	if a := r.Header.Get("Authorization"); !strings.HasPrefix(a, "AWS4-HMAC-SHA256 Credential=") || r.Header.Get("X-Amz-Date") == "" {
		return "", &apiError{400, "MissingAuthenticationTokenException", "Missing Authentication Token (expected a SigV4 Authorization and X-Amz-Date)"}
	}
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, TargetPrefix)
	if !ok || op == "" {
		return "", &apiError{400, "UnknownOperationException", fmt.Sprintf("X-Amz-Target %q: expected %s<Operation>", target, TargetPrefix)}
	}
	return op, nil
}

func readBody(r *http.Request) ([]byte, error) {
	const limit = 8 << 20
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if len(b) > limit {
		return nil, errors.New("body over 8 MiB")
	}
	return b, nil
}

// takeFault pops the next fault matching op (s.mu held).
func (s *Server) takeFault(op string) FaultKind {
	for i := range s.faults {
		f := &s.faults[i]
		if f.n > 0 && (f.op == "" || f.op == op) {
			if f.skip > 0 {
				f.skip--
				return 0
			}
			f.n--
			k := f.kind
			if f.n == 0 {
				s.faults = slices.Delete(s.faults, i, i+1)
			}
			return k
		}
	}
	return 0
}

func (s *Server) count(code string) {
	s.mu.Lock()
	s.errs[code]++
	s.mu.Unlock()
}

func (s *Server) writeErr(w http.ResponseWriter, e *apiError) {
	s.count(e.code)
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("X-Amzn-ErrorType", e.code)
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": e.code, "message": e.msg})
}

// decodeStrict decodes body into v, refusing unknown fields.
func decodeStrict(body []byte, v any) *apiError {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &apiError{400, "SerializationException", err.Error()}
	}
	return nil
}

func checkGroupName(name *string, creating bool) *apiError {
	if name == nil {
		return invalid("logGroupName: required")
	}
	n := *name
	if len(n) < 1 || len(n) > MaxNameLen {
		return invalid("logGroupName: length %d not in 1..%d", len(n), MaxNameLen)
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c == '.' || c == '-' || c == '_' || c == '/' || c == '#' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			return invalid("logGroupName %q: character %q not in [\\.\\-_/#A-Za-z0-9]", n, c)
		}
	}
	if creating && strings.HasPrefix(n, "aws/") {
		return invalid("logGroupName %q: must not start with aws/", n)
	}
	return nil
}

func checkStreamName(name *string) *apiError {
	if name == nil {
		return invalid("logStreamName: required")
	}
	n := *name
	if !utf8.ValidString(n) {
		return invalid("logStreamName: invalid UTF-8")
	}
	if c := utf8.RuneCountInString(n); c < 1 || c > MaxNameLen {
		return invalid("logStreamName: length %d not in 1..%d", c, MaxNameLen)
	}
	if strings.ContainsAny(n, ":*") {
		return invalid("logStreamName %q: must not contain ':' or '*'", n)
	}
	return nil
}

type inputLogEvent struct {
	Timestamp *int64  `json:"timestamp"`
	Message   *string `json:"message"`
}

type putLogEventsIn struct {
	LogGroupName  *string         `json:"logGroupName"`
	LogStreamName *string         `json:"logStreamName"`
	LogEvents     []inputLogEvent `json:"logEvents"`
	SequenceToken *string         `json:"sequenceToken"`
	Entity        json.RawMessage `json:"entity"`
}

type rejectedInfo struct {
	TooNewLogEventStartIndex *int `json:"tooNewLogEventStartIndex,omitempty"`
	TooOldLogEventEndIndex   *int `json:"tooOldLogEventEndIndex,omitempty"`
	ExpiredLogEventEndIndex  *int `json:"expiredLogEventEndIndex,omitempty"`
}

type putLogEventsOut struct {
	NextSequenceToken     string        `json:"nextSequenceToken"`
	RejectedLogEventsInfo *rejectedInfo `json:"rejectedLogEventsInfo,omitempty"`
}

func (s *Server) putLogEvents(body []byte) (any, *apiError) {
	var in putLogEventsIn
	if e := decodeStrict(body, &in); e != nil {
		return nil, e
	}
	if e := checkGroupName(in.LogGroupName, false); e != nil {
		return nil, e
	}
	if e := checkStreamName(in.LogStreamName); e != nil {
		return nil, e
	}
	n := len(in.LogEvents)
	if n < 1 || n > MaxBatchEvents {
		return nil, invalid("logEvents: %d events, must be 1..%d", n, MaxBatchEvents)
	}
	total := 0
	for i, ev := range in.LogEvents {
		if ev.Timestamp == nil || ev.Message == nil {
			return nil, invalid("logEvents[%d]: timestamp and message are required", i)
		}
		m := len(*ev.Message)
		if m < 1 {
			return nil, invalid("logEvents[%d].message: must be at least 1 byte", i)
		}
		if m+EventOverhead > MaxBatchBytes {
			return nil, invalid("Log event too large: %d bytes exceeds limit of %d", m+EventOverhead, MaxBatchBytes)
		}
		total += m + EventOverhead
		if i > 0 && *ev.Timestamp < *in.LogEvents[i-1].Timestamp {
			return nil, invalid("Log events in a single PutLogEvents request must be in chronological order (event %d at %d precedes event %d at %d).",
				i, *ev.Timestamp, i-1, *in.LogEvents[i-1].Timestamp)
		}
	}
	if total > MaxBatchBytes {
		return nil, invalid("Upload too large: %d bytes exceeds limit of %d", total, MaxBatchBytes)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.groups[*in.LogGroupName]
	if !ok {
		return nil, notFound("log group")
	}
	st, ok := g.streams[*in.LogStreamName]
	if !ok {
		return nil, notFound("log stream")
	}
	now := s.opts.Now()
	nowMs := now.UnixMilli()
	oldBound := now.Add(-MaxAge).UnixMilli()
	newBound := now.Add(MaxFuture).UnixMilli()
	expBound := int64(0)
	if g.retention > 0 {
		expBound = now.AddDate(0, 0, -g.retention).UnixMilli()
	}
	// Events are sorted: too old is a prefix, expired follows it, too new
	// is a suffix.
	oldEnd, expEnd, newStart := 0, 0, n
	for i, ev := range in.LogEvents {
		ts := *ev.Timestamp
		switch {
		case ts < oldBound:
			oldEnd, expEnd = i+1, max(expEnd, i+1)
		case ts < expBound:
			expEnd = i + 1
		case ts > newBound:
			if newStart == n {
				newStart = i
			}
		}
	}
	valid := in.LogEvents[expEnd:newStart]
	if len(valid) > 0 {
		if span := *valid[len(valid)-1].Timestamp - *valid[0].Timestamp; span > MaxSpan.Milliseconds() {
			return nil, invalid("The batch of log events in a single PutLogEvents request cannot span more than 24 hours (valid events span %d ms).", span)
		}
	}
	for _, ev := range valid {
		ts := *ev.Timestamp
		if st.count == 0 || ts < st.first {
			st.first = ts
		}
		st.last = max(st.last, ts)
		st.count++
		s.events++
		if !s.opts.DiscardEvents {
			st.events = append(st.events, Event{Timestamp: ts, Message: *ev.Message, IngestionTime: nowMs})
		}
	}
	out := &putLogEventsOut{NextSequenceToken: strconv.FormatInt(int64(s.events), 10)}
	if oldEnd > 0 || expEnd > oldEnd || newStart < n {
		ri := &rejectedInfo{}
		if oldEnd > 0 {
			ri.TooOldLogEventEndIndex = &oldEnd
		}
		if expEnd > oldEnd {
			ri.ExpiredLogEventEndIndex = &expEnd
		}
		if newStart < n {
			ri.TooNewLogEventStartIndex = &newStart
		}
		out.RejectedLogEventsInfo = ri
	}
	return out, nil
}

type createLogGroupIn struct {
	LogGroupName              *string           `json:"logGroupName"`
	LogGroupClass             *string           `json:"logGroupClass"`
	KmsKeyID                  *string           `json:"kmsKeyId"`
	Tags                      map[string]string `json:"tags"`
	DeletionProtectionEnabled *bool             `json:"deletionProtectionEnabled"`
}

func (s *Server) createLogGroup(body []byte) (any, *apiError) {
	var in createLogGroupIn
	if e := decodeStrict(body, &in); e != nil {
		return nil, e
	}
	if e := checkGroupName(in.LogGroupName, true); e != nil {
		return nil, e
	}
	class := "STANDARD"
	if in.LogGroupClass != nil {
		class = *in.LogGroupClass
		if !slices.Contains(GroupClasses, class) {
			return nil, invalid("logGroupClass %q: must be one of %v", class, GroupClasses)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.groups[*in.LogGroupName]; ok {
		return nil, &apiError{400, "ResourceAlreadyExistsException", "The specified log group already exists"}
	}
	if len(s.groups) >= s.groupLimit {
		return nil, &apiError{400, "LimitExceededException", "Resource limit exceeded."}
	}
	s.groups[*in.LogGroupName] = &group{name: *in.LogGroupName, class: class, created: s.nowMs(), streams: map[string]*stream{}}
	return struct{}{}, nil
}

type createLogStreamIn struct {
	LogGroupName  *string `json:"logGroupName"`
	LogStreamName *string `json:"logStreamName"`
}

func (s *Server) createLogStream(body []byte) (any, *apiError) {
	var in createLogStreamIn
	if e := decodeStrict(body, &in); e != nil {
		return nil, e
	}
	if e := checkGroupName(in.LogGroupName, false); e != nil {
		return nil, e
	}
	if e := checkStreamName(in.LogStreamName); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.groups[*in.LogGroupName]
	if !ok {
		return nil, notFound("log group")
	}
	if _, ok := g.streams[*in.LogStreamName]; ok {
		return nil, &apiError{400, "ResourceAlreadyExistsException", "The specified log stream already exists"}
	}
	g.streams[*in.LogStreamName] = &stream{created: s.nowMs()}
	return struct{}{}, nil
}

type putRetentionPolicyIn struct {
	LogGroupName    *string `json:"logGroupName"`
	RetentionInDays *int    `json:"retentionInDays"`
}

func (s *Server) putRetentionPolicy(body []byte) (any, *apiError) {
	var in putRetentionPolicyIn
	if e := decodeStrict(body, &in); e != nil {
		return nil, e
	}
	if e := checkGroupName(in.LogGroupName, false); e != nil {
		return nil, e
	}
	if in.RetentionInDays == nil || !slices.Contains(RetentionDays, *in.RetentionInDays) {
		return nil, invalid("retentionInDays: must be one of %v", RetentionDays)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.groups[*in.LogGroupName]
	if !ok {
		return nil, notFound("log group")
	}
	g.retention = *in.RetentionInDays
	return struct{}{}, nil
}

type describeLogGroupsIn struct {
	LogGroupNamePrefix *string `json:"logGroupNamePrefix"`
}

type logGroupOut struct {
	LogGroupName    string `json:"logGroupName"`
	CreationTime    int64  `json:"creationTime"`
	RetentionInDays *int   `json:"retentionInDays,omitempty"`
	LogGroupClass   string `json:"logGroupClass"`
	Arn             string `json:"arn"`
	StoredBytes     int64  `json:"storedBytes"`
}

func (s *Server) describeLogGroups(body []byte) (any, *apiError) {
	var in describeLogGroupsIn
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, &apiError{400, "SerializationException", err.Error()}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := struct {
		LogGroups []logGroupOut `json:"logGroups"`
	}{LogGroups: []logGroupOut{}}
	for _, g := range s.groups {
		if in.LogGroupNamePrefix != nil && !strings.HasPrefix(g.name, *in.LogGroupNamePrefix) {
			continue
		}
		lg := logGroupOut{LogGroupName: g.name, CreationTime: g.created, LogGroupClass: g.class,
			Arn: "arn:aws:logs:us-east-1:000000000000:log-group:" + g.name + ":*"}
		if g.retention > 0 {
			r := g.retention
			lg.RetentionInDays = &r
		}
		out.LogGroups = append(out.LogGroups, lg)
	}
	sort.Slice(out.LogGroups, func(i, j int) bool { return out.LogGroups[i].LogGroupName < out.LogGroups[j].LogGroupName })
	return out, nil
}

type describeLogStreamsIn struct {
	LogGroupName        *string `json:"logGroupName"`
	LogStreamNamePrefix *string `json:"logStreamNamePrefix"`
}

type logStreamOut struct {
	LogStreamName       string `json:"logStreamName"`
	CreationTime        int64  `json:"creationTime"`
	FirstEventTimestamp *int64 `json:"firstEventTimestamp,omitempty"`
	LastEventTimestamp  *int64 `json:"lastEventTimestamp,omitempty"`
}

func (s *Server) describeLogStreams(body []byte) (any, *apiError) {
	var in describeLogStreamsIn
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, &apiError{400, "SerializationException", err.Error()}
	}
	if e := checkGroupName(in.LogGroupName, false); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.groups[*in.LogGroupName]
	if !ok {
		return nil, notFound("log group")
	}
	out := struct {
		LogStreams []logStreamOut `json:"logStreams"`
	}{LogStreams: []logStreamOut{}}
	for n, st := range g.streams {
		if in.LogStreamNamePrefix != nil && !strings.HasPrefix(n, *in.LogStreamNamePrefix) {
			continue
		}
		ls := logStreamOut{LogStreamName: n, CreationTime: st.created}
		if st.count > 0 {
			f, l := st.first, st.last
			ls.FirstEventTimestamp, ls.LastEventTimestamp = &f, &l
		}
		out.LogStreams = append(out.LogStreams, ls)
	}
	sort.Slice(out.LogStreams, func(i, j int) bool { return out.LogStreams[i].LogStreamName < out.LogStreams[j].LogStreamName })
	return out, nil
}

type getLogEventsIn struct {
	LogGroupName  *string `json:"logGroupName"`
	LogStreamName *string `json:"logStreamName"`
}

type outputLogEvent struct {
	Timestamp     int64  `json:"timestamp"`
	Message       string `json:"message"`
	IngestionTime int64  `json:"ingestionTime"`
}

// getLogEvents returns every event of the stream sorted by timestamp (as
// CloudWatch reads them), in one page.
func (s *Server) getLogEvents(body []byte) (any, *apiError) {
	var in getLogEventsIn
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, &apiError{400, "SerializationException", err.Error()}
	}
	if e := checkGroupName(in.LogGroupName, false); e != nil {
		return nil, e
	}
	if e := checkStreamName(in.LogStreamName); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.groups[*in.LogGroupName]
	if !ok {
		return nil, notFound("log group")
	}
	st, ok := g.streams[*in.LogStreamName]
	if !ok {
		return nil, notFound("log stream")
	}
	evs := slices.Clone(st.events)
	slices.SortStableFunc(evs, func(a, b Event) int { return cmp.Compare(a.Timestamp, b.Timestamp) })
	out := struct {
		Events            []outputLogEvent `json:"events"`
		NextForwardToken  string           `json:"nextForwardToken"`
		NextBackwardToken string           `json:"nextBackwardToken"`
	}{Events: make([]outputLogEvent, 0, len(evs)), NextForwardToken: "f/end", NextBackwardToken: "b/start"}
	for _, e := range evs {
		out.Events = append(out.Events, outputLogEvent(e))
	}
	return out, nil
}
