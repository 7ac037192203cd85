package normalize

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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

// FuzzUnwrapJSON: a line the unwrapper takes as a Docker/FireLens envelope
// is valid JSON (raw control characters in strings tolerated), and its payload is exactly what encoding/json decodes from
// the "log" field (lone surrogates and invalid UTF-8 aside: encoding/json
// writes U+FFFD there, the unwrapper keeps the bytes and the encoder
// replaces them on the way out).
func FuzzUnwrapJSON(f *testing.F) {
	for _, s := range []string{
		`{"log":"plain\n","stream":"stdout","time":"2026-11-25T10:00:00Z"}`,
		`{"log":"{\"k\":\"\u00e9\u20ac\ud83d\ude00\"}","container_id":"c1","source":"stderr"}`,
		`{"log":"a\\b\/c\"d","stream":"stdout","x":{"y":[1,2]},"n":1.5e3}`,
		`{"log":"bad \q escape","stream":"stdout"}`,
		`{"log":"x","stream":"stdout"} trailing`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		var u unwrapped
		var arena parse.Arena
		if !unwrapJSON(line, &u, &arena) {
			return
		}
		// Raw control characters inside strings are tolerated (the encoder
		// escapes them on the way out); anything else must be JSON.
		if !json.Valid(line) && !bytes.ContainsFunc(line, func(r rune) bool { return r < 0x20 }) {
			t.Fatalf("took invalid JSON as an envelope: %q", line)
		}
		var env struct {
			Log *string `json:"log"`
		}
		if err := json.Unmarshal(line, &env); err != nil || env.Log == nil {
			return // duplicate keys and the like: encoding/json reads it differently
		}
		want := *env.Log
		if bytes.Contains(line, []byte(`\ud`)) || bytes.Contains(line, []byte(`\uD`)) || !utf8.Valid(line) {
			return
		}
		got := string(u.payload)
		if u.meta.format == "docker-json" && !u.partial {
			want = strings.TrimSuffix(strings.TrimSuffix(want, "\n"), "\r")
		}
		if got != want {
			t.Fatalf("payload %q, encoding/json reads %q from %q", got, want, line)
		}
	})
}
