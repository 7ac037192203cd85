package cloudwatch

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	smithy "github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/starmates/logshipd/internal/event"
)

func loadConfig(t *testing.T, name string) (Config, error) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	cfg := DefaultConfig()
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	dec.KnownFields(true)
	require.NoError(t, dec.Decode(&cfg))
	return cfg, cfg.Validate()
}

func TestConfig(t *testing.T) {
	def := DefaultConfig()
	require.NoError(t, def.Validate())
	assert.Equal(t, "/ai-teams/{environment}/{service}", def.LogGroup)
	assert.Equal(t, "{host}/{source}", def.LogStream)
	assert.Equal(t, "{container_name}/{task_id}", def.FireLensLogStream)
	assert.True(t, def.CreateLogGroup)
	assert.Equal(t, "STANDARD", def.LogGroupClass)
	assert.Equal(t, 1_048_550, def.MaxEventBytes)
	assert.Equal(t, 1_048_576, def.MaxBatchBytes)
	assert.Equal(t, 10_000, def.MaxBatchEvents)
	assert.Equal(t, 4, def.Concurrency)

	cfg, err := loadConfig(t, "full.yaml")
	require.NoError(t, err)
	assert.Equal(t, 30, cfg.RetentionDays)
	assert.False(t, cfg.CreateLogGroup)
	assert.Equal(t, 10*time.Second, cfg.RequestTimeout)

	_, err = loadConfig(t, "invalid.yaml")
	require.Error(t, err)
	msg := err.Error()
	for _, want := range []string{"endpoint", "must not start with \"aws/\"", "unknown placeholder {nope}", "unbalanced '{'",
		"retention_days 2", "log_group_class \"DELIVERY\"", "max_event_bytes", "max_batch_bytes", "max_batch_events",
		"concurrency 0", "request_timeout", "throttle_backoff"} {
		assert.Contains(t, msg, want)
	}
	assert.Len(t, strings.Split(msg, "\n"), 12, "every problem reported")

	empty := DefaultConfig()
	empty.LogGroup, empty.LogStream, empty.FireLensLogStream = "", "", ""
	err = empty.Validate()
	assert.ErrorContains(t, err, "log_group: required")
	assert.ErrorContains(t, err, "log_stream: required")
	assert.NotContains(t, err.Error(), "firelens", "empty firelens_log_stream means log_stream for all")
}

func TestTemplates(t *testing.T) {
	for _, bad := range []string{"{", "}", "{x}", "a{service", "a}b"} {
		_, err := parseTemplate(bad)
		assert.Error(t, err, bad)
	}
	tpl, err := parseTemplate("/x/{environment}-{service}/{project}/{source}/{host}/{stream}/{level}/{container_name}/{task_id}")
	require.NoError(t, err)
	assert.True(t, tpl.needsOrigin)
	it := &event.Item{Environment: "prod", Service: "api", Project: "p", Source: "fwd", Stream: "web-firelens-abc", Level: event.LevelError}
	got := string(tpl.render(nil, &nameInput{it: it, host: "h1"}))
	assert.Equal(t, "/x/prod-api/p/fwd/h1/web-firelens-abc/ERROR/web/abc", got)
	it2 := &event.Item{}
	got = string(tpl.render(nil, &nameInput{it: it2, host: "h1", origin: origin{containerName: "/c", taskARN: "arn:aws:ecs:r:1:task/cl/tid"}}))
	assert.Equal(t, "/x/unknown-unknown/unknown/unknown/h1/unknown/unknown/c/tid", got)
	got = string(tpl.render(nil, &nameInput{it: it2, host: "h1", origin: origin{taskARN: "plain"}}))
	assert.True(t, strings.HasSuffix(got, "/unknown/plain"), got)

	o := readOrigin([]byte(`{"a":1,"origin":{"kind":"forward","container_name":"web","ecs_task_arn":"arn:x/t1","format":"json"}}`))
	assert.Equal(t, origin{forward: true, containerName: "web", taskARN: "arn:x/t1"}, o)
	assert.Equal(t, origin{}, readOrigin([]byte(`{"origin":"x"}`)))
	assert.Equal(t, origin{}, readOrigin([]byte(`not json`)))
}

func TestSanitize(t *testing.T) {
	assert.Equal(t, "unknown", SanitizeGroup(""))
	assert.Equal(t, "_aws/x", SanitizeGroup("aws/x"))
	assert.Equal(t, "/aws/x", SanitizeGroup("/aws/x"))
	assert.Equal(t, "a_b__c_", SanitizeGroup("a b:*c\x00"))
	assert.Equal(t, "__", SanitizeGroup("éé"), "one _ per character")
	assert.Len(t, SanitizeGroup(strings.Repeat("a", 600)), 512)
	assert.Len(t, SanitizeGroup("aws/"+strings.Repeat("a", 600)), 512)
	assert.Equal(t, "unknown", SanitizeStream(""))
	assert.Equal(t, "a_b_c", SanitizeStream("a:b*c"))
	assert.Equal(t, "x_y", SanitizeStream("x\xffy"))
	s := SanitizeStream(strings.Repeat("a", 511) + "é")
	assert.Equal(t, strings.Repeat("a", 511), s, "cut at a character boundary")
	assert.True(t, utf8.ValidString(SanitizeStream(strings.Repeat("日本", 300))))
	assert.LessOrEqual(t, len(SanitizeStream(strings.Repeat("日本", 300))), 512)
}

func TestMessage(t *testing.T) {
	m, n := message([]byte(`{"a":1}`), 100)
	assert.Equal(t, `{"a":1}`, m)
	assert.Zero(t, n)
	m, n = message(nil, 100)
	assert.Empty(t, m)
	assert.Zero(t, n)
	exact := strings.Repeat("x", 1024)
	m, n = message([]byte(exact), 1024)
	assert.Equal(t, exact, m)
	assert.Zero(t, n)
	m, _ = message([]byte("a\xffb"), 100)
	assert.Equal(t, "a\uFFFDb", m)

	for _, tc := range []struct {
		in  string
		cap int
	}{
		{strings.Repeat("x", 1025), 1024},
		{strings.Repeat("x", 100_000), 1024},
		{strings.Repeat("é", 1000), 1024},
		{strings.Repeat("日本語", 1000), 1024},
		{strings.Repeat("🙂", 1000), 1030},
		{strings.Repeat("x", 1024) + "\xff\xfe", 1024},
		{strings.Repeat("x", 10_000_000), MaxEventBytes},
	} {
		for shift := range 4 {
			in := strings.Repeat("a", shift) + tc.in
			m, removed := message([]byte(in), tc.cap)
			require.LessOrEqual(t, len(m), tc.cap)
			require.GreaterOrEqual(t, len(m), tc.cap-3, "filled to within one character")
			require.True(t, utf8.ValidString(m))
			i := strings.LastIndex(m, " [truncated ")
			require.Positive(t, i)
			require.Equal(t, fmt.Sprintf(" [truncated %d bytes]", removed), m[i:])
			valid := strings.ToValidUTF8(in, "\uFFFD")
			require.Equal(t, len(valid), i+removed)
			require.True(t, strings.HasPrefix(valid, m[:i]))
		}
	}
}

func TestRejectedItems(t *testing.T) {
	c := &call{items: []int{10, 11, 12, 13, 14, 15}, sizes: []int{1, 2, 3, 4, 5, 6}}
	i32 := func(v int32) *int32 { return &v }
	items, size := rejectedItems(c, &types.RejectedLogEventsInfo{TooOldLogEventEndIndex: i32(1), ExpiredLogEventEndIndex: i32(2), TooNewLogEventStartIndex: i32(5)})
	require.Len(t, items, 3)
	assert.Equal(t, []int{10, 11, 15}, []int{items[0].Index, items[1].Index, items[2].Index})
	assert.Equal(t, []string{"too_old", "expired", "too_new"}, []string{items[0].Reason, items[1].Reason, items[2].Reason})
	assert.Equal(t, 1+2+6, size)
	items, _ = rejectedItems(c, &types.RejectedLogEventsInfo{ExpiredLogEventEndIndex: i32(2)})
	assert.Equal(t, []string{"expired", "expired"}, []string{items[0].Reason, items[1].Reason})
	items, _ = rejectedItems(c, &types.RejectedLogEventsInfo{TooOldLogEventEndIndex: i32(99), TooNewLogEventStartIndex: i32(-3)})
	assert.Len(t, items, 6, "clamped")
	items, size = rejectedItems(c, nil)
	assert.Empty(t, items)
	assert.Zero(t, size)
}

type apiErr struct{ code string }

func (e apiErr) Error() string                 { return e.code }
func (e apiErr) ErrorCode() string             { return e.code }
func (e apiErr) ErrorMessage() string          { return e.code }
func (e apiErr) ErrorFault() smithy.ErrorFault { return smithy.FaultUnknown }

func statusErr(code int) error {
	return &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: code}}, Err: errors.New("x")}}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		err    error
		class  class
		reason string
	}{
		{nil, classOK, ""},
		{apiErr{"ResourceNotFoundException"}, classNotFound, ""},
		{apiErr{"DataAlreadyAcceptedException"}, classOK, ""},
		{apiErr{"InvalidSequenceTokenException"}, classOK, ""},
		{apiErr{"ThrottlingException"}, classThrottled, ""},
		{&types.ThrottlingException{}, classThrottled, ""},
		{apiErr{"ServiceUnavailableException"}, classRetryable, ""},
		{apiErr{"UnrecognizedClientException"}, classRetryable, ""},
		{apiErr{"AccessDeniedException"}, classRetryable, ""},
		{apiErr{"InvalidParameterException"}, classPermanent, "invalid_parameter"},
		{&types.InvalidParameterException{}, classPermanent, "invalid_parameter"},
		{apiErr{"LimitExceededException"}, classPermanent, "limit_exceeded"},
		{statusErr(429), classThrottled, ""},
		{statusErr(503), classRetryable, ""},
		{statusErr(408), classRetryable, ""},
		{statusErr(418), classPermanent, "refused"},
		{fmt.Errorf("dial: %w", errors.New("connection refused")), classRetryable, ""},
		{context.DeadlineExceeded, classRetryable, ""},
	} {
		c, r := classify(tc.err)
		assert.Equal(t, tc.class, c, "%v", tc.err)
		assert.Equal(t, tc.reason, r, "%v", tc.err)
	}
}

// FuzzNamesAndMessage: sanitised names are always valid CloudWatch names,
// and a message never exceeds its cap, stays valid UTF-8 and, when cut,
// carries a marker that counts the removed bytes.
func FuzzNamesAndMessage(f *testing.F) {
	f.Add("aws/my svc:*é", 1024)
	f.Add(strings.Repeat("日本", 400), 1030)
	f.Add("x\xff\xfe", 1024)
	f.Fuzz(func(t *testing.T, s string, evCap int) {
		evCap = 1024 + (evCap&0xffff)%4096
		if len(s) > 2048 {
			s = s[:2048]
		}
		g := SanitizeGroup(s)
		if len(g) < 1 || len(g) > MaxNameLen || hasAWSPrefix(g) {
			t.Fatalf("group %q", g)
		}
		for i := 0; i < len(g); i++ {
			if !groupByteOK(g[i]) {
				t.Fatalf("group %q: byte %q", g, g[i])
			}
		}
		st := SanitizeStream(s)
		if len(st) < 1 || len(st) > MaxNameLen || !utf8.ValidString(st) || strings.ContainsAny(st, ":*") {
			t.Fatalf("stream %q", st)
		}
		in := strings.Repeat(s, 1+2*evCap/(len(s)+1))
		m, removed := message([]byte(in), evCap)
		if len(m) > evCap || !utf8.ValidString(m) {
			t.Fatalf("message of %d bytes (cap %d)", len(m), evCap)
		}
		valid := strings.ToValidUTF8(in, "\uFFFD")
		if removed > 0 {
			i := strings.LastIndex(m, " [truncated ")
			if i < 0 || m[i:] != fmt.Sprintf(" [truncated %d bytes]", removed) || i+removed != len(valid) || valid[:i] != m[:i] {
				t.Fatalf("bad truncation: %q", m[max(0, len(m)-40):])
			}
		} else if m != valid {
			t.Fatal("changed without truncation")
		}
	})
}
