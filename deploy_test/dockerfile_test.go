package deploy_test

import (
	"bytes"
	"debug/elf"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pinnedImage is REPOSITORY:TAG@sha256:DIGEST with an exact version in the
// tag (a digit, not "latest").
var pinnedImage = regexp.MustCompile(`^([^@\s:]+(?::[0-9]+)?(?:/[^@\s:]+)*):([A-Za-z0-9][A-Za-z0-9._-]*)@sha256:[0-9a-f]{64}$`)

type dockerfile struct {
	stages []instructions.Stage
}

func parseDockerfile(t *testing.T) dockerfile {
	t.Helper()
	res, err := parser.Parse(bytes.NewReader(readFile(t, "Dockerfile")))
	require.NoError(t, err)
	require.Empty(t, res.Warnings, "BuildKit parser warnings")
	stages, _, err := instructions.Parse(res.AST, nil)
	require.NoError(t, err)
	require.NotEmpty(t, stages)
	return dockerfile{stages: stages}
}

func (d dockerfile) final() instructions.Stage { return d.stages[len(d.stages)-1] }

func commandsOf[T instructions.Command](s instructions.Stage) []T {
	var out []T
	for _, c := range s.Commands {
		if v, ok := c.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

func TestDockerfileMultiStagePinnedBases(t *testing.T) {
	t.Parallel()
	d := parseDockerfile(t)
	require.GreaterOrEqual(t, len(d.stages), 2, "multi-stage: a build stage and a runtime stage")
	names := map[string]bool{}
	for i, s := range d.stages {
		if names[strings.ToLower(s.BaseName)] {
			continue // FROM an earlier stage
		}
		m := pinnedImage.FindStringSubmatch(s.BaseName)
		require.NotNil(t, m, "stage %d: base image %q must be pinned as REPOSITORY:TAG@sha256:DIGEST", i, s.BaseName)
		tag := m[2]
		assert.NotEqual(t, "latest", tag, "stage %d: exact version tag", i)
		if strings.HasPrefix(m[1], "gcr.io/distroless/") {
			// Distroless publishes no version tags: the Debian release is in
			// the name (static-debian12), the tag picks the variant, the
			// digest pins the bytes.
			assert.Regexp(t, `-debian[0-9]+$`, m[1], "stage %d: distroless image names its Debian release", i)
		} else {
			assert.Regexp(t, `[0-9]+\.[0-9]+`, tag, "stage %d: the tag names an exact version", i)
		}
		if s.Name != "" {
			names[strings.ToLower(s.Name)] = true
		}
	}
	// The runtime base carries CA certificates (TLS to CloudWatch, Loki,
	// Grafana Cloud) and tzdata: distroless static does.
	assert.True(t, strings.HasPrefix(d.final().BaseName, "gcr.io/distroless/static-"), "runtime base: %s", d.final().BaseName)
	assert.Contains(t, d.final().BaseName, ":nonroot@", "the nonroot variant of the base")
	assert.Empty(t, commandsOf[*instructions.RunCommand](d.final()), "the runtime image has no shell: no RUN in the final stage")
	for _, c := range commandsOf[*instructions.AddCommand](d.final()) {
		t.Errorf("final stage: use COPY, not ADD: %s", c)
	}
}

func TestDockerfileStaticReproducibleBuild(t *testing.T) {
	t.Parallel()
	d := parseDockerfile(t)
	build := d.stages[0]
	env := map[string]string{}
	for _, e := range commandsOf[*instructions.EnvCommand](build) {
		for _, kv := range e.Env {
			env[kv.Key] = kv.Value
		}
	}
	args := map[string]bool{}
	var goBuild string
	for _, c := range build.Commands {
		switch c := c.(type) {
		case *instructions.ArgCommand:
			for _, a := range c.Args {
				args[a.Key] = true
			}
		case *instructions.RunCommand:
			line := strings.Join(c.CmdLine, " ")
			if strings.Contains(line, "go build") {
				require.Empty(t, goBuild, "one go build")
				goBuild = line
				for _, a := range []string{"VERSION", "COMMIT"} {
					assert.True(t, args[a], "ARG %s declared before the go build", a)
				}
			}
		}
	}
	require.NotEmpty(t, goBuild, "a RUN with go build in the first stage")
	assert.Equal(t, "0", env["CGO_ENABLED"], "static binary: CGO_ENABLED=0")
	assert.Equal(t, "local", env["GOTOOLCHAIN"], "the image's toolchain, never a downloaded one")
	for _, flag := range []string{"-trimpath", "-buildvcs=false", "-buildid=", "-X main.version=${VERSION}", "-X main.commit=${COMMIT}", "./cmd/logshipd"} {
		assert.Contains(t, goBuild, flag)
	}
	// go.mod names the toolchain the build image carries.
	gomod := string(readFile(t, "go.mod"))
	goLine := regexp.MustCompile(`(?m)^go ([0-9.]+)$`).FindStringSubmatch(gomod)
	require.NotNil(t, goLine)
	assert.Contains(t, build.BaseName, "golang:"+goLine[1]+"-", "build image = go.mod's Go version")
}

func TestDockerfileRuntimeStage(t *testing.T) {
	t.Parallel()
	final := parseDockerfile(t).final()

	users := commandsOf[*instructions.UserCommand](final)
	require.NotEmpty(t, users, "USER in the final stage")
	user, _, _ := strings.Cut(users[len(users)-1].User, ":")
	assert.NotContains(t, []string{"", "0", "root"}, user, "non-root USER")

	// The binary, at the path the HEALTHCHECK and ENTRYPOINT use.
	copied := map[string]bool{}
	for _, c := range commandsOf[*instructions.CopyCommand](final) {
		copied[c.DestPath] = true
	}

	hcs := commandsOf[*instructions.HealthCheckCommand](final)
	require.Len(t, hcs, 1, "one HEALTHCHECK")
	test := hcs[0].Health.Test
	require.GreaterOrEqual(t, len(test), 2)
	assert.Equal(t, "CMD", test[0], "exec form (CMD-SHELL would need /bin/sh, which the image lacks)")
	assert.Equal(t, "/logshipd", test[1])
	assert.True(t, copied[test[1]], "HEALTHCHECK runs a file the stage copies in")
	assert.Equal(t, []string{"health", "--addr", "127.0.0.1:9464"}, test[2:], "logshipd health probes the metrics listener's /healthz")
	assert.Positive(t, hcs[0].Health.Interval)
	assert.Positive(t, hcs[0].Health.Timeout)
	assert.Positive(t, hcs[0].Health.Retries)

	ep := commandsOf[*instructions.EntrypointCommand](final)
	require.Len(t, ep, 1)
	assert.False(t, ep[0].PrependShell, "ENTRYPOINT in exec form")
	assert.Equal(t, []string{"/logshipd"}, []string(ep[0].CmdLine))
	cmd := commandsOf[*instructions.CmdCommand](final)
	require.Len(t, cmd, 1)
	assert.False(t, cmd[0].PrependShell, "CMD in exec form")
	require.Len(t, cmd[0].CmdLine, 3)
	assert.Equal(t, []string{"run", "-c"}, []string(cmd[0].CmdLine[:2]))
	assert.True(t, copied[cmd[0].CmdLine[2]], "the default config is copied into the image")

	var ports []string
	for _, e := range commandsOf[*instructions.ExposeCommand](final) {
		ports = append(ports, e.Ports...)
	}
	assert.Contains(t, ports, "24224/tcp", "Fluent Forward (FireLens TCP)")
	assert.Contains(t, ports, "9464/tcp", "metrics listener")
	_, hcPort, err := net.SplitHostPort(test[4])
	require.NoError(t, err)
	assert.Contains(t, ports, hcPort+"/tcp", "the HEALTHCHECK probes an exposed port")

	// logshipd knows the subcommand and the flag the HEALTHCHECK uses.
	out, err := runLogshipd(t, nil, "health", "--help")
	require.NoError(t, err, out)
	assert.Contains(t, out, "--addr")
}

// TestDockerignoreKeepsBuildInputs checks the allow-list .dockerignore
// against what the build reads: every Go file and embedded file of the
// packages cmd/logshipd is built from, go.mod, go.sum and every context
// source of a COPY; and that local state stays out of the context.
func TestDockerignoreKeepsBuildInputs(t *testing.T) {
	t.Parallel()
	patterns, err := ignorefile.ReadAll(bytes.NewReader(readFile(t, ".dockerignore")))
	require.NoError(t, err)
	pm, err := patternmatcher.New(patterns)
	require.NoError(t, err)
	excluded := func(rel string) bool {
		ex, err := pm.MatchesOrParentMatches(filepath.ToSlash(rel))
		require.NoError(t, err)
		return ex
	}

	cmd := exec.Command("go", "list", "-deps",
		"-f", `{{if .Module}}{{if .Module.Main}}{{.Dir}}|{{join .GoFiles ","}}|{{join .EmbedFiles ","}}{{end}}{{end}}`, "./cmd/logshipd")
	cmd.Dir = root
	out, err := cmd.Output()
	require.NoError(t, err)
	need := []string{"go.mod", "go.sum"}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line == "" {
			continue
		}
		parts := strings.Split(line, "|")
		require.Len(t, parts, 3, line)
		rel, err := filepath.Rel(root, parts[0])
		require.NoError(t, err)
		for _, list := range parts[1:] {
			for _, f := range strings.Split(list, ",") {
				if f != "" {
					need = append(need, filepath.Join(rel, f))
				}
			}
		}
	}
	require.Greater(t, len(need), 20, "go list found the build's files")

	d := parseDockerfile(t)
	for _, s := range d.stages {
		for _, c := range commandsOf[*instructions.CopyCommand](s) {
			if c.From != "" {
				continue
			}
			for _, src := range c.SourcePaths {
				if src == "." {
					continue
				}
				need = append(need, src)
			}
		}
	}
	for _, f := range need {
		_, err := os.Stat(path(f))
		assert.NoError(t, err, "build input %s exists", f)
		assert.False(t, excluded(f), ".dockerignore excludes build input %s", f)
	}
	for _, f := range []string{".git/HEAD", ".cache/go-mod/x", "bin/logshipd", "docs/metrics.md", "monitoring/prometheus.yml",
		"infra/ecs.tf", "internal/normalize/normalize_test.go", "internal/normalize/testdata/x.log", "data/checkpoints/a.json"} {
		assert.True(t, excluded(f), ".dockerignore keeps %s out of the context", f)
	}
	assert.False(t, slices.Contains(patterns, "!.git"), "no VCS data in the image build")
}

// TestDockerBuildStageBuilds runs the build stage's go build (its ENV and
// the RUN's command line, as the Dockerfile has them) in a copy of the build
// context that .dockerignore leaves, twice, in two directories: the context
// is sufficient, the binary is static and stamped, and the two builds are
// byte-identical (reproducible). No Docker engine is needed; the base image
// itself is not exercised.
func TestDockerBuildStageBuilds(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds logshipd twice")
	}
	d := parseDockerfile(t)
	build := d.stages[0]
	var env []string
	for _, e := range commandsOf[*instructions.EnvCommand](build) {
		for _, kv := range e.Env {
			env = append(env, kv.Key+"="+kv.Value)
		}
	}
	var line string
	for _, r := range commandsOf[*instructions.RunCommand](build) {
		if l := strings.Join(r.CmdLine, " "); strings.Contains(l, "go build") {
			line = l
		}
	}
	require.NotEmpty(t, line)

	patterns, err := ignorefile.ReadAll(bytes.NewReader(readFile(t, ".dockerignore")))
	require.NoError(t, err)
	pm, err := patternmatcher.New(patterns)
	require.NoError(t, err)

	var bins [][]byte
	for i := range 2 {
		ctxDir := filepath.Join(t.TempDir(), fmt.Sprintf("context%d", i))
		copyContext(t, pm, patterns, ctxDir)
		out := filepath.Join(t.TempDir(), "out")
		cmdLine := strings.ReplaceAll(line, "/out/", out+"/")
		cmd := exec.CommandContext(t.Context(), "sh", "-c", cmdLine)
		cmd.Dir = ctxDir
		cmd.Env = append(os.Environ(), env...)
		cmd.Env = append(cmd.Env, "TARGETOS="+runtime.GOOS, "TARGETARCH="+runtime.GOARCH, "VERSION=v9.9.9-test", "COMMIT=abc1234")
		b, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s\n%s", cmdLine, b)
		bin := filepath.Join(out, "logshipd")
		f, err := elf.Open(bin)
		require.NoError(t, err)
		for _, p := range f.Progs {
			assert.NotEqual(t, elf.PT_INTERP, p.Type, "static: no dynamic loader")
			assert.NotEqual(t, elf.PT_DYNAMIC, p.Type, "static: no dynamic section")
		}
		require.NoError(t, f.Close())
		v, err := exec.CommandContext(t.Context(), bin, "version").CombinedOutput()
		require.NoError(t, err)
		assert.Equal(t, "logshipd v9.9.9-test (commit abc1234)\n", string(v), "version stamped from the build arguments")
		raw, err := os.ReadFile(bin)
		require.NoError(t, err)
		assert.NotContains(t, string(raw), ctxDir, "-trimpath: no build directory in the binary")
		bins = append(bins, raw)
	}
	assert.True(t, bytes.Equal(bins[0], bins[1]), "two builds of the same context in different directories are identical")
}

// copyContext copies the files of the repository that .dockerignore keeps
// into dst, as the build context.
func copyContext(t *testing.T, pm *patternmatcher.PatternMatcher, patterns []string, dst string) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(root, func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		excluded, err := pm.MatchesOrParentMatches(rel)
		if err != nil {
			return err
		}
		if e.IsDir() {
			if excluded && !exceptionUnder(patterns, rel) {
				return filepath.SkipDir
			}
			return nil
		}
		if excluded || !e.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		n++
		return os.WriteFile(target, b, 0o644)
	})
	require.NoError(t, err)
	require.Greater(t, n, 20)
}

// exceptionUnder reports whether an exception pattern (!...) may re-include
// something under dir.
func exceptionUnder(patterns []string, dir string) bool {
	for _, p := range patterns {
		if strings.HasPrefix(p, "!") && strings.HasPrefix(strings.TrimPrefix(p, "!"), dir+"/") {
			return true
		}
		if strings.HasPrefix(p, "!") && strings.TrimSuffix(strings.TrimPrefix(p, "!"), "/") == dir {
			return true
		}
	}
	return false
}
