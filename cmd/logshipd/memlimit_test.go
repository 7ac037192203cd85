package main

import (
	"io"
	"log/slog"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/starmates/logshipd/internal/config"
	"github.com/starmates/logshipd/internal/pipeline"
	"github.com/starmates/logshipd/internal/sink"
)

// memory_limit: auto allows the base plus the largest memory queue (a disk
// buffer counts only its batches in flight), an explicit size is used as is, off leaves the
// runtime alone, GOMEMLIMIT wins, and the previous limit comes back.
func TestApplyMemoryLimit(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "")
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	before := debug.SetMemoryLimit(-1)
	big := sink.DefaultQueueConfig()
	big.MaxBytes = 40 << 20
	disk := sink.DefaultQueueConfig()
	disk.Buffer, disk.MaxBytes = "disk", 500<<20
	sinks := []pipeline.SinkSpec{{Name: "a", Queue: sink.DefaultQueueConfig()}, {Name: "b", Queue: big}, {Name: "c", Queue: disk}}

	restore := applyMemoryLimit("auto", sinks, 0, logger)
	assert.Equal(t, int64(config.AutoMemoryBase+40<<20), debug.SetMemoryLimit(-1))
	restore()
	assert.Equal(t, before, debug.SetMemoryLimit(-1))

	restore = applyMemoryLimit("auto", sinks[:1], 0, logger)
	assert.Equal(t, int64(40<<20), debug.SetMemoryLimit(-1), "defaults: 24 MiB + one 16 MiB queue")
	restore()

	restore = applyMemoryLimit("auto", sinks[2:], 0, logger)
	assert.Equal(t, int64(config.AutoMemoryBase+config.AutoDiskQueueInFlight), debug.SetMemoryLimit(-1),
		"only disk-buffered sinks: their batches in flight, not max_bytes")
	restore()

	restore = applyMemoryLimit("auto", sinks[:1], 48<<20, logger)
	assert.Equal(t, int64(88<<20), debug.SetMemoryLimit(-1), "span events' queue bound is added")
	restore()

	restore = applyMemoryLimit("200MiB", sinks, 5<<20, logger)
	assert.Equal(t, int64(200<<20), debug.SetMemoryLimit(-1))
	restore()

	restore = applyMemoryLimit("off", sinks, 0, logger)
	assert.Equal(t, before, debug.SetMemoryLimit(-1))
	restore()

	t.Setenv("GOMEMLIMIT", "1GiB")
	restore = applyMemoryLimit("64MiB", sinks, 0, logger)
	assert.Equal(t, before, debug.SetMemoryLimit(-1), "GOMEMLIMIT is the runtime's own setting")
	restore()
}
