package forward

import (
	"encoding/json"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/require"
)

var (
	t0 = time.Date(2026, 8, 1, 10, 30, 45, 123456789, time.UTC)
	t1 = time.Date(2026, 8, 1, 10, 30, 46, 0, time.UTC)
)

// entries builds concatenated [EventTime, {"msg": m}] entries.
func entries(msgs ...string) []byte {
	var e mp
	for _, m := range msgs {
		e = e.arr(2).eventTime(t0, false).kv("msg", m)
	}
	return e
}

func decodeAll(t *testing.T, frame []byte) (*decoder, []map[string]any) {
	t.Helper()
	zd, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
	require.NoError(t, err)
	t.Cleanup(zd.Close)
	d := &decoder{max: DefaultMaxMessageBytes, zstd: zd}
	require.NoError(t, d.decode(frame))
	var out []map[string]any
	for k := range d.lines() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(d.line(k), &m), "%s", d.line(k))
		out = append(out, m)
	}
	return d, out
}

func TestDecodeModes(t *testing.T) {
	zenc, err := zstd.NewWriter(nil)
	require.NoError(t, err)
	zstdEntries := zenc.EncodeAll(entries("z1", "z2"), nil)
	require.NoError(t, zenc.Close())
	twoMembers := append(gzipBytes(t, entries("g1")), gzipBytes(t, entries("g2", "g3"))...)

	tests := []struct {
		name  string
		frame []byte
		mode  Mode
		msgs  []string
		times []time.Time
		chunk string
	}{
		{"message int time", mp{}.arr(3).str("app").int(t1.Unix()).kv("msg", "a"), ModeMessage, []string{"a"}, []time.Time{t1}, ""},
		{"message EventTime fixext8 with option", mp{}.arr(4).str("app").eventTime(t0, false).kv("msg", "a").kv("chunk", "c1"),
			ModeMessage, []string{"a"}, []time.Time{t0}, "c1"},
		{"message EventTime ext8", mp{}.arr(3).str("app").eventTime(t0, true).kv("msg", "a"), ModeMessage, []string{"a"}, []time.Time{t0}, ""},
		{"message uint32 time", mp{}.arr(3).str("app").uint32v(uint32(t1.Unix())).kv("msg", "a"), ModeMessage, []string{"a"}, []time.Time{t1}, ""},
		{"message float time", mp{}.arr(3).str("app").float(float64(t1.Unix())+0.5).kv("msg", "a"), ModeMessage, []string{"a"},
			[]time.Time{t1.Add(500 * time.Millisecond)}, ""},
		{"message v1.5 time with metadata", mp{}.arr(4).str("app").arr(2).eventTime(t0, false).kv("k", "v").kv("msg", "a").mapN(0),
			ModeMessage, []string{"a"}, []time.Time{t0}, ""},
		{"message nil option", mp{}.arr(4).str("app").int(t1.Unix()).kv("msg", "a").nil(), ModeMessage, []string{"a"}, []time.Time{t1}, ""},
		{"forward", mp{}.arr(2).str("app").arr(2).arr(2).int(t1.Unix()).kv("msg", "a").arr(2).eventTime(t0, false).kv("msg", "b"),
			ModeForward, []string{"a", "b"}, []time.Time{t1, t0}, ""},
		{"forward with chunk", mp{}.arr(3).str("app").arr(1).arr(2).int(t1.Unix()).kv("msg", "a").kv("size", "1", "chunk", "c2"),
			ModeForward, []string{"a"}, []time.Time{t1}, "c2"},
		{"forward v1.5 entries", mp{}.arr(2).str("app").arr(1).arr(2).arr(2).eventTime(t0, false).mapN(0).kv("msg", "a"),
			ModeForward, []string{"a"}, []time.Time{t0}, ""},
		{"forward empty with chunk", mp{}.arr(3).str("app").arr(0).kv("chunk", "c3"), ModeForward, nil, nil, "c3"},
		{"packed bin", append(mp{}.arr(3).str("app").bin(entries("p1", "p2")), mp{}.kv("size", "2")...),
			ModePacked, []string{"p1", "p2"}, []time.Time{t0, t0}, ""},
		{"packed str (out_forward)", mp{}.arr(2).str("app").str(string(entries("s1"))), ModePacked, []string{"s1"}, []time.Time{t0}, ""},
		{"compressed gzip", append(mp{}.arr(3).str("app").bin(gzipBytes(t, entries("g1", "g2"))), mp{}.kv("compressed", "gzip", "chunk", "c4")...),
			ModeCompressed, []string{"g1", "g2"}, []time.Time{t0, t0}, "c4"},
		{"compressed gzip multi-member", append(mp{}.arr(3).str("app").bin(twoMembers), mp{}.kv("compressed", "gzip")...),
			ModeCompressed, []string{"g1", "g2", "g3"}, []time.Time{t0, t0, t0}, ""},
		{"compressed zstd", append(mp{}.arr(3).str("app").bin(zstdEntries), mp{}.kv("compressed", "zstd")...),
			ModeCompressed, []string{"z1", "z2"}, []time.Time{t0, t0}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, recs := decodeAll(t, tc.frame)
			require.Equal(t, tc.mode, d.mode)
			require.Equal(t, "app", string(d.tag))
			require.Len(t, recs, len(tc.msgs))
			for k, r := range recs {
				require.Equal(t, tc.msgs[k], r["msg"])
				require.Equal(t, "app", r["fluent_tag"])
				got, err := time.Parse(time.RFC3339Nano, r["time"].(string))
				require.NoError(t, err)
				require.True(t, tc.times[k].Equal(got), "time %s, want %s", got, tc.times[k])
			}
			if tc.chunk == "" {
				require.Nil(t, d.chunk)
			} else {
				require.Equal(t, mp{}.str(tc.chunk), mp(d.chunk))
			}
		})
	}
}

func TestDecodeValues(t *testing.T) {
	rec := mp{}.mapN(12).
		bin([]byte("binkey")).bin([]byte("bin value")).
		str("int").int(-5).
		str("big").append(0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff).
		str("float").float(1.5).
		str("nan").float(nanValue()).
		str("bool").boolean(true).
		str("nil").nil().
		str("nested").mapN(1).str("arr").arr(3).int(1).str("x").mapN(1).str("deep").boolean(false).
		str("ctrl").str("a\x00b\nc\"d\\e\x1f").
		str("badutf8").bin([]byte{'o', 'k', 0xff, 0xfe, 'z'}).
		str("ext").append(0xd4, 5, 0xab).
		int(7).str("int key")
	frame := mp{}.arr(3).str("t").int(t1.Unix()).append(rec...)
	d, recs := decodeAll(t, frame)
	require.Len(t, recs, 1)
	r := recs[0]
	require.Equal(t, "bin value", r["binkey"])
	require.EqualValues(t, -5, r["int"])
	require.EqualValues(t, 1.5, r["float"])
	require.Nil(t, r["nan"])
	require.Equal(t, true, r["bool"])
	require.Contains(t, r, "nil")
	require.Equal(t, map[string]any{"arr": []any{1.0, "x", map[string]any{"deep": false}}}, r["nested"])
	require.Equal(t, "a\x00b\nc\"d\\e\x1f", r["ctrl"])
	require.Equal(t, "ok\uFFFD\uFFFDz", r["badutf8"])
	require.Equal(t, "qw==", r["ext"])
	require.Equal(t, "int key", r["7"])
	require.Contains(t, string(d.line(0)), `"big":18446744073709551615`)
	require.True(t, utf8.Valid(d.line(0)))
}

func (m mp) append(b ...byte) mp { return append(m, b...) }

func nanValue() float64 { var z float64; return z / z }

func TestDecodeRecordKeys(t *testing.T) {
	tests := []struct {
		name      string
		rec       mp
		wantTime  bool
		wantTag   bool
		keepValue string
	}{
		{"plain record gets time and tag", mp{}.kv("msg", "x"), true, true, ""},
		{"record time kept", mp{}.kv("msg", "x", "time", "2020-01-01T00:00:00Z"), false, true, "2020-01-01T00:00:00Z"},
		{"app record with ts alias gets no time", mp{}.kv("msg", "x", "ts", "2020-01-01T00:00:00Z"), false, true, ""},
		{"firelens envelope gets time despite alias inside", mp{}.kv("log", "x", "source", "stdout", "container_name", "/web", "ts", "1"),
			true, false, ""},
		{"empty record", mp{}.mapN(0), true, true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, recs := decodeAll(t, mp{}.arr(3).str("tg").eventTime(t0, false).append(tc.rec...))
			r := recs[0]
			if tc.wantTime {
				require.Equal(t, "2026-08-01T10:30:45.123456789Z", r["time"])
			} else if tc.keepValue != "" {
				require.Equal(t, tc.keepValue, r["time"])
			} else {
				require.NotContains(t, r, "time")
			}
			if tc.wantTag {
				require.Equal(t, "tg", r["fluent_tag"])
			} else {
				require.NotContains(t, r, "fluent_tag")
			}
		})
	}
}

func TestDecodeECSMetadata(t *testing.T) {
	m := (&taskMetadata{Cluster: "prod", TaskARN: "arn:aws:ecs:eu-west-1:1:task/prod/abc", Family: "api", Revision: "7",
		AvailabilityZone: "eu-west-1a"}).fragments()
	d := &decoder{max: DefaultMaxMessageBytes, meta: m}
	require.NoError(t, d.decode(mp{}.arr(3).str("t").int(1).append(mp{}.kv("log", "x", "ecs_cluster", "mine")...)))
	var r map[string]any
	require.NoError(t, json.Unmarshal(d.line(0), &r))
	require.Equal(t, "mine", r["ecs_cluster"], "a record's own value wins")
	require.Equal(t, "arn:aws:ecs:eu-west-1:1:task/prod/abc", r["ecs_task_arn"])
	require.Equal(t, "api:7", r["ecs_task_definition"])
	require.Equal(t, "eu-west-1a", r["ecs_availability_zone"])
}

func TestDecodeMalformed(t *testing.T) {
	tests := []struct {
		name  string
		frame []byte
	}{
		{"not an array", mp{}.str("x")},
		{"json", []byte(`["tag",1,{"a":1}]`)},
		{"one element", mp{}.arr(1).str("t")},
		{"five elements", mp{}.arr(5).str("t").int(1).mapN(0).mapN(0).mapN(0)},
		{"tag not string", mp{}.arr(3).int(1).int(1).mapN(0)},
		{"record not map", mp{}.arr(3).str("t").int(1).str("x")},
		{"time bad ext", mp{}.arr(3).str("t").append(0xd6, 0, 1, 2, 3, 4).mapN(0)},
		{"time string", mp{}.arr(3).str("t").str("now").mapN(0)},
		{"truncated", mp{}.arr(3).str("t").int(1).mapN(2).str("k")},
		{"trailing bytes", append(mp{}.arr(3).str("t").int(1).mapN(0), 0x01)},
		{"option not map", mp{}.arr(4).str("t").int(1).mapN(0).int(3)},
		{"entry not pair", mp{}.arr(2).str("t").arr(1).arr(3).int(1).mapN(0).nil()},
		{"packed garbage", mp{}.arr(2).str("t").bin([]byte{0xc1})},
		{"bad gzip", append(mp{}.arr(3).str("t").bin([]byte("nope")), mp{}.kv("compressed", "gzip")...)},
		{"unknown compression", append(mp{}.arr(3).str("t").bin(entries("a")), mp{}.kv("compressed", "lz4")...)},
		{"map key array", mp{}.arr(3).str("t").int(1).mapN(1).arr(0).int(1)},
		{"0xc1", []byte{0xc1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := &decoder{max: 1024}
			err := d.decode(tc.frame)
			var fe *frameError
			require.ErrorAs(t, err, &fe)
			require.Zero(t, d.lines(), "a bad frame yields no lines")
		})
	}
	t.Run("gzip bomb is oversize", func(t *testing.T) {
		d := &decoder{max: 1024}
		frame := append(mp{}.arr(3).str("t").bin(gzipBytes(t, entries(string(make([]byte, 4096))))), mp{}.kv("compressed", "gzip")...)
		require.ErrorIs(t, d.decode(frame), errOversize)
	})
}

func TestScannerResumes(t *testing.T) {
	frame := append(mp{}.arr(3).str("app").bin(entries("a", "b", "c")), mp{}.kv("chunk", "x")...)
	for step := 1; step <= 7; step++ {
		var sc scanner
		done := false
		for n := 0; n <= len(frame) && !done; n += step {
			var err error
			done, err = sc.scan(frame[:min(n, len(frame))])
			require.NoError(t, err)
			if !done {
				require.Greater(t, sc.need, min(n, len(frame))-1)
			}
		}
		if !done {
			var err error
			done, err = sc.scan(frame)
			require.NoError(t, err)
		}
		require.True(t, done)
		require.Equal(t, len(frame), sc.off)
	}
	var sc scanner
	done, err := sc.scan(mp{}.arr(2).str("t").append(0xc6, 0x7f, 0, 0, 0))
	require.NoError(t, err)
	require.False(t, done)
	require.Greater(t, sc.need, 1<<30, "a huge bin header is known to be oversize at once")
}

func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{"", "plain", "é ü 日本", "\x00\x01\x7f", "\xed\xa0\x80", "\u2028", string([]byte{0xf0, 0x9f, 0x98})} {
		out := appendJSONString(nil, []byte(s))
		require.True(t, json.Valid(out), "%q -> %q", s, out)
		require.True(t, utf8.Valid(out))
		var back string
		require.NoError(t, json.Unmarshal(out, &back))
		if utf8.ValidString(s) {
			require.Equal(t, s, back)
		}
	}
	require.Equal(t, `1e-7`, string(appendFloat(nil, 1e-7, 64)))
	require.Equal(t, `1e+21`, string(appendFloat(nil, 1e21, 64)))
	require.Equal(t, `0.5`, string(appendFloat(nil, 0.5, 32)))
}

func TestDeepNestingBecomesNull(t *testing.T) {
	rec := mp{}.mapN(1).str("a")
	for range 200 {
		rec = rec.arr(1)
	}
	rec = rec.int(1)
	_, recs := decodeAll(t, mp{}.arr(3).str("t").int(1).append(rec...))
	require.Len(t, recs, 1)
}
