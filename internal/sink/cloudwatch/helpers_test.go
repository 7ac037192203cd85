package cloudwatch_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/starmates/logshipd/internal/event"
	"github.com/starmates/logshipd/internal/sink/cloudwatch"
	"github.com/starmates/logshipd/internal/sink/cloudwatch/cwdouble"
)

func TestMain(m *testing.M) {
	// The SDK must not read the developer's AWS setup.
	dir, err := os.MkdirTemp("", "cwtest")
	if err != nil {
		panic(err)
	}
	for k, v := range map[string]string{
		"AWS_CONFIG_FILE":             filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_PROFILE":                 "",
		"AWS_ENDPOINT_URL":            "",
		"AWS_MAX_ATTEMPTS":            "7", // must not turn the SDK's retries back on
	} {
		if v == "" {
			_ = os.Unsetenv(k)
		} else {
			_ = os.Setenv(k, v)
		}
	}
	_ = os.Unsetenv("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS")
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"))
	_ = os.RemoveAll(dir)
}

// env is one double on loopback and a sink pointed at it.
type env struct {
	d    *cwdouble.Server
	url  string
	sink *cloudwatch.Sink
	cfg  cloudwatch.Config
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(p))
	return len(p), nil
}

func staticCreds(o *cloudwatchlogs.Options) {
	o.Credentials = credentials.NewStaticCredentialsProvider("test", "test", "")
}

func newDouble(t testing.TB, opts cwdouble.Options) (*cwdouble.Server, string) {
	return newDoubleWith(t, cwdouble.New(opts))
}

func newDoubleWith(t testing.TB, d *cwdouble.Server) (*cwdouble.Server, string) {
	srv := httptest.NewServer(d)
	t.Cleanup(srv.Close)
	return d, srv.URL
}

func newEnv(t testing.TB, mut func(*cloudwatch.Config)) *env {
	t.Helper()
	d, url := newDouble(t, cwdouble.Options{})
	e := &env{d: d, url: url}
	e.cfg = cloudwatch.DefaultConfig()
	e.cfg.Region = "us-east-1"
	e.cfg.Endpoint = url
	e.cfg.ThrottleBackoff = time.Millisecond
	e.cfg.RequestTimeout = 10 * time.Second
	if mut != nil {
		mut(&e.cfg)
	}
	s, err := cloudwatch.New(context.Background(), e.cfg, testLogger(t), nil, staticCreds)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	e.sink = s
	return e
}

// rec is one test record.
type rec struct {
	t       time.Time
	service string
	env     string
	source  string
	stream  string
	json    string // "" → generated from the other fields and msg
	msg     string
}

func (r rec) record() *event.Record {
	if r.service == "" {
		r.service = "api"
	}
	if r.env == "" {
		r.env = "prod"
	}
	js := r.json
	if js == "" {
		js = fmt.Sprintf(`{"timestamp":%q,"level":"INFO","service":%q,"environment":%q,"message":%q}`,
			r.t.UTC().Format(time.RFC3339Nano), r.service, r.env, r.msg)
	}
	return &event.Record{JSON: []byte(js), Time: r.t, Level: event.LevelInfo, Service: r.service, Environment: r.env, Project: "p"}
}

func batchOf(recs ...rec) *event.Batch {
	b := &event.Batch{}
	for _, r := range recs {
		src := r.source
		if src == "" {
			src = "app"
		}
		b.Append(r.record(), src, r.stream)
	}
	return b
}

// stream returns the default stream name of source src.
func (e *env) streamName(src string) string { return e.sink.Host() + "/" + src }
