package deploy_test

import (
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

func TestPromtoolCheckConfig(t *testing.T) {
	t.Parallel()
	out := runPromtool(t, path("monitoring"), "check", "config", "prometheus.yml")
	assert.Contains(t, out, "SUCCESS")
	// prometheus.yml loads the rule files under rules/ (not the tests).
	assert.Contains(t, out, "rules/logshipd.rules.yml")
	assert.Contains(t, out, "rules/services.rules.yml")
}

func TestPromtoolCheckRules(t *testing.T) {
	t.Parallel()
	files := ruleFiles(t)
	out := runPromtool(t, path("monitoring"), append([]string{"check", "rules"}, files...)...)
	assert.Equal(t, len(files), strings.Count(out, "SUCCESS"), out)
}

func TestPromtoolTestRules(t *testing.T) {
	t.Parallel()
	tests, err := filepath.Glob(path("monitoring", "rules", "tests", "*.test.yml"))
	require.NoError(t, err)
	require.NotEmpty(t, tests)
	var rel []string
	for _, f := range tests {
		r, err := filepath.Rel(path("monitoring"), f)
		require.NoError(t, err)
		rel = append(rel, r)
	}
	out := runPromtool(t, path("monitoring"), append([]string{"test", "rules"}, rel...)...)
	assert.Equal(t, len(rel), strings.Count(out, "SUCCESS"), out)
}

// ruleFiles lists monitoring/rules/*.yml relative to monitoring/.
func ruleFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(path("monitoring", "rules", "*.yml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var rel []string
	for _, f := range files {
		r, err := filepath.Rel(path("monitoring"), f)
		require.NoError(t, err)
		rel = append(rel, r)
	}
	return rel
}

type ruleGroups struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Record      string            `yaml:"record"`
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

type ruleTests struct {
	RuleFiles []string `yaml:"rule_files"`
	Tests     []struct {
		Name          string `yaml:"name"`
		AlertRuleTest []struct {
			EvalTime  string           `yaml:"eval_time"`
			Alertname string           `yaml:"alertname"`
			ExpAlerts []map[string]any `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
	} `yaml:"tests"`
}

func loadRules(t *testing.T, rel string) ruleGroups {
	t.Helper()
	var g ruleGroups
	require.NoError(t, yaml.Unmarshal(readFile(t, "monitoring", filepath.FromSlash(rel)), &g))
	return g
}

// TestRuleTestsCoverEveryAlert: every rule file is unit-tested, and every
// alert has a test where it fires and one where it stays silent.
func TestRuleTestsCoverEveryAlert(t *testing.T) {
	t.Parallel()
	tests, err := filepath.Glob(path("monitoring", "rules", "tests", "*.test.yml"))
	require.NoError(t, err)
	covered := map[string]bool{}
	fires, silent := map[string]bool{}, map[string]bool{}
	for _, f := range tests {
		var rt ruleTests
		b := readFile(t, "monitoring", "rules", "tests", filepath.Base(f))
		require.NoError(t, yaml.Unmarshal(b, &rt))
		for _, rf := range rt.RuleFiles {
			covered[filepath.ToSlash(filepath.Clean(filepath.Join("rules", "tests", rf)))] = true
		}
		for _, tc := range rt.Tests {
			for _, a := range tc.AlertRuleTest {
				if len(a.ExpAlerts) > 0 {
					fires[a.Alertname] = true
				} else {
					silent[a.Alertname] = true
				}
			}
		}
	}
	var alerts []string
	for _, rf := range ruleFiles(t) {
		assert.True(t, covered[filepath.ToSlash(rf)], "%s has unit tests", rf)
		for _, g := range loadRules(t, rf).Groups {
			for _, r := range g.Rules {
				if r.Alert == "" {
					continue
				}
				alerts = append(alerts, r.Alert)
				assert.True(t, fires[r.Alert], "a test makes %s fire", r.Alert)
				assert.True(t, silent[r.Alert], "a test keeps %s silent", r.Alert)
				assert.NotEmpty(t, r.Labels["severity"], "%s has a severity", r.Alert)
				assert.NotEmpty(t, r.Annotations["summary"], "%s has a summary", r.Alert)
				assert.NotEmpty(t, r.Annotations["description"], "%s has a description", r.Alert)
			}
		}
	}
	sort.Strings(alerts)
	// What the issue asks for.
	for _, want := range []string{"LogshipdRecordsDeadLettered", "LogshipdCloudWatchRejections", "LogshipdSinkQueueAbove80Percent",
		"LogshipdSinkErrors", "LogshipdCheckpointLagGrowing", "LogshipdNoRecordsReceived", "ServiceHighErrorRatio", "ServiceHighLatencyP95"} {
		assert.Contains(t, alerts, want)
	}
}

// ruleExprs returns every rule expression and the recording rule names.
func ruleExprs(t *testing.T) (exprs map[string]string, records map[string]bool) {
	t.Helper()
	exprs, records = map[string]string{}, map[string]bool{}
	for _, rf := range ruleFiles(t) {
		for _, g := range loadRules(t, rf).Groups {
			for _, r := range g.Rules {
				name := r.Alert
				if r.Record != "" {
					name = r.Record
					records[r.Record] = true
				}
				exprs[rf+": "+name] = r.Expr
			}
		}
	}
	return exprs, records
}

var promqlParser = parser.NewParser(parser.Options{})

// metricNames parses expr and returns the metric names it selects.
func metricNames(t *testing.T, what, expr string) []string {
	t.Helper()
	e, err := promqlParser.ParseExpr(expr)
	require.NoError(t, err, "%s: %s", what, expr)
	seen := map[string]bool{}
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		name := vs.Name
		for _, m := range vs.LabelMatchers {
			if m.Name == "__name__" {
				name = m.Value
			}
		}
		require.NotEmpty(t, name, "%s: every selector names its metric: %s", what, vs)
		seen[name] = true
		return nil
	})
	var out []string
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// documentedMetrics are the metric names docs/metrics.md lists (histogram
// series with their suffixes), plus go_* / process_* which it names as
// prefixes.
func documentedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	doc := string(readFile(t, "docs", "metrics.md"))
	names := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z][a-z0-9_]*)(?:\\{[a-z_]*\\})?` \\| (counter|gauge|histogram)").FindAllStringSubmatch(doc, -1) {
		names[m[1]] = true
		if m[2] == "histogram" {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				names[m[1]+s] = true
			}
		}
	}
	require.Contains(t, names, "http_requests_total")
	require.Contains(t, names, "request_duration_seconds_bucket")
	require.Contains(t, names, "logshipd_sink_dead_lettered_records_total")
	return names
}

func documented(names map[string]bool, n string) bool {
	return names[n] || strings.HasPrefix(n, "go_") || strings.HasPrefix(n, "process_") || n == "up"
}

// TestRuleExpressionsUseDocumentedMetrics: every rule parses (the Go PromQL
// parser, in addition to promtool) and reads only metrics logshipd
// documents, `up`, or recording rules defined here.
func TestRuleExpressionsUseDocumentedMetrics(t *testing.T) {
	t.Parallel()
	docs := documentedMetrics(t)
	exprs, records := ruleExprs(t)
	for what, expr := range exprs {
		for _, n := range metricNames(t, what, expr) {
			assert.True(t, documented(docs, n) || records[n], "%s: metric %s is neither in docs/metrics.md nor a recording rule", what, n)
		}
	}
}
