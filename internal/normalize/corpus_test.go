package normalize

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/starmates/logshipd/internal/event"
	"github.com/starmates/logshipd/internal/ingest"
	"github.com/starmates/logshipd/internal/schematest"
)

// expectFile mirrors the corpus' <sample>.expect.json (see its README).
type expectFile struct {
	File          string                     `json:"file"`
	Bytes         int                        `json:"bytes"`
	SHA256        string                     `json:"sha256"`
	Records       int                        `json:"records"`
	Levels        map[string]int             `json:"levels"`
	HTTP          expectHTTP                 `json:"http"`
	TrackingIDs   []string                   `json:"tracking_ids"`
	TraceIDs      []string                   `json:"trace_ids"`
	Time          map[string]json.RawMessage `json:"time"`
	SampleRecords []struct {
		Line     int64                      `json:"line"`
		LastLine int64                      `json:"last_line"`
		Expect   map[string]json.RawMessage `json:"expect"`
	} `json:"sample_records"`
	ContainerEntries *int `json:"container_entries"`
}

type expectHTTP struct {
	WithMethod   int            `json:"records_with_method"`
	WithPath     int            `json:"records_with_path"`
	WithStatus   int            `json:"records_with_status"`
	MethodCounts map[string]int `json:"method_counts"`
	StatusCounts map[string]int `json:"status_counts"`
}

// corpusDirs lists the sample folders: the copy in testdata (always) and
// the shared corpus when present (it may hold newer samples).
func corpusDirs() []string {
	dirs := []string{"testdata/corpus"}
	if d := os.Getenv("LOGSHIPD_CORPUS"); d != "" {
		dirs = append(dirs, d)
	} else if st, err := os.Stat("../../../shared/corpus/samples"); err == nil && st.IsDir() {
		dirs = append(dirs, "../../../shared/corpus/samples")
	}
	return dirs
}

type outRecord struct {
	rec  event.Record
	json gjson.Result
}

// runSample normalizes a whole file the way `logshipd normalize` does.
func runSample(t testing.TB, data []byte, cfg Config) []outRecord {
	eng, err := New(cfg, nil)
	require.NoError(t, err)
	var out []outRecord
	st := eng.NewStream(Origin{Kind: "file", Path: "sample"}, func(r *event.Record) {
		c := r.Clone()
		out = append(out, outRecord{rec: *c, json: gjson.ParseBytes(c.JSON)})
	})
	now := time.Date(2026, 11, 25, 23, 0, 0, 0, time.UTC)
	fr := ingest.NewFramer(0)
	fr.Feed(data, func(l []byte) { st.Write(l, now) })
	fr.End(func(l []byte) { st.Write(l, now) })
	st.Flush(now)
	return out
}

func TestCorpus(t *testing.T) {
	seen := map[string]bool{}
	for _, dir := range corpusDirs() {
		exps, err := filepath.Glob(filepath.Join(dir, "*.expect.json"))
		require.NoError(t, err)
		for _, ep := range exps {
			name := strings.TrimSuffix(filepath.Base(ep), ".expect.json")
			if seen[name] {
				continue
			}
			seen[name] = true
			t.Run(name, func(t *testing.T) { checkSample(t, dir, name, ep) })
		}
	}
	require.NotEmpty(t, seen, "no corpus samples found")
}

func checkSample(t *testing.T, dir, name, expPath string) {
	raw, err := os.ReadFile(expPath)
	require.NoError(t, err)
	var exp expectFile
	require.NoError(t, json.Unmarshal(raw, &exp))
	data, err := os.ReadFile(filepath.Join(dir, name))
	require.NoError(t, err)
	sum := sha256.Sum256(data)
	require.Equal(t, exp.SHA256, hex.EncodeToString(sum[:]), "sample was modified")

	cfg := DefaultConfig()
	if tz, ok := exp.Time["source_tz"]; ok {
		var zone string
		if json.Unmarshal(tz, &zone) == nil && zone != "" {
			cfg.Timezone = zone
		}
	}
	recs := runSample(t, data, cfg)
	for _, r := range recs {
		require.NoError(t, schematest.Validate(r.rec.JSON))
	}
	assert.Equal(t, exp.Records, len(recs), "records after multiline joining")

	levels := map[string]int{}
	http := expectHTTP{MethodCounts: map[string]int{}, StatusCounts: map[string]int{}}
	tracking := map[string]bool{}
	traces := map[string]bool{}
	for _, r := range recs {
		j := r.json
		switch {
		case !j.Get("origin.level_raw").Exists():
			levels["NONE"]++
		case j.Get("origin.format").Str == "redis":
			// The expectation script reads level words, not Redis's level
			// marks ('*' notice, '#' warning: server.c), so it counts Redis
			// lines as level-less. Their mapping is checked by the redis
			// golden file and TestRedisParser.
			levels["NONE"]++
		case j.Get("origin.level_unmapped").Bool():
			levels["UNMAPPED"]++
		default:
			levels[j.Get("level").Str]++
		}
		if m := j.Get("request.method"); m.Exists() {
			http.WithMethod++
			http.MethodCounts[m.Str]++
		}
		if j.Get("request.path").Exists() {
			http.WithPath++
		}
		if s := j.Get("response.status"); s.Exists() {
			http.WithStatus++
			http.StatusCounts[s.Raw]++
		}
		if id := j.Get("tracking_id").Str; id != "unknown" {
			tracking[id] = true
		}
		if tr := j.Get("tracing.trace_id"); tr.Exists() {
			traces[tr.Str] = true
		}
	}
	assert.Equal(t, exp.Levels, levels, "records per level")
	if exp.HTTP.MethodCounts == nil {
		exp.HTTP.MethodCounts = map[string]int{}
	}
	if exp.HTTP.StatusCounts == nil {
		exp.HTTP.StatusCounts = map[string]int{}
	}
	assert.Equal(t, exp.HTTP, http, "HTTP facts")
	for _, id := range exp.TrackingIDs {
		assert.True(t, tracking[id], "tracking id %s missing", id)
	}
	allowed := map[string]bool{}
	for _, id := range append(append([]string{}, exp.TrackingIDs...), exp.TraceIDs...) {
		allowed[id] = true
	}
	for id := range tracking {
		assert.True(t, allowed[id], "unexpected tracking id %s", id)
	}
	assert.Equal(t, sortedKeys(setOf(exp.TraceIDs)), sortedKeys(traces), "trace ids")

	byLine := map[int64]outRecord{}
	for _, r := range recs {
		byLine[r.rec.Line] = r
	}
	for _, sr := range exp.SampleRecords {
		r, ok := byLine[sr.Line]
		if !assert.True(t, ok, "no record starts at line %d", sr.Line) {
			continue
		}
		if sr.LastLine > 0 && exp.ContainerEntries == nil {
			assert.EqualValues(t, sr.LastLine-sr.Line+1, r.json.Get("origin.lines").Int(), "line %d: joined lines", sr.Line)
		}
		for key, want := range sr.Expect {
			checkExpect(t, sr.Line, r.json, key, want)
		}
	}
}

func checkExpect(t *testing.T, line int64, j gjson.Result, key string, want json.RawMessage) {
	if string(want) == "null" {
		return // the source has no value: policy decides
	}
	switch key {
	case "message_prefix":
		var p string
		require.NoError(t, json.Unmarshal(want, &p))
		assert.True(t, strings.HasPrefix(j.Get("message").Str, p), "line %d: message %q lacks prefix %q", line, j.Get("message").Str, p)
		return
	case "message_length":
		var n int
		require.NoError(t, json.Unmarshal(want, &n))
		assert.Equal(t, n, utf8.RuneCountInString(j.Get("message").Str), "line %d: message length", line)
		return
	}
	got := j.Get(gjsonPath(key))
	if !assert.True(t, got.Exists(), "line %d: %s missing in %s", line, key, j.Raw) {
		return
	}
	var w any
	require.NoError(t, json.Unmarshal(want, &w))
	var g any
	require.NoError(t, json.Unmarshal([]byte(got.Raw), &g))
	assert.Equal(t, w, g, "line %d: %s", line, key)
}

// gjsonPath escapes '@' so "@timestamp" is a key, not a modifier.
func gjsonPath(key string) string {
	return strings.ReplaceAll(key, "@", `\@`)
}

func setOf(s []string) map[string]bool {
	m := map[string]bool{}
	for _, v := range s {
		m[v] = true
	}
	return m
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var _ = bytes.Equal
