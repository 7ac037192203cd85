package main

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// sample is one measured process run.
type sample struct {
	Wall    time.Duration `json:"wall_ns"`
	User    time.Duration `json:"user_ns"`
	Sys     time.Duration `json:"sys_ns"`
	MaxRSS  int64         `json:"max_rss_bytes"`
	Records int64         `json:"records"` // records produced (cat: records in the file)
	Bytes   int64         `json:"bytes"`   // input bytes
	// Background is the CPU used by everything else on the machine during
	// the run, in cores (from /proc/stat; includes the runner's own polling).
	Background float64 `json:"background_cores"`
	// Run shape only: when every record was in the sink (polled) and when
	// all but the last one were (the last multiline record waits for the
	// flush timeout), both since start.
	Written   time.Duration `json:"written_ns,omitempty"`
	AllButOne time.Duration `json:"all_but_one_ns,omitempty"`
}

func (s sample) cpu() time.Duration { return s.User + s.Sys }
func (s sample) mbps() float64      { return float64(s.Bytes) / 1e6 / s.Wall.Seconds() }
func (s sample) rps() float64       { return float64(s.Records) / s.Wall.Seconds() }

// cpuPerM is CPU seconds per million records.
func (s sample) cpuPerM() float64 { return s.cpu().Seconds() / float64(s.Records) * 1e6 }
func (s sample) rssMiB() float64  { return float64(s.MaxRSS) / (1 << 20) }

// stat is a median with its range.
type stat struct{ Med, Min, Max float64 }

func summarize(xs []float64) stat {
	if len(xs) == 0 {
		return stat{math.NaN(), math.NaN(), math.NaN()}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return stat{med, s[0], s[len(s)-1]}
}

func over(ss []sample, f func(sample) float64) stat {
	xs := make([]float64, len(ss))
	for i, s := range ss {
		xs[i] = f(s)
	}
	return summarize(xs)
}

// format renders "med (min–max)" with the given precision.
func (s stat) format(prec int) string {
	if math.IsNaN(s.Med) {
		return "–"
	}
	if s.Min == s.Max {
		return fmt.Sprintf("%.*f", prec, s.Med)
	}
	return fmt.Sprintf("%.*f (%.*f–%.*f)", prec, s.Med, prec, s.Min, prec, s.Max)
}

// percentile returns the p-th percentile (0..100) of sorted xs, nearest rank.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p*float64(len(sorted))/100 - 1e-9))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}
