package forward

import (
	"fmt"
	"testing"
)

// BenchmarkDecode measures frame -> JSON lines for the common shapes.
//
//	go test -run '^$' -bench BenchmarkDecode -benchmem -count 6 ./internal/ingest/forward/ | tee new.txt
//	benchstat old.txt new.txt
func BenchmarkDecode(b *testing.B) {
	rec := func(i int) mp {
		return mp{}.kv("container_id", "4f3c2b1a9e8d", "container_name", "/ecs-web-1-web-abcdef", "source", "stdout",
			"log", fmt.Sprintf(`{"level":"info","msg":"request served","path":"/api/v1/items/%d","status":200}`, i))
	}
	message := mp{}.arr(3).str("web-firelens-0123").eventTime(t0, false).append(rec(1)...)
	var packed mp
	for i := range 100 {
		packed = packed.arr(2).eventTime(t0, false).append(rec(i)...)
	}
	packedFrame := append(mp{}.arr(3).str("app").bin(packed), mp{}.kv("chunk", "abc")...)
	gzFrame := append(mp{}.arr(3).str("app").bin(gzipBytes(b, packed)), mp{}.kv("compressed", "gzip")...)
	for _, bc := range []struct {
		name  string
		frame []byte
		n     int
	}{{"message", message, 1}, {"packed100", packedFrame, 100}, {"gzip100", gzFrame, 100}} {
		b.Run(bc.name, func(b *testing.B) {
			d := &decoder{max: DefaultMaxMessageBytes}
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.frame)))
			for b.Loop() {
				if err := d.decode(bc.frame); err != nil || d.lines() != bc.n {
					b.Fatal(err, d.lines())
				}
			}
		})
	}
}

func TestDecodeAllocs(t *testing.T) {
	frame := mp{}.arr(3).str("tag").eventTime(t0, false).kv("log", "hello", "source", "stdout", "container_name", "/c")
	d := &decoder{max: DefaultMaxMessageBytes}
	allocs := testing.AllocsPerRun(100, func() {
		if err := d.decode(frame); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 0 {
		t.Fatalf("decode allocates %.1f times per Message frame, want 0", allocs)
	}
}
