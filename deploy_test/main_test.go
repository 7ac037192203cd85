// Package deploy_test checks the deployment assets of logshipd: the
// Dockerfile (BuildKit's parser), the Terraform code under infra/
// (hashicorp/hcl/v2: parsing, evaluation of the task definitions and IAM
// policies, canonical formatting), the monitoring stack under monitoring/
// (OpenTelemetry Collector configuration against the component list of the
// pinned release, the compose file, the Prometheus configuration and rules
// with promtool, the Grafana dashboards' PromQL against a running daemon's
// /metrics) and the logshipd configurations they ship (`logshipd validate`).
//
// promtool comes from LOGSHIPD_PROMTOOL_BIN or PATH (Debian package
// prometheus). Without it the promtool tests skip, unless
// LOGSHIPD_INTEGRATION=1, which makes them fail. See docs/deployment.md.
package deploy_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// root is the repository root (tests run in deploy_test/).
var root = func() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		panic("no caller information")
	}
	return filepath.Dir(filepath.Dir(file))
}()

// path joins elements under the repository root.
func path(elem ...string) string { return filepath.Join(append([]string{root}, elem...)...) }

func readFile(t *testing.T, elem ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(path(elem...))
	require.NoError(t, err)
	return b
}

var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "deploy_test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

var (
	buildOnce sync.Once
	buildErr  error
	binPath   string
)

// logshipdBin builds cmd/logshipd once per test run.
func logshipdBin(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binPath = filepath.Join(binDir, "logshipd")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/logshipd")
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build ./cmd/logshipd: %w\n%s", err, out)
		}
	})
	require.NoError(t, buildErr)
	return binPath
}

// runLogshipd runs the built logshipd with args and extra environment
// variables, and returns its combined output.
func runLogshipd(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, logshipdBin(t), args...)
	cmd.Dir = root
	cmd.Env = append(cleanEnv(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// cleanEnv is the test's environment without the variables the shipped
// configurations reference, so that only what a test sets is seen.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "LOGSHIPD_") || strings.HasPrefix(name, "GRAFANA_CLOUD_") ||
			name == "ENVIRONMENT" || name == "AWS_REGION" {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// integration reports whether LOGSHIPD_INTEGRATION=1: tools that are missing
// then fail the test instead of skipping it.
func integration() bool { return os.Getenv("LOGSHIPD_INTEGRATION") == "1" }

// promtool returns the promtool binary: LOGSHIPD_PROMTOOL_BIN, else PATH.
func promtool(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("LOGSHIPD_PROMTOOL_BIN"); p != "" {
		return p
	}
	p, err := exec.LookPath("promtool")
	if err != nil {
		msg := "promtool not found (set LOGSHIPD_PROMTOOL_BIN or install the Debian package prometheus: apt-get install prometheus)"
		if integration() {
			t.Fatal(msg + "; LOGSHIPD_INTEGRATION=1 requires it")
		}
		t.Skip(msg + "; skipped (LOGSHIPD_INTEGRATION=1 makes this a failure)")
	}
	return p
}

// runPromtool runs promtool in dir and fails the test with its output when
// it exits non-zero.
func runPromtool(t *testing.T, dir string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, promtool(t), args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	require.NoError(t, err, "promtool %s:\n%s", strings.Join(args, " "), out.String())
	return out.String()
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
