package cwdouble_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/starmates/logshipd/internal/sink/cloudwatch/cwdouble"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"))
}

type answer struct {
	status  int
	errType string
	body    map[string]any
}

func newServer(t *testing.T, now time.Time) (*cwdouble.Server, string) {
	d := cwdouble.New(cwdouble.Options{Now: func() time.Time { return now }})
	srv := httptest.NewServer(d)
	t.Cleanup(srv.Close)
	return d, srv.URL
}

// raw sends one JSON 1.1 request the way the SDK does; mut may spoil it.
func raw(t *testing.T, url, op string, body any, mut ...func(*http.Request)) answer {
	t.Helper()
	var buf []byte
	switch b := body.(type) {
	case string:
		buf = []byte(b)
	default:
		var err error
		buf, err = json.Marshal(body)
		require.NoError(t, err)
	}
	req, err := http.NewRequest(http.MethodPost, url+"/", bytes.NewReader(buf))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "Logs_20140328."+op)
	req.Header.Set("X-Amz-Date", "20261125T000000Z")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20261125/us-east-1/logs/aws4_request, SignedHeaders=host, Signature=00")
	for _, f := range mut {
		f(req)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode, errType: resp.Header.Get("X-Amzn-ErrorType")}
	_ = json.NewDecoder(resp.Body).Decode(&a.body)
	if a.errType != "" {
		require.Equal(t, a.errType, a.body["__type"], "header and body agree")
		require.NotEmpty(t, a.body["message"])
	}
	return a
}

type ev struct {
	Timestamp int64  `json:"timestamp"`
	Message   string `json:"message"`
}

func put(group, stream string, evs ...ev) map[string]any {
	return map[string]any{"logGroupName": group, "logStreamName": stream, "logEvents": evs}
}

func TestEnvelope(t *testing.T) {
	_, url := newServer(t, time.Now())
	for _, tc := range []struct {
		name   string
		mut    func(*http.Request)
		status int
		code   string
	}{
		{"wrong method", func(r *http.Request) { r.Method = http.MethodGet }, 404, "UnknownOperationException"},
		{"wrong path", func(r *http.Request) { r.URL.Path = "/x" }, 404, "UnknownOperationException"},
		{"content type", func(r *http.Request) { r.Header.Set("Content-Type", "application/json") }, 400, "SerializationException"},
		{"no auth", func(r *http.Request) { r.Header.Del("Authorization") }, 400, "MissingAuthenticationTokenException"},
		{"no date", func(r *http.Request) { r.Header.Del("X-Amz-Date") }, 400, "MissingAuthenticationTokenException"},
		{"target", func(r *http.Request) { r.Header.Set("X-Amz-Target", "Logs.CreateLogGroup") }, 400, "UnknownOperationException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := raw(t, url, "CreateLogGroup", map[string]any{"logGroupName": "g"}, tc.mut)
			assert.Equal(t, tc.status, a.status)
			assert.Equal(t, tc.code, a.errType)
		})
	}
	a := raw(t, url, "DeleteEverything", map[string]any{})
	assert.Equal(t, "UnknownOperationException", a.errType)
	a = raw(t, url, "CreateLogGroup", map[string]any{"logGroupName": "g", "bogus": 1})
	assert.Equal(t, "SerializationException", a.errType, "unknown fields are refused")
	a = raw(t, url, "CreateLogGroup", `{"logGroupName":`)
	assert.Equal(t, "SerializationException", a.errType)
}

func TestNames(t *testing.T) {
	d, url := newServer(t, time.Now())
	for _, tc := range []struct {
		group string
		ok    bool
	}{
		{"/a/b-c_d.e#f/G9", true},
		{strings.Repeat("g", 512), true},
		{strings.Repeat("g", 513), false},
		{"", false},
		{"a b", false},
		{"a:b", false},
		{"é", false},
		{"aws/lambda/x", false},
		{"/aws/lambda/x", true},
	} {
		a := raw(t, url, "CreateLogGroup", map[string]any{"logGroupName": tc.group})
		if tc.ok {
			assert.Equal(t, 200, a.status, "%q: %v", tc.group, a.body)
		} else {
			assert.Equal(t, "InvalidParameterException", a.errType, "%q", tc.group)
		}
	}
	d.CreateLogGroup("g", "", 0)
	for _, tc := range []struct {
		stream string
		ok     bool
	}{
		{"host/src/var/log/x.log", true},
		{strings.Repeat("é", 512), true},
		{strings.Repeat("é", 513), false},
		{"", false},
		{"a:b", false},
		{"a*b", false},
	} {
		a := raw(t, url, "CreateLogStream", map[string]any{"logGroupName": "g", "logStreamName": tc.stream})
		if tc.ok {
			assert.Equal(t, 200, a.status, "%q: %v", tc.stream, a.body)
		} else {
			assert.Equal(t, "InvalidParameterException", a.errType, "%q", tc.stream)
		}
	}
	// Names are checked on PutLogEvents too.
	a := raw(t, url, "PutLogEvents", put("g", "a:b", ev{1, "x"}))
	assert.Equal(t, "InvalidParameterException", a.errType)
	a = raw(t, url, "PutLogEvents", put("g g", "s", ev{1, "x"}))
	assert.Equal(t, "InvalidParameterException", a.errType)
}

func TestControlPlane(t *testing.T) {
	d, url := newServer(t, time.Now())
	a := raw(t, url, "CreateLogStream", map[string]any{"logGroupName": "g", "logStreamName": "s"})
	assert.Equal(t, "ResourceNotFoundException", a.errType)
	assert.Equal(t, 400, a.status)
	a = raw(t, url, "CreateLogGroup", map[string]any{"logGroupName": "g"})
	require.Equal(t, 200, a.status)
	gi, _ := d.Group("g")
	assert.Equal(t, "STANDARD", gi.Class, "default class")
	a = raw(t, url, "CreateLogGroup", map[string]any{"logGroupName": "g"})
	assert.Equal(t, "ResourceAlreadyExistsException", a.errType)
	a = raw(t, url, "CreateLogGroup", map[string]any{"logGroupName": "h", "logGroupClass": "CHEAP"})
	assert.Equal(t, "InvalidParameterException", a.errType)
	a = raw(t, url, "CreateLogGroup", map[string]any{"logGroupName": "h", "logGroupClass": "INFREQUENT_ACCESS"})
	require.Equal(t, 200, a.status)
	gi, _ = d.Group("h")
	assert.Equal(t, "INFREQUENT_ACCESS", gi.Class)
	d.SetGroupLimit(2)
	a = raw(t, url, "CreateLogGroup", map[string]any{"logGroupName": "i"})
	assert.Equal(t, "LimitExceededException", a.errType)

	for _, days := range []int{0, 2, 4000} {
		a = raw(t, url, "PutRetentionPolicy", map[string]any{"logGroupName": "g", "retentionInDays": days})
		assert.Equal(t, "InvalidParameterException", a.errType, days)
	}
	a = raw(t, url, "PutRetentionPolicy", map[string]any{"logGroupName": "nope", "retentionInDays": 7})
	assert.Equal(t, "ResourceNotFoundException", a.errType)
	a = raw(t, url, "PutRetentionPolicy", map[string]any{"logGroupName": "g", "retentionInDays": 1096})
	require.Equal(t, 200, a.status)
	gi, _ = d.Group("g")
	assert.Equal(t, 1096, gi.RetentionDays)

	a = raw(t, url, "CreateLogStream", map[string]any{"logGroupName": "g", "logStreamName": "s"})
	require.Equal(t, 200, a.status)
	a = raw(t, url, "CreateLogStream", map[string]any{"logGroupName": "g", "logStreamName": "s"})
	assert.Equal(t, "ResourceAlreadyExistsException", a.errType)
	assert.Equal(t, 2, d.Errors("ResourceAlreadyExistsException"))
}

func TestPutLogEventsRules(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	ms := now.UnixMilli()
	d, url := newServer(t, now)
	d.CreateLogGroup("g", "", 0)
	require.NoError(t, d.CreateLogStream("g", "s"))
	n := func(count int) []ev {
		out := make([]ev, count)
		for i := range out {
			out[i] = ev{ms, "x"}
		}
		return out
	}
	sized := func(sizes ...int) []ev {
		var out []ev
		for _, s := range sizes {
			out = append(out, ev{ms, strings.Repeat("a", s)})
		}
		return out
	}
	const hour = int64(time.Hour / time.Millisecond)
	for _, tc := range []struct {
		name   string
		evs    []ev
		code   string // "" → accepted
		stored int
	}{
		{"no events", nil, "InvalidParameterException", 0},
		{"10,000 events", n(10_000), "", 10_000},
		{"10,001 events", n(10_001), "InvalidParameterException", 0},
		{"empty message", []ev{{ms, ""}}, "InvalidParameterException", 0},
		{"max event", sized(1_048_550), "", 1},
		{"event one byte over", sized(1_048_551), "InvalidParameterException", 0},
		{"batch exactly full", sized(524_262, 524_262), "", 2},
		{"batch one byte over", sized(524_262, 524_263), "InvalidParameterException", 0},
		{"multi-byte counted in UTF-8 bytes", []ev{{ms, strings.Repeat("é", 524_276)}}, "InvalidParameterException", 0},
		{"descending", []ev{{ms, "b"}, {ms - 1, "a"}}, "InvalidParameterException", 0},
		{"equal timestamps", []ev{{ms, "a"}, {ms, "b"}}, "", 2},
		{"span exactly 24 h", []ev{{ms - 24*hour, "a"}, {ms, "b"}}, "", 2},
		{"span over 24 h", []ev{{ms - 24*hour - 1, "a"}, {ms, "b"}}, "InvalidParameterException", 0},
		{"span counts valid events only", []ev{{ms - 20*24*hour, "old"}, {ms - 23*hour, "a"}, {ms + hour, "b"}, {ms + 30*hour, "new"}}, "", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := d.EventCount()
			a := raw(t, url, "PutLogEvents", put("g", "s", tc.evs...))
			if tc.code == "" {
				require.Equal(t, 200, a.status, "%v", a.body)
			} else {
				require.Equal(t, 400, a.status)
				require.Equal(t, tc.code, a.errType)
			}
			assert.Equal(t, tc.stored, d.EventCount()-before, "a refused call stores nothing")
		})
	}
	a := raw(t, url, "PutLogEvents", map[string]any{"logGroupName": "g", "logStreamName": "s", "logEvents": []map[string]any{{"message": "no ts"}}})
	assert.Equal(t, "InvalidParameterException", a.errType)
	a = raw(t, url, "PutLogEvents", put("nope", "s", ev{ms, "x"}))
	assert.Equal(t, "ResourceNotFoundException", a.errType)
	assert.Contains(t, a.body["message"], "log group")
	a = raw(t, url, "PutLogEvents", put("g", "nope", ev{ms, "x"}))
	assert.Equal(t, "ResourceNotFoundException", a.errType)
	assert.Contains(t, a.body["message"], "log stream")
	// The (ignored) sequence token is accepted.
	a = raw(t, url, "PutLogEvents", map[string]any{"logGroupName": "g", "logStreamName": "s", "sequenceToken": "stale", "logEvents": []ev{{ms, "x"}}})
	assert.Equal(t, 200, a.status)
}

func TestRejectedLogEventsInfo(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	ms := now.UnixMilli()
	const day = int64(24 * time.Hour / time.Millisecond)
	const hour = day / 24
	d, url := newServer(t, now)
	d.CreateLogGroup("g", "", 3)
	require.NoError(t, d.CreateLogStream("g", "s"))
	a := raw(t, url, "PutLogEvents", put("g", "s",
		ev{ms - 15*day, "old0"}, ev{ms - 14*day - 1, "old1"},
		ev{ms - 10*day, "exp2"}, ev{ms - 3*day - 1, "exp3"},
		ev{ms - 20*hour, "ok4"}, ev{ms + 2*hour, "ok5"},
		ev{ms + 2*hour + 1, "new6"}, ev{ms + 3*hour, "new7"},
	))
	require.Equal(t, 200, a.status, "%v", a.body)
	info := a.body["rejectedLogEventsInfo"].(map[string]any)
	assert.Equal(t, map[string]any{"tooOldLogEventEndIndex": 2.0, "expiredLogEventEndIndex": 4.0, "tooNewLogEventStartIndex": 6.0}, info)
	evs := d.Events("g", "s")
	require.Len(t, evs, 2)
	assert.Equal(t, "ok4", evs[0].Message)
	assert.Equal(t, "ok5", evs[1].Message)

	// Only the too-new suffix.
	a = raw(t, url, "PutLogEvents", put("g", "s", ev{ms, "ok"}, ev{ms + 5*hour, "new"}))
	assert.Equal(t, map[string]any{"tooNewLogEventStartIndex": 1.0}, a.body["rejectedLogEventsInfo"])
	// Nothing rejected: no rejectedLogEventsInfo.
	a = raw(t, url, "PutLogEvents", put("g", "s", ev{ms, "ok"}))
	assert.NotContains(t, a.body, "rejectedLogEventsInfo")
}

func TestFaults(t *testing.T) {
	d, url := newServer(t, time.Now())
	d.CreateLogGroup("g", "", 0)
	require.NoError(t, d.CreateLogStream("g", "s"))
	ok := put("g", "s", ev{time.Now().UnixMilli(), "x"})
	d.InjectAfter("PutLogEvents", 1, cwdouble.Throttle, 2)
	d.Inject("PutLogEvents", cwdouble.Unavailable, 1)
	d.Inject("PutLogEvents", cwdouble.Invalid, 1)
	assert.Equal(t, 200, raw(t, url, "PutLogEvents", ok).status)
	for range 2 {
		a := raw(t, url, "PutLogEvents", ok)
		assert.Equal(t, 400, a.status)
		assert.Equal(t, "ThrottlingException", a.errType)
	}
	a := raw(t, url, "PutLogEvents", ok)
	assert.Equal(t, 500, a.status)
	assert.Equal(t, "ServiceUnavailableException", a.errType)
	a = raw(t, url, "PutLogEvents", ok)
	assert.Equal(t, "InvalidParameterException", a.errType)
	assert.Equal(t, 200, raw(t, url, "PutLogEvents", ok).status)
	assert.Equal(t, 2, d.EventCount())
	assert.Equal(t, 0, d.PendingFaults())

	d.Inject("", cwdouble.LostResponse, 1)
	a = raw(t, url, "PutLogEvents", ok)
	assert.Equal(t, 500, a.status)
	assert.Equal(t, 3, d.EventCount(), "applied, answer lost")
	assert.Equal(t, 7, d.Calls("PutLogEvents"))
}

func sdkClient(url string) *cloudwatchlogs.Client {
	return cloudwatchlogs.New(cloudwatchlogs.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		Retryer:      aws.NopRetryer{},
	})
}

// TestRealSDK checks the double's answers decode into the SDK's modeled
// types: the errors the sink classifies and the fields it reads.
func TestRealSDK(t *testing.T) {
	now := time.Now()
	d, url := newServer(t, now)
	c := sdkClient(url)
	ctx := t.Context()
	g, s := "/ai-teams/prod/api", "host/app"
	msg := func(m string) *string { return &m }
	ts := func(t time.Time) *int64 { v := t.UnixMilli(); return &v }
	in := &cloudwatchlogs.PutLogEventsInput{LogGroupName: &g, LogStreamName: &s, LogEvents: []types.InputLogEvent{
		{Timestamp: ts(now.Add(-15 * 24 * time.Hour)), Message: msg("old")},
		{Timestamp: ts(now), Message: msg("ok")},
		{Timestamp: ts(now.Add(3 * time.Hour)), Message: msg("new")},
	}}
	_, err := c.PutLogEvents(ctx, in)
	var rnf *types.ResourceNotFoundException
	require.ErrorAs(t, err, &rnf)

	_, err = c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: &g, LogGroupClass: types.LogGroupClassStandard})
	require.NoError(t, err)
	_, err = c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: &g})
	var exists *types.ResourceAlreadyExistsException
	require.ErrorAs(t, err, &exists)
	_, err = c.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: &g, RetentionInDays: aws.Int32(14)})
	require.NoError(t, err)
	_, err = c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: &g, LogStreamName: &s})
	require.NoError(t, err)

	out, err := c.PutLogEvents(ctx, in)
	require.NoError(t, err)
	require.NotNil(t, out.RejectedLogEventsInfo)
	assert.Equal(t, int32(1), aws.ToInt32(out.RejectedLogEventsInfo.TooOldLogEventEndIndex))
	assert.Equal(t, int32(2), aws.ToInt32(out.RejectedLogEventsInfo.TooNewLogEventStartIndex))
	assert.Nil(t, out.RejectedLogEventsInfo.ExpiredLogEventEndIndex)

	d.ThrottleNext(1)
	_, err = c.PutLogEvents(ctx, in)
	var th *types.ThrottlingException
	require.ErrorAs(t, err, &th)
	d.UnavailableNext(1)
	_, err = c.PutLogEvents(ctx, in)
	var su *types.ServiceUnavailableException
	require.ErrorAs(t, err, &su)
	bad := *in
	bad.LogEvents = []types.InputLogEvent{in.LogEvents[1], in.LogEvents[0]}
	_, err = c.PutLogEvents(ctx, &bad)
	var ip *types.InvalidParameterException
	require.ErrorAs(t, err, &ip)
	d.Inject("PutLogEvents", cwdouble.Reset, 1)
	_, err = c.PutLogEvents(ctx, in)
	require.Error(t, err)
	assert.False(t, errors.As(err, &ip))

	lg, err := c.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/ai-teams")})
	require.NoError(t, err)
	require.Len(t, lg.LogGroups, 1)
	assert.Equal(t, types.LogGroupClassStandard, lg.LogGroups[0].LogGroupClass)
	assert.Equal(t, int32(14), aws.ToInt32(lg.LogGroups[0].RetentionInDays))
	ls, err := c.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: &g})
	require.NoError(t, err)
	require.Len(t, ls.LogStreams, 1)
	assert.Equal(t, s, aws.ToString(ls.LogStreams[0].LogStreamName))
	ge, err := c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: &g, LogStreamName: &s, StartFromHead: aws.Bool(true)})
	require.NoError(t, err)
	require.Len(t, ge.Events, 1)
	assert.Equal(t, "ok", aws.ToString(ge.Events[0].Message))
	assert.Equal(t, now.UnixMilli(), aws.ToInt64(ge.Events[0].Timestamp))
}
