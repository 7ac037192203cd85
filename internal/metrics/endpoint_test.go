package metrics

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestEndpointNormalize(t *testing.T) {
	e := newEndpoints([]string{"/api/v1/sessions/{id}", "/static/{path...}", "/users/{user}/keys"})
	for _, tc := range []struct {
		name, path, want, version string
	}{
		{"root", "/", "/", ""},
		{"empty", "", "/", ""},
		{"star", "*", "*", ""},
		{"query stripped", "/health?verbose=1", "/health", ""},
		{"fragment stripped", "/docs#top", "/docs", ""},
		{"template", "/api/v1/sessions/session_67890", "/api/v1/sessions/{id}", "v1"},
		{"template any value", "/api/v1/sessions/current", "/api/v1/sessions/{id}", "v1"},
		{"template rest", "/static/js/app.1234.js", "/static/{path...}", ""},
		{"template rest needs a segment", "/static", "/static", ""},
		{"template named", "/users/alice/keys", "/users/{user}/keys", ""},
		{"uuid", "/api/v1/items/81f3e1b6-9349-47a1-b935-47037c7f4c27", "/api/v1/items/{id}", "v1"},
		{"digits", "/api/v2/users/12345", "/api/v2/users/{id}", "v2"},
		{"hex", "/objects/5f0c6e2a8b1d", "/objects/{id}", ""},
		{"hex short kept", "/objects/cafe", "/objects/cafe", ""},
		{"long token", "/reset/Zx81kPq0aLm2Nn7tYb", "/reset/{id}", ""},
		{"prefixed digits", "/sessions/session_67890/events", "/sessions/{id}/events", ""},
		{"prefixed hex", "/api/v1/workflows/workflow_7ba4ba/execute", "/api/v1/workflows/{id}/execute", "v1"},
		{"prefixed alnum", "/api/v1/workflows/workflow_abc123/execute", "/api/v1/workflows/{id}/execute", "v1"},
		{"prefixed word kept", "/api/user_profile", "/api/user_profile", ""},
		{"prefixed version kept", "/api-v2/ping", "/api-v2/ping", ""},
		{"dash id", "/orders/order-42", "/orders/{id}", ""},
		{"date", "/reports/2026-11-25", "/reports/{id}", ""},
		{"email", "/users/a@b.example/profile", "/users/{id}/profile", ""},
		{"very long", "/x/" + string(make([]byte, 0)) + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "/x/{id}", ""},
		{"trailing slash and doubles", "//api//v1/things/", "/api/v1/things", "v1"},
		{"version beta", "/apis/v1beta1/pods", "/apis/v1beta1/pods", "v1beta1"},
		{"version dotted", "/v2.1/x", "/v2.1/x", "v2.1"},
		{"version too deep ignored", "/a/b/c/v1", "/a/b/c/v1", ""},
		{"static file kept", "/static/style.css", "/static/{path...}", ""},
		{"words kept", "/api/v1/sessions", "/api/v1/sessions", "v1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ver, _ := e.normalize(nil, tc.path, nil)
			require.Equal(t, tc.want, string(got))
			require.Equal(t, tc.version, ver)
		})
	}
}

func TestIsVersion(t *testing.T) {
	for s, want := range map[string]bool{"v1": true, "V2": true, "v10": true, "v1beta1": true, "v2alpha": true,
		"v2.1": true, "v": false, "va": false, "v1.": false, "version": false, "1": false, "v1-2": false} {
		require.Equal(t, want, isVersion(s), s)
	}
}

func TestNormMethod(t *testing.T) {
	require.Equal(t, "GET", normMethod("get"))
	require.Equal(t, "PATCH", normMethod("PATCH"))
	require.Equal(t, "OTHER", normMethod("PROPFIND"))
	require.Equal(t, "OTHER", normMethod(""))
}

func TestConfigValidate(t *testing.T) {
	c := DefaultConfig()
	require.NoError(t, c.Validate())
	bad := DefaultConfig()
	bad.Listen = "nope"
	bad.EndpointTemplates = []string{"api/x", "/a/{b", "/a//b", "/{rest...}/x", "/q?x=1", "/"}
	bad.APIKeyIDs = []string{""}
	bad.MaxSeriesPerMetric = 1
	bad.SeriesIdleExpiry = 0
	bad.DurationBuckets = []float64{1, 0.5}
	err := bad.Validate()
	require.Error(t, err)
	for _, want := range []string{"metrics.listen", "endpoint_templates[0]", "endpoint_templates[1]", "endpoint_templates[2]",
		"endpoint_templates[3]", "endpoint_templates[4]", "api_key_ids[0]", "max_series_per_metric", "series_idle_expiry", "duration_buckets"} {
		require.ErrorContains(t, err, want)
	}
	require.NotContains(t, err.Error(), "endpoint_templates[5]")
	bad = DefaultConfig()
	bad.Listen = ""
	require.ErrorContains(t, bad.Validate(), "metrics.listen")
}
