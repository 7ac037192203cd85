package main

import (
	"github.com/starmates/logshipd/internal/ingest/file"
	"github.com/starmates/logshipd/internal/ingest/forward"
	"github.com/starmates/logshipd/internal/ingest/stdin"
	"github.com/starmates/logshipd/internal/metrics"
)

// registerFileStats exposes a file source's counters on /metrics.
// registerStdinStats exposes a stdin source's counters on /metrics.
func registerStdinStats(self *metrics.SelfCollector, name string, st *stdin.Stats) {
	self.AddSource(name, "stdin", metrics.SourceFuncs{
		Received: st.Lines.Load,
		Errors:   func() map[string]int64 { return map[string]int64{"read": st.ReadErrors.Load()} },
	})
	lbl := map[string]string{"source": name}
	self.AddCounterFunc("logshipd_stdin_bytes_read_total", "Bytes read from standard input (see docs/sources/stdin.md).", lbl, func() float64 { return float64(st.Bytes.Load()) })
	self.AddCounterFunc("logshipd_stdin_lines_truncated_total", "Lines cut at max_line_bytes (see docs/sources/stdin.md).", lbl, func() float64 { return float64(st.LinesTruncated.Load()) })
}

func registerFileStats(self *metrics.SelfCollector, name string, st *file.Stats) {
	self.AddSource(name, "file", metrics.SourceFuncs{
		Received: st.LinesRead.Load,
		Errors: func() map[string]int64 {
			return map[string]int64{"read": st.ReadErrors.Load()}
		},
		Dropped: func() map[string]int64 {
			return map[string]int64{}
		},
		CheckpointLagBytes: st.CheckpointLagBytes.Load,
	})
	lbl := map[string]string{"source": name}
	for metric, f := range map[string]func() int64{
		"logshipd_file_rotations_rename_total":       st.RotationsRename.Load,
		"logshipd_file_rotations_copytruncate_total": st.RotationsCopyTruncate.Load,
		"logshipd_file_truncations_detected_total":   st.TruncationsDetected.Load,
		"logshipd_file_lines_truncated_total":        st.LinesTruncated.Load,
		"logshipd_file_bytes_read_total":             st.BytesRead.Load,
		"logshipd_file_inode_reuses_total":           st.InodeReuses.Load,
		"logshipd_file_handles_evicted_total":        st.Evictions.Load,
	} {
		self.AddCounterFunc(metric, "File source counter (see docs/sources/file.md).", lbl, func() float64 { return float64(f()) })
	}
	self.AddGaugeFunc("logshipd_file_tracked_files", "Files currently followed.", lbl, func() float64 { return float64(st.FilesTracked.Load()) })
}

// registerForwardStats exposes a Forward source's counters on /metrics.
func registerForwardStats(self *metrics.SelfCollector, name string, st *forward.Stats) {
	self.AddSource(name, "forward", metrics.SourceFuncs{
		Received: st.Records.Load,
		Errors: func() map[string]int64 {
			return map[string]int64{"decode": st.DecodeErrors.Load(), "oversize": st.OversizeFrames.Load(),
				"auth": st.AuthFailures.Load(), "tls": st.TLSErrors.Load(), "commit": st.CommitErrors.Load()}
		},
	})
	lbl := map[string]string{"source": name}
	self.AddGaugeFunc("logshipd_forward_connections", "Open Forward connections.", lbl, func() float64 { return float64(st.ConnectionsActive.Load()) })
	self.AddCounterFunc("logshipd_forward_acks_sent_total", "Forward chunk acks sent (only after every sink finished).", lbl, func() float64 { return float64(st.AcksSent.Load()) })
	self.AddCounterFunc("logshipd_forward_bytes_total", "Forward bytes read.", lbl, func() float64 { return float64(st.Bytes.Load()) })
}
