package ingest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"
)

func TestRelayDeliversInOrderWithRecycledBuffers(t *testing.T) {
	src := make([]byte, 1<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range src {
		src[i] = byte(rng.IntN(256))
	}
	// Short reads and a small buffer size: many reads, every buffer reused.
	rl := StartRelay(context.Background(), iotest.HalfReader(bytes.NewReader(src)), 4096, 3)
	var got []byte
	seen := map[*byte]bool{}
	for chunk := range rl.C {
		seen[&chunk[:1][0]] = true
		got = append(got, chunk...)
		clear(chunk) // the relay must not hand out bytes still in use
		rl.Recycle(chunk)
	}
	if !bytes.Equal(got, src) {
		t.Fatalf("relayed %d bytes, not the %d read", len(got), len(src))
	}
	if len(seen) > 3 {
		t.Errorf("%d distinct buffers, want at most 3 (recycled)", len(seen))
	}
	if rl.Err() != nil {
		t.Errorf("Err at EOF = %v", rl.Err())
	}
}

func TestRelayReportsReadErrorAfterData(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(bytes.NewReader([]byte("abc\n")), iotest.ErrReader(boom))
	rl := StartRelay(context.Background(), r, 1024, 2)
	var got []byte
	for chunk := range rl.C {
		got = append(got, chunk...)
		rl.Recycle(chunk)
	}
	if string(got) != "abc\n" || !errors.Is(rl.Err(), boom) {
		t.Fatalf("got %q, err %v; want the data then boom", got, rl.Err())
	}
}

func TestRelayStopsOnCancelWhenBuffersAreOut(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	rl := StartRelay(ctx, bytes.NewReader(make([]byte, 1<<20)), 1024, 2)
	<-rl.C // never recycled: the relay runs out of buffers and waits
	cancel()
	for range rl.C {
	}
	if rl.Err() != nil {
		t.Errorf("Err after cancel = %v", rl.Err())
	}
}
