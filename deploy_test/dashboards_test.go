package deploy_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

type dashboard struct {
	file       string
	UID        string `json:"uid"`
	Title      string `json:"title"`
	Templating struct {
		List []struct {
			Name  string `json:"name"`
			Type  string `json:"type"`
			Query any    `json:"query"`
		} `json:"list"`
	} `json:"templating"`
	Panels []dashboardPanel `json:"panels"`
}

type dashboardPanel struct {
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
	Panels []dashboardPanel `json:"panels"` // collapsed rows
}

func loadDashboards(t *testing.T) []dashboard {
	t.Helper()
	files, err := filepath.Glob(path("monitoring", "dashboards", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var out []dashboard
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		var d dashboard
		require.NoError(t, json.Unmarshal(b, &d), f)
		d.file = filepath.Base(f)
		out = append(out, d)
	}
	return out
}

// panels flattens rows.
func (d dashboard) panels() []dashboardPanel {
	var out []dashboardPanel
	var walk func(ps []dashboardPanel)
	walk = func(ps []dashboardPanel) {
		for _, p := range ps {
			out = append(out, p)
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return out
}

type dashExpr struct {
	where, expr string
}

func (d dashboard) exprs() []dashExpr {
	var out []dashExpr
	for _, p := range d.panels() {
		for _, tg := range p.Targets {
			out = append(out, dashExpr{fmt.Sprintf("%s: panel %q %s", d.file, p.Title, tg.RefID), tg.Expr})
		}
	}
	return out
}

var grafanaVar = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)(?::[A-Za-z0-9_]+)?\}|\$([A-Za-z0-9_]+)`)

// substituteGrafana replaces Grafana's variables with values PromQL parses:
// the interval variables with a duration, the others with a label value.
func substituteGrafana(expr string) string {
	return grafanaVar.ReplaceAllStringFunc(expr, func(m string) string {
		sub := grafanaVar.FindStringSubmatch(m)
		name := sub[1] + sub[2]
		if strings.HasPrefix(name, "__") {
			return "5m"
		}
		return "x"
	})
}

func TestDashboards(t *testing.T) {
	t.Parallel()
	ds := loadDashboards(t)
	uids := map[string]bool{}
	byUID := map[string]dashboard{}
	for _, d := range ds {
		require.NotEmpty(t, d.UID, d.file)
		require.NotEmpty(t, d.Title, d.file)
		assert.False(t, uids[d.UID], "unique uid %s", d.UID)
		uids[d.UID] = true
		byUID[d.UID] = d
		vars := map[string]string{}
		for _, v := range d.Templating.List {
			vars[v.Name] = v.Type
		}
		assert.Equal(t, "datasource", vars["datasource"], "%s: a data source variable (local Prometheus or Grafana Cloud Mimir)", d.file)
		require.NotEmpty(t, d.exprs(), d.file)
		for _, p := range d.panels() {
			if p.Type == "row" {
				continue
			}
			require.NotNil(t, p.Datasource, "%s: panel %q", d.file, p.Title)
			assert.Equal(t, "${datasource}", p.Datasource.UID, "%s: panel %q uses the data source variable", d.file, p.Title)
			assert.NotEmpty(t, p.Targets, "%s: panel %q", d.file, p.Title)
		}
		for _, e := range d.exprs() {
			metricNames(t, e.where, substituteGrafana(e.expr)) // parses
			for _, m := range grafanaVar.FindAllStringSubmatch(e.expr, -1) {
				name := m[1] + m[2]
				if !strings.HasPrefix(name, "__") {
					assert.Contains(t, vars, name, "%s uses an undefined variable $%s", e.where, name)
				}
			}
		}
	}
	require.Contains(t, byUID, "logshipd-health")
	require.Contains(t, byUID, "services-red")

	// RED: an environment variable separates dev and prod; every query is
	// restricted to it.
	red := byUID["services-red"]
	var envVar bool
	for _, v := range red.Templating.List {
		if v.Name == "environment" {
			envVar = true
			assert.Equal(t, "query", v.Type)
		}
	}
	require.True(t, envVar, "services-red has an environment variable")
	for _, e := range red.exprs() {
		for _, sel := range regexp.MustCompile(`[a-z_]+\{[^}]*\}`).FindAllString(e.expr, -1) {
			assert.Contains(t, sel, `environment="$environment"`, "%s: every selector is limited to the chosen environment", e.where)
		}
	}
	var red3 []string
	for _, e := range red.exprs() {
		red3 = append(red3, metricNames(t, e.where, substituteGrafana(e.expr))...)
	}
	for _, want := range []string{"http_requests_total", "request_errors_total", "request_duration_seconds_bucket"} {
		assert.Contains(t, red3, want, "RED uses %s", want)
	}
}

// TestDashboardExpressionsWithPromtool checks every dashboard expression
// with promtool as well: they become recording rules of a generated rule
// file.
func TestDashboardExpressionsWithPromtool(t *testing.T) {
	t.Parallel()
	tool := promtool(t)
	type rule struct {
		Record string `yaml:"record"`
		Expr   string `yaml:"expr"`
	}
	var rules []rule
	for _, d := range loadDashboards(t) {
		for i, e := range d.exprs() {
			rules = append(rules, rule{Record: fmt.Sprintf("dashboard:%s:%d", strings.ReplaceAll(d.UID, "-", "_"), i), Expr: substituteGrafana(e.expr)})
		}
	}
	b, err := yaml.Marshal(map[string]any{"groups": []any{map[string]any{"name": "dashboards", "rules": rules}}})
	require.NoError(t, err)
	f := filepath.Join(t.TempDir(), "dashboards.rules.yml")
	require.NoError(t, os.WriteFile(f, b, 0o600))
	out, err := exec.CommandContext(t.Context(), tool, "check", "rules", f).CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Contains(t, string(out), fmt.Sprintf("SUCCESS: %d rules found", len(rules)))
}

// documentedNotExposed are metrics docs/metrics.md lists that `logshipd
// run` does not register; a rule may read them only next to a fallback.
var documentedNotExposed = map[string]string{
	"logshipd_sink_rejected_events_total": "cmd/logshipd registers no Rejected accessor for the cloudwatch sink (SelfCollector.AddSink is called for span_events only); LogshipdCloudWatchRejections also reads the dead-letter counter",
}

// TestMetricNamesAgainstRunningDaemon runs logshipd with a file source fed
// access-style request logs, a Forward source, a working sink and a broken
// one (so that errors and dead letters exist), scrapes /metrics, and checks
// that every metric the dashboards and alert rules read is one the daemon
// exposes. It also runs the Dockerfile's HEALTHCHECK command against it.
func TestMetricNamesAgainstRunningDaemon(t *testing.T) {
	t.Parallel()
	bin := logshipdBin(t)
	dir := t.TempDir()
	// otlpPort has no listener: span exports fail and are counted.
	port, fwdPort, otlpPort := freePort(t), freePort(t), freePort(t)
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "logs"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "not-a-dir"), []byte("x"), 0o600))
	now := time.Now().UTC()
	var lines strings.Builder
	for i, l := range []struct {
		method, path string
		status       int
		level        string
		duration     float64
	}{
		{"GET", "/api/v1/sessions/session_67890", 200, "INFO", 0.042},
		{"GET", "/api/v1/sessions/session_12345", 200, "INFO", 1.7},
		{"POST", "/api/v1/workflows/workflow_abc123", 201, "INFO", 0.31},
		{"GET", "/api/v1/users/42", 404, "WARN", 0.004},
		{"POST", "/api/v1/workflows/workflow_abc124", 500, "ERROR", 2.2},
	} {
		fmt.Fprintf(&lines, `{"timestamp":%q,"level":%q,"service":"api-gateway","message":"request","tracking_id":"4afd0fa1-83c5-463f-b652-33eb297dbe8c","request":{"method":%q,"path":%q,"duration":%g},"response":{"status":%d}}`+"\n",
			now.Add(time.Duration(i)*time.Millisecond).Format(time.RFC3339Nano), l.level, l.method, l.path, l.duration, l.status)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "logs", "api-gateway.log"), []byte(lines.String()), 0o600))
	cfg := fmt.Sprintf(`data_dir: %[1]s/data
environment: dev
metrics:
  listen: 127.0.0.1:%[2]d
  endpoint_templates: ["/api/v1/sessions/{id}"]
sources:
  - {name: app-logs, type: file, include: ["%[1]s/logs/*.log"]}
  - {name: firelens, type: forward, listen: "127.0.0.1:%[3]d", health_listen: "", ecs_metadata: "off"}
span_events: {enabled: true, endpoint: "127.0.0.1:%[4]d", protocol: grpc, insecure: true, max_retry_time: 0s, timeout: 200ms}
sinks:
  - {name: records, type: file, path: "%[1]s/out/{service}.jsonl"}
  - name: broken
    type: file
    path: "%[1]s/not-a-dir/{service}.jsonl"
    queue: {max_retry_time: 1s, initial_backoff: 10ms, max_backoff: 50ms}
`, dir, port, fwdPort, otlpPort)
	cfgFile := filepath.Join(dir, "logshipd.yaml")
	require.NoError(t, os.WriteFile(cfgFile, []byte(cfg), 0o600))

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "run", "-c", cfgFile)
	cmd.Env = cleanEnv()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cancel()
			<-done
		}
	}()

	addr := fmt.Sprintf("127.0.0.1:%d", port)
	var exposed map[string]bool
	require.Eventually(t, func() bool {
		names, err := scrapeNames("http://" + addr + "/metrics")
		if err != nil {
			return false
		}
		exposed = names
		return names["http_requests_total"] && names["request_duration_seconds_bucket"] && names["request_errors_total"] &&
			names["logshipd_sink_dead_lettered_records_total"] && names["logshipd_sink_errors_total"] && names["logshipd_span_events_created_total"]
	}, 30*time.Second, 100*time.Millisecond, "the daemon exposes the derived metrics, errors and dead letters; stderr:\n%s", &stderr)

	// The image's HEALTHCHECK command, pointed at this daemon.
	hc := commandsOf[*instructions.HealthCheckCommand](parseDockerfile(t).final())[0].Health.Test[1:]
	args := append([]string(nil), hc[1:]...)
	for i := range args {
		if args[i] == "--addr" {
			args[i+1] = addr
		}
	}
	require.Equal(t, "/logshipd", hc[0])
	out, err := exec.CommandContext(t.Context(), bin, args...).CombinedOutput()
	require.NoError(t, err, "HEALTHCHECK %v: %s", args, out)
	assert.Equal(t, "ok\n", string(out))

	// Informational: exposed families docs/metrics.md does not list.
	docs := documentedMetrics(t)
	var undocumented []string
	for n := range exposed {
		if !documented(docs, n) && !strings.HasPrefix(n, "promhttp_") {
			undocumented = append(undocumented, n)
		}
	}
	sort.Strings(undocumented)
	if len(undocumented) > 0 {
		t.Logf("exposed but not in docs/metrics.md: %s", strings.Join(undocumented, ", "))
	}

	t.Run("dashboards", func(t *testing.T) {
		for _, d := range loadDashboards(t) {
			for _, e := range d.exprs() {
				for _, n := range metricNames(t, e.where, substituteGrafana(e.expr)) {
					assert.True(t, exposed[n] || n == "up", "%s: metric %s is not exposed by logshipd", e.where, n)
				}
			}
			for _, v := range d.Templating.List {
				q, _ := v.Query.(map[string]any)
				if q == nil {
					continue
				}
				for _, m := range regexp.MustCompile(`label_values\(([a-z_:][a-z0-9_:]*)`).FindAllStringSubmatch(fmt.Sprint(q["query"]), -1) {
					assert.True(t, exposed[m[1]], "%s: variable %s reads %s, which logshipd does not expose", d.file, v.Name, m[1])
				}
			}
		}
	})
	t.Run("rules", func(t *testing.T) {
		exprs, records := ruleExprs(t)
		for what, expr := range exprs {
			for _, n := range metricNames(t, what, expr) {
				if records[n] || n == "up" {
					continue
				}
				if why, ok := documentedNotExposed[n]; ok {
					assert.False(t, exposed[n], "%s is exposed now: remove it from documentedNotExposed", n)
					t.Logf("%s: %s is documented but not exposed: %s", what, n, why)
					continue
				}
				assert.True(t, exposed[n], "%s: metric %s is not exposed by logshipd", what, n)
			}
		}
	})
}

// scrapeNames GETs a Prometheus text exposition and returns the sample
// names in it.
func scrapeNames(url string) (map[string]bool, error) {
	resp, err := http.Get(url) //nolint:gosec // loopback test server
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", url, resp.Status)
	}
	names := map[string]bool{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		end := strings.IndexAny(line, "{ ")
		if end < 0 {
			continue
		}
		names[line[:end]] = true
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return names, nil
}
