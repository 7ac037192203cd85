package forward

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/klauspost/compress/zstd"
)

// FuzzDecodeFrame checks that no input makes the frame scanner or decoder
// panic, that every line is one valid JSON object in valid UTF-8, that a bad
// frame yields no line, and that the resumable scanner agrees with a
// one-shot scan.
//
//	go test -run '^$' -fuzz FuzzDecodeFrame -fuzztime 60s ./internal/ingest/forward/
func FuzzDecodeFrame(f *testing.F) {
	zenc, err := zstd.NewWriter(nil)
	if err != nil {
		f.Fatal(err)
	}
	zstdEntries := zenc.EncodeAll(entries("z"), nil)
	_ = zenc.Close()
	seeds := [][]byte{
		{0xc0},
		mp{}.arr(3).str("app").int(t1.Unix()).kv("msg", "a"),
		mp{}.arr(4).str("app").eventTime(t0, false).kv("log", "x", "source", "stdout", "container_name", "/c").kv("chunk", "c1"),
		mp{}.arr(3).str("app").eventTime(t0, true).mapN(2).bin([]byte("k")).bin([]byte{0xff, 'v'}).str("n").float(1.5),
		mp{}.arr(4).str("app").arr(2).eventTime(t0, false).kv("m", "d").kv("msg", "v15").mapN(0),
		mp{}.arr(2).str("app").arr(2).arr(2).int(1).kv("msg", "a").arr(2).eventTime(t0, false).kv("msg", "b"),
		mp{}.arr(3).str("app").arr(0).kv("chunk", "c3"),
		append(mp{}.arr(3).str("app").bin(entries("p1", "p2")), mp{}.kv("size", "2")...),
		mp{}.arr(2).str("app").str(string(entries("s1"))),
		append(mp{}.arr(3).str("app").bin(gzipBytes(f, entries("g1"))), mp{}.kv("compressed", "gzip", "chunk", "c4")...),
		append(mp{}.arr(3).str("app").bin(append(gzipBytes(f, entries("g1")), gzipBytes(f, entries("g2"))...)), mp{}.kv("compressed", "gzip")...),
		append(mp{}.arr(3).str("app").bin(zstdEntries), mp{}.kv("compressed", "zstd")...),
		mp{}.arr(3).str("t").int(1).mapN(1).str("nested").arr(2).mapN(1).str("a").append(0xd4, 1, 2).arr(0),
		[]byte(`["tag",1,{"a":1}]`),
	}
	for _, s := range seeds {
		f.Add(s)
	}
	zd, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<16))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(zd.Close)
	d := &decoder{max: 1 << 16, zstd: zd}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		// Scanner: one shot vs. resumed after a split.
		var one scanner
		done1, err1 := one.scan(data)
		var two scanner
		_, _ = two.scan(data[:len(data)/2])
		done2, err2 := two.scan(data)
		if done1 != done2 || (err1 == nil) != (err2 == nil) || (done1 && one.off != two.off) {
			t.Fatalf("resumed scan differs: %v/%v/%d vs %v/%v/%d", done1, err1, one.off, done2, err2, two.off)
		}
		if !done1 && err1 == nil && one.need <= len(data) {
			t.Fatalf("incomplete but need %d <= %d", one.need, len(data))
		}

		err := d.decode(data)
		if err != nil {
			var fe *frameError
			if !errors.As(err, &fe) && !errors.Is(err, errOversize) {
				t.Fatalf("unexpected error type %T: %v", err, err)
			}
			if d.lines() != 0 {
				t.Fatalf("bad frame produced %d lines", d.lines())
			}
			return
		}
		if !done1 || one.off != len(data) {
			t.Fatalf("decoded a frame the scanner does not see as complete (done=%v off=%d len=%d)", done1, one.off, len(data))
		}
		for k := range d.lines() {
			line := d.line(k)
			if !utf8.Valid(line) || bytes.IndexByte(line, '\n') >= 0 {
				t.Fatalf("line %d is not one valid UTF-8 line: %q", k, line)
			}
			var obj map[string]any
			if err := json.Unmarshal(line, &obj); err != nil {
				t.Fatalf("line %d is not a JSON object: %v: %q", k, err, line)
			}
			if _, ok := obj["time"]; !ok && !hasTimeAlias(obj) {
				t.Fatalf("line %d has no time: %q", k, line)
			}
		}
	})
}

func hasTimeAlias(obj map[string]any) bool {
	for _, k := range timeKeys {
		if _, ok := obj[k]; ok {
			return true
		}
	}
	return false
}
