package loki

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/grafana/loki/pkg/push"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/starmates/logshipd/internal/event"
)

func TestTruncateLine(t *testing.T) {
	markerRE := regexp.MustCompile(` \[truncated (\d+) bytes\]`)
	for _, tc := range []struct {
		name  string
		line  string
		limit int
		json  bool // result must stay valid JSON
	}{
		{"short", `{"message":"hi"}`, 1024, true},
		{"one long string", `{"message":"` + strings.Repeat("a", 5000) + `","level":"INFO"}`, 1024, true},
		{"twins share", `{"message":"` + strings.Repeat("b", 3000) + `","@message":"` + strings.Repeat("b", 3000) + `"}`, 1024, true},
		{"escapes kept whole", `{"message":"` + strings.Repeat(`\"\u00e9\\`, 700) + `"}`, 1024, true},
		{"utf8 kept whole", `{"message":"` + strings.Repeat("日本語", 700) + `"}`, 1024, true},
		{"nested and arrays", `{"a":{"b":["` + strings.Repeat("c", 4000) + `",1,true,null]},"d":"e"}`, 1024, true},
		{"keys are not cut", `{"` + strings.Repeat("k", 3000) + `":1}`, 1024, false},
		{"many short values", `{` + strings.Repeat(`"k":"vvvv",`, 300) + `"z":1}`, 1024, false},
		{"not json", strings.Repeat("plain text ✓ ", 500), 1024, false},
		{"truncated json", `{"message":"` + strings.Repeat("a", 5000), 1024, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, removed := truncateLine([]byte(tc.line), tc.limit)
			assert.LessOrEqual(t, len(out), tc.limit)
			assert.True(t, utf8.Valid(out))
			if len(tc.line) <= tc.limit {
				assert.Equal(t, tc.line, string(out))
				assert.Zero(t, removed)
				return
			}
			ms := markerRE.FindAllStringSubmatch(string(out), -1)
			require.NotEmpty(t, ms, "marker in %q", out)
			sum := 0
			for _, m := range ms {
				n, _ := strconv.Atoi(m[1])
				sum += n
			}
			assert.Equal(t, removed, sum, "markers add up to the bytes removed")
			kept := len(markerRE.ReplaceAllString(string(out), ""))
			assert.Equal(t, len(tc.line), kept+removed, "removed = original - kept")
			if tc.json {
				assert.True(t, json.Valid(out), "valid JSON: %s", out)
				assert.Greater(t, len(out), tc.limit-2*markerMax-8, "close to the limit")
			}
		})
	}
	var twin map[string]string
	out, _ := truncateLine([]byte(`{"message":"`+strings.Repeat("b", 3000)+`","@message":"`+strings.Repeat("b", 3000)+`"}`), 1024)
	require.NoError(t, json.Unmarshal(out, &twin))
	assert.Equal(t, twin["message"], twin["@message"])
}

func TestStringValues(t *testing.T) {
	line := `{"a":"x","b":{"c":"yy","d":[1,"zzz",{"e":"w"}]},"f":2}`
	spans, ok := stringValues([]byte(line))
	require.True(t, ok)
	var got []string
	for _, s := range spans {
		got = append(got, line[s.start:s.end])
	}
	assert.Equal(t, []string{"x", "yy", "zzz", "w"}, got)
	for _, bad := range []string{``, `"x"`, `{"a":1}}`, `{"a":1}{}`, `[}`, `{"a":"b`} {
		_, ok := stringValues([]byte(bad))
		assert.False(t, ok, bad)
	}
}

// testPush builds a push plan with one stream per label set; entry i of a
// stream is at ts[i] and has a line of length lens[i].
func testPush(streams map[string][]time.Time) *pushPlan {
	pp := &pushPlan{}
	item := 0
	for _, labels := range []string{`{service="api"}`, `{level="ERROR", service="api"}`, `{service="web"}`} {
		tss, ok := streams[labels]
		if !ok {
			continue
		}
		st := push.Stream{Labels: labels}
		var items []int
		for i, ts := range tss {
			st.Entries = append(st.Entries, push.Entry{Timestamp: ts, Line: strings.Repeat("l", 10*(i+1))})
			items = append(items, item)
			item++
		}
		pp.req.Streams = append(pp.req.Streams, st)
		pp.items = append(pp.items, items)
		pp.entries += len(items)
	}
	return pp
}

func TestAttribute(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 123456789, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	three := []time.Time{at(0), at(10), at(20)}
	both := map[string][]time.Time{`{service="api"}`: three, `{service="web"}`: three}
	for _, tc := range []struct {
		name    string
		streams map[string][]time.Time
		body    string
		want    []string // reason per entry, push order; nil: not attributable
	}{
		{
			"ingester too far behind (Loki 3)", both,
			fmt.Sprintf("entry with timestamp %s ignored, reason: 'entry too far behind, entry timestamp is: %s, oldest acceptable timestamp is: %s',\nuser 'fake', total ignored: 1 out of 3 for stream: {service=\"web\"}",
				at(0).String(), at(0).Format(time.RFC3339), at(5).Format(time.RFC3339)),
			[]string{"", "", "", "out_of_order", "", ""},
		},
		{
			"ingester out of order (Loki 2 format)", both,
			fmt.Sprintf("entry with timestamp %s ignored, reason: 'entry out of order' for stream: {service=\"api\"},\nentry with timestamp %s ignored, reason: 'entry out of order' for stream: {service=\"api\"},\ntotal ignored: 2 out of 3",
				at(0).String(), at(10).String()),
			[]string{"out_of_order", "out_of_order", "", "", "", ""},
		},
		{
			"ingester list cut at 10 (count not covered)", both,
			fmt.Sprintf("entry with timestamp %s ignored, reason: 'entry out of order' for stream: {service=\"api\"},\ntotal ignored: 3 out of 3", at(0).String()),
			nil,
		},
		{
			"too old with cutoff, grouped, extra service_name label", both,
			fmt.Sprintf("4 errors like: entry for stream '{service=\"web\", service_name=\"web\"}' has timestamp too old: %v, oldest acceptable timestamp is: %v", at(0), at(15)),
			[]string{"too_old", "too_old", "", "too_old", "too_old", ""},
		},
		{
			"too old, Loki 2 (no cutoff)", both,
			fmt.Sprintf("entry for stream '{service=\"api\"}' has timestamp too old: %s", at(10).Format(time.RFC3339)),
			[]string{"too_old", "too_old", "", "too_old", "too_old", ""},
		},
		{
			"too new", both,
			fmt.Sprintf("entry for stream '{service=\"api\"}' has timestamp too new: %v", at(20)),
			[]string{"", "", "too_new", "", "", "too_new"},
		},
		{
			"line too long", both,
			"2 errors like: Max entry size '25' bytes exceeded for stream '{service=\"web\"}' while adding an entry with length '30' bytes",
			[]string{"", "", "line_too_long", "", "", "line_too_long"},
		},
		{
			"count not covered", both,
			"5 errors like: Max entry size '25' bytes exceeded for stream '{service=\"web\"}' while adding an entry with length '30' bytes",
			nil,
		},
		{
			"invalid labels picks the best stream", map[string][]time.Time{`{service="api"}`: three, `{level="ERROR", service="api"}`: three},
			"stream '{level=\"ERROR\", service=\"api\", service_name=\"api\"}' has label value too long: 'x'",
			[]string{"", "", "", "invalid_labels", "invalid_labels", "invalid_labels"},
		},
		{"unknown text", both, "error at least one label pair is required per stream", nil},
		{"unknown stream", both, fmt.Sprintf("entry with timestamp %s ignored, reason: 'entry out of order' for stream: {service=\"db\"},", at(0).String()), nil},
		{"empty", both, "", nil},
		{"nothing matched", both, fmt.Sprintf("entry for stream '{service=\"api\"}' has timestamp too new: %v", at(99)), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, ok := attribute(testPush(tc.streams), tc.body)
			if tc.want == nil {
				assert.False(t, ok)
				return
			}
			require.True(t, ok)
			assert.Equal(t, tc.want, a.reason)
		})
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"": 0, "3": 3 * time.Second, "1.5": 1500 * time.Millisecond, "-4": 0, "junk": 0, "99999": 10 * time.Minute,
		now.Add(20 * time.Second).Format(http.TimeFormat): 20 * time.Second,
	} {
		assert.Equal(t, want, retryAfter(http.Header{"Retry-After": {v}}, now), v)
	}
}

func TestParseLabels(t *testing.T) {
	m, ok := parseLabels(`{a="x", b="q\"uo\\te",c="é"}`)
	require.True(t, ok)
	assert.Equal(t, map[string]string{"a": "x", "b": `q"uo\te`, "c": "é"}, m)
	for _, bad := range []string{``, `a="x"`, `{a=x}`, `{a="x" b="y"}`, `{a}`} {
		_, ok := parseLabels(bad)
		assert.False(t, ok, bad)
	}
	m, ok = parseLabels(`{}`)
	assert.True(t, ok)
	assert.Empty(t, m)
}

func TestConfigValidate(t *testing.T) {
	ok := testConfig("http://loki:3100/loki/api/v1/push")
	require.NoError(t, ok.Validate())

	for _, tc := range []struct {
		name string
		mod  func(c *Config)
		want string
	}{
		{"no url", func(c *Config) { c.URL = "" }, "url: required"},
		{"bad url", func(c *Config) { c.URL = "loki:3100" }, "absolute http(s) URL"},
		{"tracking_id label", func(c *Config) { c.Labels = append(c.Labels, "tracking_id") }, `"tracking_id" is a high-cardinality field`},
		{"user.id label", func(c *Config) { c.Labels = append(c.Labels, "uid=user.id") }, `"user.id" is a high-cardinality field`},
		{"request.path label", func(c *Config) { c.Labels = append(c.Labels, "request.path") }, "high-cardinality"},
		{"message label", func(c *Config) { c.Labels = append(c.Labels, "message") }, "high-cardinality"},
		{"timestamp label", func(c *Config) { c.Labels = append(c.Labels, "@timestamp") }, "high-cardinality"},
		{"unknown label field", func(c *Config) { c.Labels = append(c.Labels, "request.method") }, "not a label field"},
		{"bad label name", func(c *Config) { c.Labels = []string{"1svc=service"} }, `label name "1svc" is invalid`},
		{"reserved label name", func(c *Config) { c.Labels = []string{"__svc=service"} }, "invalid"},
		{"duplicate label name", func(c *Config) { c.Labels = []string{"service", "service=project"} }, "used twice"},
		{"no labels", func(c *Config) { c.Labels = nil }, "at least one label"},
		{"bad static label", func(c *Config) { c.StaticLabels = map[string]string{"a-b": "x"} }, `"a-b" is invalid`},
		{"static label clash", func(c *Config) { c.StaticLabels = map[string]string{"service": "x"} }, "used twice"},
		{"bad metadata name", func(c *Config) { c.StructuredMetadata = []string{"a-b=user.id"} }, "invalid"},
		{"bad metadata path", func(c *Config) { c.StructuredMetadata = []string{"x=a.#"} }, "dotted path"},
		{"basic and bearer", func(c *Config) { c.Username, c.BearerToken = "u", "t" }, "exclusive"},
		{"password without user", func(c *Config) { c.Password = "p" }, "needs username"},
		{"missing ca file", func(c *Config) { c.TLS.CAFile = "/nonexistent/ca.pem" }, "tls.ca_file"},
		{"cert without key", func(c *Config) { c.TLS.CertFile = "/etc/hostname" }, "set both"},
		{"reserved header", func(c *Config) { c.Headers = map[string]string{"content-type": "x"} }, "set by the sink"},
		{"bad header", func(c *Config) { c.Headers = map[string]string{"a b": "x"} }, "not a valid header"},
		{"timeout", func(c *Config) { c.Timeout = 0 }, "timeout"},
		{"push too small", func(c *Config) { c.MaxPushBytes = c.MaxLineBytes }, "max_push_bytes"},
		{"line too small", func(c *Config) { c.MaxLineBytes = 10 }, "max_line_bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := testConfig("http://loki:3100/loki/api/v1/push")
			tc.mod(&c)
			err := c.Validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			for _, line := range strings.Split(err.Error(), "\n") {
				assert.NotEmpty(t, line)
			}
		})
	}
}

func TestConfigYAML(t *testing.T) {
	c := DefaultConfig()
	dec := yaml.NewDecoder(strings.NewReader(`
url: https://logs.example/loki/api/v1/push
tenant_id: "12"
labels: [service_name=service, environment, level]
static_labels: {cluster: eu-1}
structured_metadata: [tracking_id, trace_id, user.id]
bearer_token: abc
tls: {insecure_skip_verify: true}
timeout: 5s
headers: {X-Team: core}
max_push_bytes: 2097152
max_line_bytes: 65536
reject_old_after: 72h
creation_grace_period: 5m
`))
	dec.KnownFields(true)
	require.NoError(t, dec.Decode(&c))
	require.NoError(t, c.Validate())
	assert.Equal(t, 5*time.Second, c.Timeout)
	assert.Equal(t, 72*time.Hour, c.RejectOldAfter)
	assert.Equal(t, []labelSlot{{name: "cluster", static: "eu-1"}, {name: "environment", from: fEnvironment}, {name: "level", from: fLevel}, {name: "service_name", from: fService}}, compileLabels(&c))
	assert.Equal(t, []metaSpec{{name: "tracking_id", from: fTrackingID, path: "tracking_id"}, {name: "trace_id", from: fTraceID, path: "trace_id"}, {name: "user_id", from: fPath, path: "user.id"}}, compileMeta(&c))
}

func TestMetadataFromRecordPaths(t *testing.T) {
	assert.Equal(t, `\@timestamp`, escapePath("@timestamp"))
	assert.Equal(t, "user.id", escapePath("user.id"))
	c := testConfig("http://x/")
	c.StructuredMetadata = []string{"@timestamp", "status=response.status", "nested=request", "missing", "service", "lvl=level"}
	s, err := New(c, nil, nil)
	require.NoError(t, err)
	r := genRecs(1, base, 0)[0].record()
	r.JSON = []byte(`{"@timestamp":"2026-11-25T12:00:00.000Z","response":{"status":200},"request":{"a":1},"missing":null}`)
	b := &event.Batch{}
	b.Append(&r, "app", "stdout")
	p := s.buildPlan(b)
	require.Len(t, p.pushes, 1)
	md := p.pushes[0].req.Streams[0].Entries[0].StructuredMetadata
	assert.Equal(t, push.LabelsAdapter{
		{Name: "timestamp", Value: "2026-11-25T12:00:00.000Z"}, {Name: "status", Value: "200"},
		{Name: "nested", Value: `{"a":1}`}, {Name: "service", Value: "api"}, {Name: "lvl", Value: "DEBUG"},
	}, md)
}
