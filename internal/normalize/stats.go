package normalize

import "sync/atomic"

// Stats counts what normalization did that a user must be able to see.
// Safe for concurrent use; one Stats may be shared by many Streams.
type Stats struct {
	Records         atomic.Int64 // records emitted
	Lines           atomic.Int64 // physical lines read
	LevelFiltered   atomic.Int64 // records dropped by the level filter
	EmptyLines      atomic.Int64 // blank lines outside a multiline record (skipped)
	MultilineJoined atomic.Int64 // records built from more than one line
	MultilineTruncs atomic.Int64 // joined records cut at max_lines/max_bytes
	FieldCapDrops   atomic.Int64 // records that had attrs moved to attrs_overflow
	FieldsDropped   atomic.Int64 // leaf fields moved to attrs_overflow
	SizeTruncations atomic.Int64 // records cut to max_event_bytes
	InvalidUTF8     atomic.Int64 // records with bytes replaced by U+FFFD
	TimeMissing     atomic.Int64 // records stamped with ingest time
	InvalidTracking atomic.Int64 // records whose given tracking id was invalid
	PartialJoined   atomic.Int64 // container partial chunks re-joined
	PartialOverflow atomic.Int64 // partial lines emitted early at the size bound
	// PartialUnfinished counts partial lines emitted without their final
	// piece (flush timeout or end of input: the container stopped mid-line).
	PartialUnfinished atomic.Int64
	formats           [64]atomic.Int64
}

// FormatCounts returns records per detected format name (non-zero only).
func (s *Stats) FormatCounts() map[string]int64 {
	out := map[string]int64{}
	for i, name := range formatNames {
		if n := s.formats[i].Load(); n > 0 {
			out[name] = n
		}
	}
	return out
}
