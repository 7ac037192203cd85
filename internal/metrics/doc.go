// Package metrics derives Prometheus metrics from canonical records and
// exposes them, with logshipd's own counters, on one HTTP listener.
//
// Three parts, wired by the daemon:
//
//   - Deriver is a sink.Sink (so it inherits fan-out, backpressure and
//     acks) and a prometheus.Collector. From every record carrying an HTTP
//     request and response it counts http_requests_total, observes
//     request_duration_seconds (the monitoring guide's buckets), counts
//     request_errors_total, endpoint_usage_total, api_key_usage_total and
//     user_activity_total; from records naming an AI model or provider it
//     counts ai_requests_total, ai_tokens_total and ai_cost_total; from
//     workflow status records workflow_runs_total. Every series carries
//     environment, project and service. Endpoints are route templates
//     (configured templates first, then ids → {id}); tracking, user and
//     session ids and raw API keys never become labels: trace_id and
//     tracking_id ride as exemplars (OpenMetrics only). Each metric is
//     bounded (max_series_per_metric, then "other" overflow series) and
//     forgets idle series (series_idle_expiry).
//   - SelfCollector reads the daemon's counters at scrape time from
//     accessors: sink workers, normalizer stats, and source/sink functions
//     registered by the code that owns them (no dependency on their types).
//   - Server serves /metrics (text or OpenMetrics, negotiated), /healthz
//     and /readyz from its own registry (never the global default one).
//
// The Deriver serializes Send and scrapes with one mutex; a scrape holds it
// while it builds the series (milliseconds for the default bounds). See
// docs/metrics.md for every exposed name, label and the guide mapping.
package metrics
