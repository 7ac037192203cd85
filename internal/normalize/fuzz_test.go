package normalize

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"github.com/starmates/logshipd/internal/event"
	"github.com/starmates/logshipd/internal/jsonx"
	"github.com/starmates/logshipd/internal/normalize/parse"
	"github.com/starmates/logshipd/internal/schematest"
)

// seedCorpus adds golden inputs, split into chunks of a few lines.
func seedCorpus(f *testing.F) {
	files, _ := filepath.Glob("testdata/golden/*/*.log")
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		lines := bytes.SplitAfter(data, []byte("\n"))
		for i := 0; i < len(lines); i += 4 {
			f.Add(bytes.Join(lines[i:min(i+4, len(lines))], nil))
		}
	}
}

// checkRecords asserts the invariants every record must hold.
func checkRecords(t *testing.T, cfg Config, data []byte) {
	eng, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	st := eng.NewStream(Origin{Kind: "fuzz"}, func(r *event.Record) {
		if len(r.JSON) > cfg.MaxEventBytes {
			t.Fatalf("record of %d bytes exceeds the cap %d", len(r.JSON), cfg.MaxEventBytes)
		}
		if err := schematest.Validate(r.JSON); err != nil {
			// A nested object of the input is passed through verbatim: a key
			// the input itself repeats may repeat there. Any other
			// duplicate is the encoder's.
			var dk *schematest.DuplicateKeyError
			if !errors.As(err, &dk) || bytes.Count(data, []byte(strconv.Quote(dk.Key))) < 2 {
				t.Fatal(err)
			}
			if err := schematest.ValidateSchema(r.JSON); err != nil {
				t.Fatal(err)
			}
		}
		if n := countLeafFields(gjson.ParseBytes(r.JSON)); n > cfg.MaxFields {
			t.Fatalf("record has %d fields, cap %d", n, cfg.MaxFields)
		}
	})
	for _, l := range bytes.Split(data, []byte("\n")) {
		st.Write(l, goldenNow)
	}
	st.Flush(goldenNow)
}

// FuzzNormalize drives detection, every parser, container unwrapping, the
// multiline joiner and the encoder with arbitrary input.
func FuzzNormalize(f *testing.F) {
	seedCorpus(f)
	f.Add([]byte("{\"log\":\"x\",\"stream\":\"stdout\"}\n\xff\x00{\"a\":[[[[]]]]}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 64<<10 {
			return
		}
		cfg := DefaultConfig()
		cfg.MaxFields = MinMaxFields
		cfg.MaxEventBytes = MinMaxEventBytes
		checkRecords(t, cfg, data)
	})
}

// FuzzEncoder feeds one JSON line with arbitrary keys and values (the
// widest path into the encoder) and checks caps and validity.
func FuzzEncoder(f *testing.F) {
	f.Add("msg", "hello", "request", `{"method":"GET","status":"x"}`)
	f.Add("level", "30", "user", `{"id":1.5e300}`)
	f.Add("tracking_id", "\xff", "exception", `{"line":"abc"}`)
	f.Fuzz(func(t *testing.T, k1, v1, k2, raw2 string) {
		var b []byte
		b = append(b, '{')
		b = jsonx.AppendStr(b, k1)
		b = append(b, ':')
		b = jsonx.AppendStr(b, v1)
		if gjson.Valid(raw2) {
			b = append(b, ',')
			b = jsonx.AppendStr(b, k2)
			b = append(b, ':')
			b = append(b, raw2...)
		}
		b = append(b, '}')
		cfg := DefaultConfig()
		cfg.MaxFields = MinMaxFields
		cfg.MaxEventBytes = MinMaxEventBytes
		checkRecords(t, cfg, b)
	})
}

// FuzzUnescapeJSONString: the container unwrapper's string decoder agrees
// with encoding/json on every valid JSON string literal (valid UTF-8, no
// lone surrogates: there encoding/json substitutes U+FFFD, which the
// unwrapper does too, but byte for byte is not guaranteed).
func FuzzUnescapeJSONString(f *testing.F) {
	for _, s := range []string{`"plain"`, `"a\nb\tc\"d\\e\/"`, `"\u00e9\u20ac\ud83d\ude00"`, `"tail\\"`, `"{\"k\":1}\n"`, `""`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var arena parse.Arena
		got := unescapeJSONString(raw, &arena)
		var want string
		if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' || !json.Valid(raw) || json.Unmarshal(raw, &want) != nil || !utf8.Valid(raw) || bytes.Contains(raw, []byte(`\ud`)) || bytes.Contains(raw, []byte(`\uD`)) {
			return
		}
		if string(got) != want {
			t.Fatalf("unescape(%q) = %q, encoding/json says %q", raw, got, want)
		}
	})
}
