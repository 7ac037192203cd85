package deploy_test

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

type composeFile struct {
	Name     string                    `yaml:"name"`
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
	Networks map[string]any            `yaml:"networks"`
}

type composeService struct {
	Image       string            `yaml:"image"`
	Build       *composeBuild     `yaml:"build"`
	Command     []string          `yaml:"command"`
	Environment map[string]string `yaml:"environment"`
	EnvFile     []string          `yaml:"env_file"`
	Volumes     []string          `yaml:"volumes"`
	Ports       []string          `yaml:"ports"`
	DependsOn   []string          `yaml:"depends_on"`
	Restart     string            `yaml:"restart"`
}

type composeBuild struct {
	Context    string `yaml:"context"`
	Dockerfile string `yaml:"dockerfile"`
}

func loadCompose(t *testing.T) (composeFile, string) {
	t.Helper()
	src := string(readFile(t, "monitoring", "docker-compose.monitoring.yml"))
	var c composeFile
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true) // also refuses the obsolete top-level `version`
	require.NoError(t, dec.Decode(&c))
	return c, src
}

type mount struct{ source, target string }

func mountsOf(s composeService) []mount {
	var out []mount
	for _, v := range s.Volumes {
		parts := strings.Split(v, ":")
		out = append(out, mount{source: parts[0], target: parts[1]})
	}
	return out
}

// TestComposeReferencesExistingFiles: the compose file parses, every bind
// mount, build context, Dockerfile and env file exists, named volumes are
// declared, and the configuration files the commands read are mounted.
func TestComposeReferencesExistingFiles(t *testing.T) {
	t.Parallel()
	c, src := loadCompose(t)
	dir := path("monitoring")
	exists := func(rel string) bool {
		_, err := os.Stat(filepath.Join(dir, filepath.FromSlash(rel)))
		return err == nil
	}
	require.ElementsMatch(t, []string{"otel-collector", "jaeger", "prometheus", "logshipd"}, keysOfServices(c))
	for name, s := range c.Services {
		if s.Build != nil {
			assert.True(t, exists(s.Build.Context), "%s: build context %s", name, s.Build.Context)
			assert.True(t, exists(filepath.Join(s.Build.Context, s.Build.Dockerfile)), "%s: Dockerfile", name)
		} else {
			assert.Regexp(t, pinnedImage, s.Image, "%s: image pinned by tag and digest", name)
		}
		for _, f := range s.EnvFile {
			assert.True(t, exists(f), "%s: env_file %s", name, f)
		}
		targets := map[string]bool{}
		for _, m := range mountsOf(s) {
			targets[m.target] = true
			if strings.HasPrefix(m.source, ".") || strings.HasPrefix(m.source, "/") {
				assert.True(t, exists(m.source), "%s: bind mount source %s exists", name, m.source)
			} else {
				assert.Contains(t, c.Volumes, m.source, "%s: named volume %s is declared", name, m.source)
			}
		}
		// Configuration files named on the command line are mounted.
		for _, arg := range s.Command {
			for _, p := range regexp.MustCompile(`/etc/[^\s=]+`).FindAllString(arg, -1) {
				mounted := false
				for tgt := range targets {
					if p == tgt || strings.HasPrefix(p, tgt+"/") {
						mounted = true
					}
				}
				assert.True(t, mounted, "%s: %s is mounted", name, p)
			}
		}
		for _, p := range s.Ports {
			assert.True(t, strings.HasPrefix(p, "127.0.0.1:"), "%s: port %s binds to loopback only", name, p)
		}
		for _, d := range s.DependsOn {
			assert.Contains(t, c.Services, d, "%s depends on an existing service", name)
		}
	}
	assert.Contains(t, c.Services["prometheus"].Command, "--storage.tsdb.retention.time=7d", "7-day retention")
	assert.Contains(t, c.Services["prometheus"].Command, "--enable-feature=exemplar-storage", "logshipd's exemplars")

	// logshipd runs the checked configuration and tails the shared volume.
	ls := c.Services["logshipd"]
	require.Len(t, ls.Command, 3)
	var cfgSource string
	var logsTarget string
	for _, m := range mountsOf(ls) {
		if m.target == ls.Command[2] {
			cfgSource = m.source
		}
		if m.source == "app-logs" {
			logsTarget = m.target
		}
	}
	assert.Equal(t, "./logshipd.yaml", cfgSource, "logshipd runs monitoring/logshipd.yaml")
	require.NotEmpty(t, logsTarget, "the shared log volume is mounted into logshipd")
	cfg := expandConfig(t, "monitoring/logshipd.yaml", nil)
	include := cfg["sources"].([]any)[0].(map[string]any)["include"].([]any)
	for _, inc := range include {
		assert.True(t, strings.HasPrefix(inc.(string), logsTarget+"/"), "logshipd tails %s inside the shared volume", inc)
	}

	// Every variable the compose file uses is in the example env file, and
	// every variable the collector configuration uses reaches the collector.
	example := envExample(t)
	for _, m := range regexp.MustCompile(`\$\{([A-Z_][A-Z0-9_]*)`).FindAllStringSubmatch(src, -1) {
		assert.Contains(t, example, m[1], ".env.monitoring.example defines %s", m[1])
	}
	for _, ref := range collectorEnvRefs(t) {
		name := strings.TrimSuffix(strings.TrimPrefix(ref, "${env:"), "}")
		assert.Contains(t, c.Services["otel-collector"].Environment, name, "the collector gets %s", name)
	}
}

func keysOfServices(c composeFile) []string {
	var out []string
	for k := range c.Services {
		out = append(out, k)
	}
	return out
}

// TestPrometheusScrapesTheStack: prometheus.yml scrapes logshipd and the
// collector at the ports their configurations listen on, by compose service
// name.
func TestPrometheusScrapesTheStack(t *testing.T) {
	t.Parallel()
	var cfg struct {
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	require.NoError(t, yaml.Unmarshal(readFile(t, "monitoring", "prometheus.yml"), &cfg))
	targets := map[string][]string{}
	for _, sc := range cfg.ScrapeConfigs {
		for _, s := range sc.StaticConfigs {
			targets[sc.JobName] = append(targets[sc.JobName], s.Targets...)
		}
	}
	ls := expandConfig(t, "monitoring/logshipd.yaml", nil)
	listen := ls["metrics"].(map[string]any)["listen"].(string)
	assert.True(t, strings.HasPrefix(listen, "0.0.0.0:"), "logshipd's metrics reachable from Prometheus' container")
	assert.Equal(t, []string{"logshipd:" + listen[strings.LastIndex(listen, ":")+1:]}, targets["logshipd"])
	ports := collectorPorts(t)
	assert.Equal(t, []string{"otel-collector:" + ports["telemetry"]}, targets["otel-collector"])
	assert.Equal(t, []string{"otel-collector:" + ports["prometheus"]}, targets["otel-collector-exporter"])
	c, _ := loadCompose(t)
	for job, ts := range targets {
		for _, tgt := range ts {
			host := tgt[:strings.LastIndex(tgt, ":")]
			if host != "localhost" {
				assert.Contains(t, c.Services, host, "job %s scrapes a compose service", job)
			}
		}
	}
}

func envExample(t *testing.T) map[string]string {
	t.Helper()
	env := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(readFile(t, "monitoring", ".env.monitoring.example")))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		require.True(t, ok, "KEY=VALUE: %q", line)
		require.NotContains(t, env, k, "duplicate %s", k)
		env[k] = v
	}
	return env
}

// TestEnvExampleHoldsPlaceholdersOnly: the example env file carries the
// guide's variables with placeholder values and nothing that looks like a
// real key; the filled-in copy is git-ignored.
func TestEnvExampleHoldsPlaceholdersOnly(t *testing.T) {
	t.Parallel()
	env := envExample(t)
	for _, k := range []string{"ENVIRONMENT", "GRAFANA_CLOUD_API_KEY", "GRAFANA_CLOUD_PROMETHEUS_URL", "GRAFANA_CLOUD_PROMETHEUS_USER",
		"GRAFANA_CLOUD_LOKI_URL", "GRAFANA_CLOUD_LOKI_USER"} {
		assert.Contains(t, env, k)
	}
	assert.Contains(t, []string{"dev", "staging", "prod"}, env["ENVIRONMENT"])
	// Mixed-case letter/digit runs like tokens have; placeholders are
	// upper-case words.
	tokenLike := regexp.MustCompile(`[A-Za-z0-9+/_-]{20,}`)
	mixedCase := regexp.MustCompile(`[A-Z]`)
	for k, v := range env {
		assertNoCredentials(t, ".env.monitoring.example "+k, v)
		for _, run := range tokenLike.FindAllString(v, -1) {
			if mixedCase.MatchString(run) && strings.ContainsAny(run, "abcdefghijklmnopqrstuvwxyz") && strings.ContainsAny(run, "0123456789") {
				t.Errorf("%s=%s: %q looks like a real value, not a placeholder", k, v, run)
			}
		}
		if strings.HasSuffix(k, "_KEY") || strings.HasSuffix(k, "_USER") {
			assert.Regexp(t, `^(YOUR|REPLACE)_[A-Z_]+$`, v, "%s is an obvious placeholder", k)
		}
		if strings.HasSuffix(k, "_URL") {
			assert.Regexp(t, `^https://[a-z-]*(NN|NNN)[A-Za-z-]*\.grafana\.net`, v, "%s is a placeholder URL", k)
		}
	}
	ignore := string(readFile(t, "monitoring", ".gitignore"))
	assert.Contains(t, strings.Split(ignore, "\n"), ".env.monitoring", "the filled-in copy is git-ignored")
	for _, f := range []string{"otel-collector-config.yml", "docker-compose.monitoring.yml", "prometheus.yml", "logshipd.yaml"} {
		assertNoCredentials(t, "monitoring/"+f, string(readFile(t, "monitoring", f)))
	}
}
