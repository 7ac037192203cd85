package ingest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Lines, cut marks and offsets come out the same however the input is
// chunked; Offset is the resume point after each line (skipped bytes of a
// cut line included).
func TestFramerOffsetsAndCutsAnyChunking(t *testing.T) {
	const max = 1024
	rng := rand.New(rand.NewPCG(3, 4))
	var in bytes.Buffer
	type want struct {
		line string
		end  int64
	}
	var wants []want
	for i := range 300 {
		n := rng.IntN(200)
		if i%37 == 0 {
			n = max + rng.IntN(3000) // over-long: cut
		}
		body := strings.Repeat(string(rune('a'+i%26)), n)
		in.WriteString(body)
		in.WriteByte('\n')
		line := body
		if n > max {
			line = fmt.Sprintf("%s [truncated %d bytes]", body[:max], n-max)
		}
		wants = append(wants, want{line, int64(in.Len())})
	}
	in.WriteString("tail without newline")
	wants = append(wants, want{"tail without newline", int64(in.Len())})

	for trial := range 50 {
		f := NewFramer(max)
		var got []want
		fn := func(l []byte) { got = append(got, want{string(l), f.Offset()}) }
		data := in.Bytes()
		for len(data) > 0 {
			n := 1 + rng.IntN(700)
			if trial == 0 {
				n = len(data) // one chunk
			}
			n = min(n, len(data))
			chunk := append([]byte(nil), data[:n]...) // the Framer must not keep it
			f.Feed(chunk, fn)
			clear(chunk)
			data = data[n:]
		}
		f.End(fn)
		require.Len(t, got, len(wants), "trial %d", trial)
		for i := range wants {
			require.Equal(t, wants[i], got[i], "trial %d line %d", trial, i)
		}
		assert.EqualValues(t, 9, f.Truncated())
	}
}
