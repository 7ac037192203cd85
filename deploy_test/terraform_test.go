package deploy_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"
	"gopkg.in/yaml.v3"
)

// The services logshipd routes logs for.
var services = []string{"api-gateway", "workflow-agent", "workflow-engine"}

// cloudWatchSinkActions are the CloudWatch Logs API calls the cloudwatch
// sink makes (docs/sinks/cloudwatch.md: PutLogEvents; CreateLogGroup,
// PutRetentionPolicy and CreateLogStream when a group or stream is missing;
// no DescribeLogStreams).
var cloudWatchSinkActions = []string{"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:PutRetentionPolicy"}

// TestTerraformFormatted: every .tf file equals its canonical formatting
// (hclwrite.Format, the formatter terraform fmt is built on).
func TestTerraformFormatted(t *testing.T) {
	t.Parallel()
	m := loadTF(t)
	for name, src := range m.files {
		formatted := hclwrite.Format(src)
		if string(formatted) != string(src) {
			t.Errorf("infra/%s is not formatted (terraform fmt); formatted:\n%s", name, formatted)
		}
	}
	for _, want := range []string{"monitoring.tf", "ecs.tf", "iam.tf", "variables.tf", "outputs.tf", "versions.tf"} {
		assert.Contains(t, m.files, want)
	}
}

func TestTerraformVariables(t *testing.T) {
	t.Parallel()
	m := loadTF(t)
	for name, b := range m.variables {
		_, hasDesc := b.Body.Attributes["description"]
		_, hasType := b.Body.Attributes["type"]
		assert.True(t, hasDesc && hasType, "variable %s has a description and a type", name)
	}
	// The Grafana Cloud key: sensitive, ephemeral (write-only), never null.
	key := m.variables["grafana_cloud_api_key"]
	require.NotNil(t, key)
	for _, a := range []string{"sensitive", "ephemeral"} {
		assert.Equal(t, cty.True, m.attr(t, key, a, nil), "grafana_cloud_api_key.%s", a)
	}
	_, hasDefault := key.Body.Attributes["default"]
	assert.False(t, hasDefault, "a secret has no default")

	// The validation rules accept the test values and refuse what they should.
	validate := func(name string, v cty.Value) bool {
		b := m.variables[name]
		require.NotNil(t, b, name)
		saved := m.vars[name]
		m.vars[name] = v
		defer func() { m.vars[name] = saved }()
		ok := true
		for _, vb := range b.Body.Blocks {
			if vb.Type != "validation" {
				continue
			}
			res := m.attr(t, vb, "condition", nil)
			ok = ok && res.True()
		}
		return ok
	}
	for name, v := range m.vars {
		assert.True(t, validate(name, v), "variable %s = %#v passes its validation", name, v)
	}
	assert.False(t, validate("environment", cty.StringVal("production")))
	assert.False(t, validate("logshipd_image", cty.StringVal("logshipd:latest")), "unpinned image")
	assert.False(t, validate("logshipd_image", cty.StringVal("logshipd@sha256:"+strings.Repeat("0", 64))), "digest without a version tag")
	assert.False(t, validate("log_group_prefix", cty.StringVal("/aws/ecs")))
	assert.False(t, validate("log_group_prefix", cty.StringVal("/ai-teams/")))
	assert.False(t, validate("cloudwatch_retention_days", cty.NumberIntVal(10)))

	// The services are the three the mission names.
	svc := m.vars["services"]
	var keys []string
	for it := svc.ElementIterator(); it.Next(); {
		k, _ := it.Element()
		keys = append(keys, k.AsString())
	}
	sort.Strings(keys)
	assert.Equal(t, services, keys)
}

// TestTerraformSSMParameters: a SecureString for the Grafana Cloud key
// (written write-only from the sensitive variable) and a String holding JSON
// configuration.
func TestTerraformSSMParameters(t *testing.T) {
	t.Parallel()
	m := loadTF(t)
	require.Equal(t, "monitoring.tf", m.resources["aws_ssm_parameter"]["grafana_cloud_api_key"].file)

	key := m.resource(t, "aws_ssm_parameter", "grafana_cloud_api_key")
	assert.Equal(t, "SecureString", m.attr(t, key, "type", nil).AsString())
	_, plain := key.Body.Attributes["value"]
	assert.False(t, plain, "the key is written with value_wo, so it never reaches the state")
	assert.Equal(t, []string{"var.grafana_cloud_api_key"}, traversalRoots(key.Body.Attributes["value_wo"].Expr))
	_, hasVersion := key.Body.Attributes["value_wo_version"]
	assert.True(t, hasVersion, "value_wo_version lets a new key be written")

	cfg := m.resource(t, "aws_ssm_parameter", "logshipd_metrics_config")
	assert.Equal(t, "String", m.attr(t, cfg, "type", nil).AsString())
	var metrics map[string]any
	require.NoError(t, json.Unmarshal([]byte(m.attr(t, cfg, "value", nil).AsString()), &metrics), "the String parameter holds JSON")
	assert.Equal(t, "0.0.0.0:9464", metrics["listen"], "the metrics port the HEALTHCHECK and Prometheus use")
	assert.Contains(t, metrics, "endpoint_templates")

	// Parameter names are scoped to project and environment.
	for _, b := range []string{"grafana_cloud_api_key", "logshipd_metrics_config"} {
		name := m.attr(t, m.resource(t, "aws_ssm_parameter", b), "name", nil).AsString()
		assert.True(t, strings.HasPrefix(name, "/starmates-ai-team/prod/"), name)
	}
}

// ecsContainerKeys are the keys of an ECS container definition
// (RegisterTaskDefinition ContainerDefinition), to catch misspelt keys that
// ECS would reject.
var ecsContainerKeys = []string{"name", "image", "repositoryCredentials", "cpu", "memory", "memoryReservation", "links",
	"portMappings", "essential", "restartPolicy", "entryPoint", "command", "environment", "environmentFiles", "mountPoints",
	"volumesFrom", "linuxParameters", "secrets", "dependsOn", "startTimeout", "stopTimeout", "versionConsistency",
	"hostname", "user", "workingDirectory", "disableNetworking", "privileged", "readonlyRootFilesystem", "dnsServers",
	"dnsSearchDomains", "extraHosts", "dockerSecurityOptions", "interactive", "pseudoTerminal", "dockerLabels", "ulimits",
	"logConfiguration", "healthCheck", "systemControls", "resourceRequirements", "firelensConfiguration", "credentialSpecs"}

type containerDef struct {
	Name                  string                         `json:"name"`
	Image                 string                         `json:"image"`
	Essential             bool                           `json:"essential"`
	User                  string                         `json:"user"`
	Command               []string                       `json:"command"`
	MemoryReservation     int                            `json:"memoryReservation"`
	FirelensConfiguration *struct{ Type string }         `json:"firelensConfiguration"`
	Environment           []struct{ Name, Value string } `json:"environment"`
	Secrets               []struct {
		Name      string `json:"name"`
		ValueFrom string `json:"valueFrom"`
	} `json:"secrets"`
	HealthCheck *struct {
		Command                                 []string
		Interval, Timeout, Retries, StartPeriod int
	} `json:"healthCheck"`
	PortMappings []struct {
		ContainerPort int `json:"containerPort"`
	} `json:"portMappings"`
	DependsOn []struct {
		ContainerName string `json:"containerName"`
		Condition     string `json:"condition"`
	} `json:"dependsOn"`
	LogConfiguration *struct {
		LogDriver string            `json:"logDriver"`
		Options   map[string]string `json:"options"`
	} `json:"logConfiguration"`
}

// taskDefinitions evaluates aws_ecs_task_definition.service for every
// service: service -> container definitions.
func taskDefinitions(t *testing.T, m *tfModule) map[string][]containerDef {
	t.Helper()
	td := m.resource(t, "aws_ecs_task_definition", "service")
	out := map[string][]containerDef{}
	for key, value := range m.forEach(t, td) {
		each := map[string]cty.Value{"key": cty.StringVal(key), "value": value}
		js := m.attr(t, td, "container_definitions", each).AsString()
		var raw []map[string]any
		require.NoError(t, json.Unmarshal([]byte(js), &raw), key)
		for _, c := range raw {
			for k := range c {
				assert.Contains(t, ecsContainerKeys, k, "%s: %v: not a key of an ECS container definition", key, c["name"])
			}
		}
		var defs []containerDef
		require.NoError(t, json.Unmarshal([]byte(js), &defs), key)
		out[key] = defs
	}
	return out
}

func envOf(c containerDef) map[string]string {
	env := map[string]string{}
	for _, e := range c.Environment {
		env[e.Name] = e.Value
	}
	return env
}

// TestTerraformFireLensTaskDefinitions: each service's task has logshipd as
// its FireLens log router and the service logging through awsfirelens.
func TestTerraformFireLensTaskDefinitions(t *testing.T) {
	t.Parallel()
	m := loadTF(t)
	td := m.resource(t, "aws_ecs_task_definition", "service")
	assert.Equal(t, "aws_iam_role.logshipd_task.arn", m.attr(t, td, "task_role_arn", map[string]cty.Value{"key": cty.StringVal("x"), "value": cty.DynamicVal}).AsString())
	assert.Equal(t, "aws_iam_role.ecs_execution.arn", m.attr(t, td, "execution_role_arn", map[string]cty.Value{"key": cty.StringVal("x"), "value": cty.DynamicVal}).AsString())

	defs := taskDefinitions(t, m)
	var keys []string
	for k := range defs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	require.Equal(t, services, keys)

	for svc, cs := range defs {
		var routers, apps []containerDef
		for _, c := range cs {
			if c.FirelensConfiguration != nil {
				routers = append(routers, c)
			} else {
				apps = append(apps, c)
			}
		}
		require.Len(t, routers, 1, "%s: one FireLens log router", svc)
		r := routers[0]
		assert.Equal(t, "fluentbit", r.FirelensConfiguration.Type, "ECS accepts fluentbit or fluentd")
		assert.Equal(t, tfTestVars["logshipd_image"].AsString(), r.Image)
		assert.True(t, r.Essential, "%s: the router is essential", svc)
		assert.Positive(t, r.MemoryReservation, "%s: memory reservation", svc)
		assert.Equal(t, []string{"run", "-c", "/etc/logshipd/firelens.yaml"}, r.Command)
		require.NotNil(t, r.HealthCheck, "%s: router health check", svc)
		assert.Equal(t, []string{"CMD", "/logshipd", "health", "--addr", "127.0.0.1:9464"}, r.HealthCheck.Command, "exec form, no shell")
		assert.Positive(t, r.HealthCheck.Interval)
		assert.Positive(t, r.HealthCheck.Retries)
		require.NotNil(t, r.LogConfiguration)
		assert.Equal(t, "awslogs", r.LogConfiguration.LogDriver, "the router's own logs never go through itself")
		assert.Equal(t, "aws_cloudwatch_log_group.log_router.name", r.LogConfiguration.Options["awslogs-group"])
		assert.Equal(t, "0", r.User, "FireLens' socket directory is root's (AWS examples run the router as root)")

		env := envOf(r)
		assert.Equal(t, svc, env["LOGSHIPD_SERVICE"])
		assert.Equal(t, "prod", env["LOGSHIPD_ENVIRONMENT"])
		assert.Equal(t, m.vars["log_group_prefix"].AsString(), env["LOGSHIPD_LOG_GROUP_PREFIX"])
		secrets := map[string]string{}
		for _, s := range r.Secrets {
			secrets[s.Name] = s.ValueFrom
		}
		assert.Equal(t, map[string]string{
			"GRAFANA_CLOUD_API_KEY":   "aws_ssm_parameter.grafana_cloud_api_key.arn",
			"LOGSHIPD_METRICS_CONFIG": "aws_ssm_parameter.logshipd_metrics_config.arn",
		}, secrets, "%s: secrets from the SSM parameters", svc)
		for name := range secrets {
			assert.NotContains(t, env, name, "a secret is not also plain environment")
		}
		for _, v := range env {
			assert.NotContains(t, v, tfTestVars["grafana_cloud_api_key"].AsString(), "the key never appears in the task definition")
		}

		require.Len(t, apps, 1, "%s: the service container", svc)
		a := apps[0]
		assert.Equal(t, svc, a.Name)
		assert.True(t, a.Essential)
		require.NotNil(t, a.LogConfiguration)
		assert.Equal(t, "awsfirelens", a.LogConfiguration.LogDriver, "%s logs through FireLens", svc)
		assert.Contains(t, a.DependsOn, struct {
			ContainerName string `json:"containerName"`
			Condition     string `json:"condition"`
		}{r.Name, "HEALTHY"}, "%s starts once its router is healthy", svc)
	}

	svc := m.resource(t, "aws_ecs_service", "service")
	assert.Equal(t, []string{"aws_ecs_task_definition.service", "each.key"}, traversalRoots(svc.Body.Attributes["task_definition"].Expr))
}

// TestTerraformIAM: the task role may call exactly the CloudWatch sink's
// actions on the log groups under the prefix; the execution role reads the
// two SSM parameters.
func TestTerraformIAM(t *testing.T) {
	t.Parallel()
	m := loadTF(t)
	type statement struct {
		Sid       string
		Effect    string
		Action    any
		Resource  any
		Principal any
		Condition any
	}
	type policy struct {
		Version   string
		Statement []statement
	}
	list := func(v any) []string {
		switch v := v.(type) {
		case string:
			return []string{v}
		case []any:
			var out []string
			for _, e := range v {
				out = append(out, e.(string))
			}
			return out
		}
		t.Fatalf("not a string or list: %#v", v)
		return nil
	}
	decodePolicy := func(b string) policy {
		var p policy
		dec := json.NewDecoder(strings.NewReader(b))
		dec.DisallowUnknownFields()
		require.NoError(t, dec.Decode(&p))
		assert.Equal(t, "2012-10-17", p.Version)
		return p
	}

	// Every policy attached to the task role.
	var taskPolicies []string
	for typ, byName := range m.resources {
		if typ != "aws_iam_role_policy" && typ != "aws_iam_role_policy_attachment" && typ != "aws_iam_policy_attachment" {
			continue
		}
		for name, b := range byName {
			role := b.block.Body.Attributes["role"]
			if role == nil {
				role = b.block.Body.Attributes["roles"]
			}
			require.NotNil(t, role, "%s.%s", typ, name)
			for _, ref := range traversalRoots(role.Expr) {
				if strings.HasPrefix(ref, "aws_iam_role.logshipd_task.") {
					taskPolicies = append(taskPolicies, typ+"."+name)
				}
			}
		}
	}
	assert.Equal(t, []string{"aws_iam_role_policy.logshipd_cloudwatch_logs"}, taskPolicies, "the task role has one inline policy and no managed policy")
	_, inline := m.resource(t, "aws_iam_role", "logshipd_task").Body.Attributes["inline_policy"]
	assert.False(t, inline)

	p := decodePolicy(m.attr(t, m.resource(t, "aws_iam_role_policy", "logshipd_cloudwatch_logs"), "policy", nil).AsString())
	require.Len(t, p.Statement, 1)
	st := p.Statement[0]
	assert.Equal(t, "Allow", st.Effect)
	actions := list(st.Action)
	sort.Strings(actions)
	assert.Equal(t, cloudWatchSinkActions, actions, "exactly the calls the CloudWatch sink makes")
	prefix := fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s/", m.vars["aws_region"].AsString(), tfAccountID, m.vars["log_group_prefix"].AsString())
	resources := list(st.Resource)
	require.NotEmpty(t, resources)
	for _, r := range resources {
		assert.True(t, strings.HasPrefix(r, prefix), "resource %s is scoped to %s", r, prefix)
		assert.NotContains(t, r, "**")
	}
	assert.ElementsMatch(t, []string{prefix + "*", prefix + "*:log-stream:*"}, resources)

	// The docs' IAM example lists the same actions.
	doc := string(readFile(t, "docs", "sinks", "cloudwatch.md"))
	for _, a := range cloudWatchSinkActions {
		assert.Contains(t, doc, `"`+a+`"`, "docs/sinks/cloudwatch.md names %s", a)
	}
	assert.Contains(t, doc, "`logs:DescribeLogStreams` is **not** needed")

	// Both roles trust ECS tasks of this account only.
	trust := decodePolicy(m.values["ecs_tasks_assume_role_policy"].AsString())
	require.Len(t, trust.Statement, 1)
	assert.Equal(t, map[string]any{"Service": "ecs-tasks.amazonaws.com"}, trust.Statement[0].Principal)
	assert.Equal(t, []string{"sts:AssumeRole"}, list(trust.Statement[0].Action))
	assert.NotNil(t, trust.Statement[0].Condition, "confused-deputy condition")

	// The execution role reads exactly the parameters the containers use.
	exec := decodePolicy(m.attr(t, m.resource(t, "aws_iam_role_policy", "ecs_execution_ssm"), "policy", nil).AsString())
	require.Len(t, exec.Statement, 1)
	assert.Equal(t, []string{"ssm:GetParameters"}, list(exec.Statement[0].Action))
	assert.ElementsMatch(t, []string{"aws_ssm_parameter.grafana_cloud_api_key.arn", "aws_ssm_parameter.logshipd_metrics_config.arn"}, list(exec.Statement[0].Resource))
}

// TestTerraformRouterConfigValidates: the configuration baked into the
// image, with the environment and secrets every task definition gives the
// router, passes `logshipd validate`, writes under the IAM-scoped prefix and
// uses the queue bounds the alert rules assume.
func TestTerraformRouterConfigValidates(t *testing.T) {
	t.Parallel()
	m := loadTF(t)
	metricsJSON := m.attr(t, m.resource(t, "aws_ssm_parameter", "logshipd_metrics_config"), "value", nil).AsString()
	secretValues := map[string]string{
		"aws_ssm_parameter.logshipd_metrics_config.arn": metricsJSON,
		"aws_ssm_parameter.grafana_cloud_api_key.arn":   tfTestVars["grafana_cloud_api_key"].AsString(),
	}
	for svc, cs := range taskDefinitions(t, m) {
		for _, c := range cs {
			if c.FirelensConfiguration == nil {
				continue
			}
			var env []string
			vals := map[string]string{}
			for _, e := range c.Environment {
				env = append(env, e.Name+"="+e.Value)
				vals[e.Name] = e.Value
			}
			for _, s := range c.Secrets {
				v, ok := secretValues[s.ValueFrom]
				require.True(t, ok, "secret %s from %s", s.Name, s.ValueFrom)
				env = append(env, s.Name+"="+v)
				vals[s.Name] = v
			}
			out, err := runLogshipd(t, env, "validate", "-c", "infra/logshipd-firelens.yaml")
			require.NoError(t, err, "%s: %s", svc, out)

			// What the router will do, after expansion.
			cfg := expandConfig(t, "infra/logshipd-firelens.yaml", vals)
			sinks := cfg["sinks"].([]any)
			var cw map[string]any
			for _, s := range sinks {
				if s.(map[string]any)["type"] == "cloudwatch" {
					cw = s.(map[string]any)
				}
			}
			require.NotNil(t, cw, "a cloudwatch sink")
			assert.True(t, strings.HasPrefix(cw["log_group"].(string), m.vars["log_group_prefix"].AsString()+"/"),
				"log_group %s under the prefix the task role may write", cw["log_group"])
			assert.Equal(t, svc, cfg["service"])
			src := cfg["sources"].([]any)[0].(map[string]any)
			assert.Equal(t, "forward", src["type"])
			assert.Equal(t, "/var/run/fluent.sock", src["unix_socket"], "FireLens socket")
			assert.Equal(t, "0.0.0.0:9464", cfg["metrics"].(map[string]any)["listen"])
		}
	}
}

var envRefRe = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}`)

// expandConfig expands ${VAR} / ${VAR:-default} like logshipd does and
// parses the result.
func expandConfig(t *testing.T, rel string, vals map[string]string) map[string]any {
	t.Helper()
	src := readFile(t, filepath.FromSlash(rel))
	expanded := envRefRe.ReplaceAllStringFunc(string(src), func(ref string) string {
		sub := envRefRe.FindStringSubmatch(ref)
		if v, ok := vals[sub[1]]; ok && (v != "" || sub[2] == "") {
			return v
		}
		if sub[2] != "" {
			return sub[3]
		}
		t.Fatalf("%s: %s is not set", rel, sub[1])
		return ""
	})
	var cfg map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(expanded), &cfg))
	return cfg
}

// TestTerraformNoSecretsInFiles: no file under infra/ carries something that
// looks like a credential.
func TestTerraformNoSecretsInFiles(t *testing.T) {
	t.Parallel()
	entries, err := os.ReadDir(path("infra"))
	require.NoError(t, err)
	for _, e := range entries {
		b := readFile(t, "infra", e.Name())
		assertNoCredentials(t, "infra/"+e.Name(), string(b))
	}
}

var credentialPatterns = []*regexp.Regexp{
	regexp.MustCompile(`glc_[A-Za-z0-9+/=_-]{16,}`), // Grafana Cloud access policy token
	regexp.MustCompile(`\bAKIA[0-9A-Z]{16}\b`),      // AWS access key id
	regexp.MustCompile(`(?i)aws_secret_access_key\s*[=:]\s*\S{20,}`),
	regexp.MustCompile(`eyJ[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{20,}`), // JWT / base64 JSON token
	regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----`),
}

func assertNoCredentials(t *testing.T, name, text string) {
	t.Helper()
	for _, re := range credentialPatterns {
		assert.False(t, re.MatchString(text), "%s contains something that looks like a credential (%s)", name, re)
	}
}
