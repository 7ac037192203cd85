package forward

import "sync/atomic"

// Stats counts what the Forward source did. Safe for concurrent use; one
// Stats may be shared by several sources.
type Stats struct {
	Connections         atomic.Int64 // connections accepted (TCP and unix), total
	ConnectionsActive   atomic.Int64 // connections open now
	ConnectionsRejected atomic.Int64 // closed at once because max_connections was reached

	FramesMessage    atomic.Int64 // Message mode frames
	FramesForward    atomic.Int64 // Forward mode frames
	FramesPacked     atomic.Int64 // PackedForward frames
	FramesCompressed atomic.Int64 // CompressedPackedForward frames (gzip or zstd)
	Keepalives       atomic.Int64 // nil keep-alive frames

	Records atomic.Int64 // records written to lanes
	Bytes   atomic.Int64 // frame bytes read (on the wire, after TLS)

	DecodeErrors   atomic.Int64 // malformed frames (the connection was closed)
	OversizeFrames atomic.Int64 // frames over max_message_bytes (the connection was closed)
	AuthFailures   atomic.Int64 // failed shared-key handshakes
	TLSErrors      atomic.Int64 // failed TLS handshakes
	IdleTimeouts   atomic.Int64 // connections closed by read_timeout

	AcksSent     atomic.Int64 // {"ack": chunk} responses written
	AckFailures  atomic.Int64 // batches with acks pending that finished Failed (connection closed, no ack)
	CommitErrors atomic.Int64 // Lane.Commit calls that returned an error (shutdown)

	ECSMetadataErrors atomic.Int64 // failed task metadata fetches
}

// frames returns the counter for mode m.
func (s *Stats) frames(m Mode) *atomic.Int64 {
	switch m {
	case ModeMessage:
		return &s.FramesMessage
	case ModeForward:
		return &s.FramesForward
	case ModePacked:
		return &s.FramesPacked
	}
	return &s.FramesCompressed
}
