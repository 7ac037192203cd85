package normalize

import (
	"bytes"
	"github.com/starmates/logshipd/internal/jsonx"
	"os"
	"path/filepath"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/starmates/logshipd/internal/event"
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
			t.Fatal(err)
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
