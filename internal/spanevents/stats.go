package spanevents

import "sync/atomic"

// Drop reasons (labels of Stats.Dropped).
const (
	// DropQueueFull: the export queue held QueueSize spans; the new span
	// was not queued.
	DropQueueFull = "queue_full"
	// DropExportFailed: the span's batch failed to export after bounded
	// retries (backend down, refused, timed out, or abandoned at Close).
	DropExportFailed = "export_failed"
	// DropClosed: the span was created after Close began.
	DropClosed = "closed"
)

// Stats are the sink's counters (safe for concurrent use; exported for
// metrics). A span is created, then exported or dropped for one reason, so
// SpansCreated = SpansExported + dropped + spans still queued.
type Stats struct {
	// RecordsSeen counts records given to Send; RecordsSkipped those below
	// min_level (no span).
	RecordsSeen    atomic.Int64
	RecordsSkipped atomic.Int64
	// SpansCreated counts spans built from records.
	SpansCreated atomic.Int64
	// SpansExported counts spans the backend accepted.
	SpansExported atomic.Int64
	// DroppedQueueFull, DroppedExportFailed and DroppedClosed count spans
	// dropped, by reason.
	DroppedQueueFull    atomic.Int64
	DroppedExportFailed atomic.Int64
	DroppedClosed       atomic.Int64
	// ExportErrors counts export calls that failed for good (each drops a
	// whole batch); ExportRetries counts extra attempts made by logshipd's
	// own retry loop (the OTLP exporter's internal retries are not seen).
	ExportErrors  atomic.Int64
	ExportRetries atomic.Int64
	// Queued is the number of spans created but not yet handed to the
	// exporter.
	Queued atomic.Int64
}

// Dropped returns the dropped spans per reason.
func (s *Stats) Dropped() map[string]int64 {
	return map[string]int64{
		DropQueueFull:    s.DroppedQueueFull.Load(),
		DropExportFailed: s.DroppedExportFailed.Load(),
		DropClosed:       s.DroppedClosed.Load(),
	}
}
