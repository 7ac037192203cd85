package event

import (
	"fmt"
	"testing"
)

func rec(i int) *Record {
	r := &Record{JSON: []byte(fmt.Sprintf(`{"n":%d}`, i)), Level: LevelInfo}
	id := fmt.Sprintf("%08d-0000-4000-8000-000000000000", i)
	r.TrackingIDLen = uint8(copy(r.TrackingID[:], id))
	return r
}

// Records keep their JSON and tracking id whatever happens to the batch's
// arrays afterwards: the tracking-id array grows by new arrays (strings into
// the old one stay valid), and AppendBatch shifts offsets.
func TestBatchAppendKeepsRecordsIntact(t *testing.T) {
	var a, b Batch
	for i := range 500 { // several tracking-id arrays
		a.Append(rec(i), "src", "s")
	}
	for i := 500; i < 700; i++ {
		b.Append(rec(i), "src", "s")
	}
	a.AppendBatch(&b)
	if len(a.Items) != 700 {
		t.Fatalf("items %d", len(a.Items))
	}
	for i := range a.Items {
		if got, want := string(a.JSON(i)), fmt.Sprintf(`{"n":%d}`, i); got != want {
			t.Fatalf("record %d: %s, want %s", i, got, want)
		}
		if got, want := a.Items[i].TrackingID, fmt.Sprintf("%08d-0000-4000-8000-000000000000", i); got != want {
			t.Fatalf("record %d tracking id %q, want %q", i, got, want)
		}
	}
	if a.MemBytes() <= a.Bytes()+700*itemSize-1 {
		t.Fatalf("MemBytes %d counts less than JSON %d + items", a.MemBytes(), a.Bytes())
	}
	var empty Record
	a.Append(&empty, "src", "s")
	if a.Items[700].TrackingID != "" {
		t.Fatal("no tracking id: empty string")
	}
}
