package parse

import (
	"testing"

	"github.com/stretchr/testify/require"
)

const (
	albLineHTTP  = `http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337262-36d228ad5d99923122bbe354" "-" "-" 0 2018-07-02T22:22:48.364000Z "forward" "-" "-" "10.0.0.1:80" "200" "-" "-"`
	albLineHTTPS = `https 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.086 0.048 0.037 200 200 0 57 "GET https://www.example.com:443/ HTTP/1.1" "curl/7.46.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Self=1-5a8d3b57-6a1b9f8d7c6b5a4f3e2d1c0b;Root=1-58337281-1d84f3d73c47ec4e58577259" "www.example.com" "arn:aws:acm:us-east-2:123456789012:certificate/12345678-1234-1234-1234-123456789012" 1 2018-07-02T22:22:48.364000Z "authenticate,forward" "-" "-" "10.0.0.1:80" "200" "-" "-" TID_1234abcd`
	albLineErr   = `h2 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 10.0.1.252:48160 - -1 -1 -1 502 - 34 366 "GET https://www.example.com:443/api HTTP/2.0" "curl/7.46.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 - "Root=1-58337364-23a8c76965a2ef7629b185e3" "-" "-" 0 2018-07-02T22:22:48.364000Z "forward" "-" "LambdaInvalidResponse" "-" "-" "-" "-"`
	osLineWSGI   = `2017-05-16 00:00:00.008 25746 INFO nova.osapi_compute.wsgi.server [req-38101a0b-2096-447d-96ea-a692162415ae 113d3a99c3da401fbd62cc2caa5b96d2 54fadb412c4e40cdbaed9335e4c35a9e - - -] 10.11.10.1 "GET /v2/54fadb412c4e40cdbaed9335e4c35a9e/servers/detail HTTP/1.1" status: 200 len: 1893 time: 0.2477829`
	haLineHTTP   = `10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {1wt.eu} {} "GET /index.html HTTP/1.1"`
)

func TestALBParser(t *testing.T) {
	p := &ALBParser{}
	require.Equal(t, "alb", p.Name())
	appRun(t, p, []appCase{
		{"http", albLineHTTP, &appWant{format: "alb", msg: albLineHTTP, time: "2018-07-02T22:23:00.186641Z",
			traceID: "5833726236d228ad5d99923122bbe354",
			extra: []string{"type", "http", "elb", "app/my-loadbalancer/50dc6c495c0c9188", "target", "10.0.0.1:80",
				"target_status_code", "200", "xray_trace_id", "Root=1-58337262-36d228ad5d99923122bbe354", "actions_executed", "forward"}}},
		{"https-self-first", albLineHTTPS, &appWant{format: "alb", msg: albLineHTTPS, time: "2018-07-02T22:23:00.186641Z",
			traceID: "583372811d84f3d73c47ec4e58577259",
			extra: []string{"type", "https", "elb", "app/my-loadbalancer/50dc6c495c0c9188", "target", "10.0.0.1:80",
				"target_status_code", "200", "ssl_protocol", "TLSv1.2",
				"xray_trace_id", "Self=1-5a8d3b57-6a1b9f8d7c6b5a4f3e2d1c0b;Root=1-58337281-1d84f3d73c47ec4e58577259",
				"actions_executed", "authenticate,forward"}}},
		{"lambda-error", albLineErr, &appWant{format: "alb", msg: albLineErr, time: "2018-07-02T22:23:00.186641Z",
			traceID: "5833736423a8c76965a2ef7629b185e3",
			extra: []string{"type", "h2", "elb", "app/my-loadbalancer/50dc6c495c0c9188", "ssl_protocol", "TLSv1.2",
				"xray_trace_id", "Root=1-58337364-23a8c76965a2ef7629b185e3", "actions_executed", "forward", "error_reason", "LambdaInvalidResponse"}}},
		{"not-app-elb", `http 2018-07-02T22:23:00.186641Z net/my-nlb/50dc 1.2.3.4:1 - 0.0 0.0 0.0 200 200 1 1 "GET / HTTP/1.1" "x" - - - "-" "-"`, nil},
		{"bad-type", `ftp 2018-07-02T22:23:00.186641Z app/x/1 1.2.3.4:1 - 0.0 0.0 0.0 200 200 1 1 "GET / HTTP/1.1" "x" - - - "-" "-"`, nil},
		{"bad-time", `http 2018-07-02 app/x/1 1.2.3.4:1 - 0.0 0.0 0.0 200 200 1 1 "GET / HTTP/1.1" "x" - - - "-" "-" "-"`, nil},
		{"unquoted-request", `http 2018-07-02T22:23:00.186641Z app/x/1 1.2.3.4:1 - 0.0 0.0 0.0 200 200 1 1 GET / HTTP/1.1 "x" - - - "-" "-"`, nil},
	})
	var f Fields
	require.True(t, p.Parse([]byte(albLineHTTPS), &f))
	require.Equal(t, "GET", string(f.Request.Method.B))
	require.Equal(t, "https://www.example.com:443/", string(f.Request.Path.B))
	require.Equal(t, "192.168.131.39", string(f.Request.IP.B))
	require.Equal(t, "www.example.com", string(f.Request.Host.B))
	require.Equal(t, "0.171", string(f.Request.Duration.B))
	require.Equal(t, "57", string(f.Response.Size.B))
	f = Fields{}
	require.True(t, p.Parse([]byte(albLineErr), &f))
	require.False(t, f.Request.Duration.Set(), "-1 processing times: no duration")
	require.Equal(t, "502", string(f.Response.Status.B))
	appCross(t, p, "alb")
}

func TestOpenStackParser(t *testing.T) {
	p := &OpenStackParser{}
	require.Equal(t, "openstack", p.Name())
	appRun(t, p, []appCase{
		{"wsgi", osLineWSGI, &appWant{format: "openstack", level: "INFO", logger: "nova.osapi_compute.wsgi.server",
			msg:  `10.11.10.1 "GET /v2/54fadb412c4e40cdbaed9335e4c35a9e/servers/detail HTTP/1.1" status: 200 len: 1893 time: 0.2477829`,
			time: "2017-05-16T00:00:00.008Z", local: true,
			extra: []string{"pid", "25746", "request_id", "req-38101a0b-2096-447d-96ea-a692162415ae"}}},
		{"instance-global", "2023-01-02 03:04:05.678 42 WARNING nova.compute.manager [None req-1 req-2 admin admin] [instance: b9000564-fe1a-409b-b8cc-1e88b294cd1d] VM paused", &appWant{
			format: "openstack", level: "WARNING", logger: "nova.compute.manager", msg: "VM paused", time: "2023-01-02T03:04:05.678Z", local: true,
			extra: []string{"pid", "42", "global_request_id", "req-1", "request_id", "req-2", "instance", "b9000564-fe1a-409b-b8cc-1e88b294cd1d"}}},
		{"no-context", "2023-01-02 03:04:05.678 42 ERROR oslo_service.service [-] Error starting thread.", &appWant{
			format: "openstack", level: "ERROR", logger: "oslo_service.service", msg: "Error starting thread.", time: "2023-01-02T03:04:05.678Z", local: true,
			extra: []string{"pid", "42"}}},
		{"file-prefixed", "nova-compute.log.1.2017-05-14_21:27:09 2017-05-14 19:39:01.445 2931 INFO nova.compute.manager [-] [instance: 3edec1e4-9678-4a3a-a21b-a145a4ee5e61] VM Resumed (Lifecycle Event)", &appWant{
			format: "openstack", level: "INFO", logger: "nova.compute.manager", msg: "VM Resumed (Lifecycle Event)", time: "2017-05-14T19:39:01.445Z", local: true,
			extra: []string{"log_file", "nova-compute.log.1.2017-05-14_21:27:09", "pid", "2931", "instance", "3edec1e4-9678-4a3a-a21b-a145a4ee5e61"}}},
		{"prefix-not-a-log-file", "hello 2023-01-02 03:04:05.678 42 ERROR oslo_service.service [-] x", nil},
		{"no-bracket", "2023-01-02 03:04:05.678 42 ERROR oslo_service.service Error starting thread.", nil},
		{"lower-level", "2023-01-02 03:04:05.678 42 error x.y [-] e", nil},
		{"zoned", "2023-01-02T03:04:05.678Z 42 ERROR x.y [-] e", nil},
	})
	var f Fields
	require.True(t, p.Parse([]byte(osLineWSGI), &f))
	require.Equal(t, "GET", string(f.Request.Method.B))
	require.Equal(t, "200", string(f.Response.Status.B))
	require.Equal(t, "1893", string(f.Response.Size.B))
	require.Equal(t, "0.2477829", string(f.Request.Duration.B))
	require.Equal(t, "10.11.10.1", string(f.Request.IP.B))
	appCross(t, p, "openstack")
}

func TestHAProxyParser(t *testing.T) {
	p := &HAProxyParser{}
	require.Equal(t, "haproxy", p.Name())
	tcp := "10.0.0.5:50000 [06/Feb/2009:12:14:14.655] tcp-in be/s1 0/0/5007 212 -- 1/1/1/1/0 0/0"
	appRun(t, p, []appCase{
		{"http-headers", haLineHTTP, &appWant{format: "haproxy", msg: haLineHTTP, time: "2009-02-06T12:14:14.655Z", local: true,
			extra: []string{"frontend", "http-in", "backend", "static", "server", "srv1", "termination_state", "----"}}},
		{"tcp", tcp, &appWant{format: "haproxy", msg: tcp, time: "2009-02-06T12:14:14.655Z", local: true,
			extra: []string{"frontend", "tcp-in", "backend", "be", "server", "s1", "termination_state", "--"}}},
		{"no-date", "10.0.1.2:33317 http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 \"GET / HTTP/1.1\"", nil},
		{"bad-timers", "10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/x/30 200 2750 - - ---- 1/1/1/1/0 0/0 \"GET / HTTP/1.1\"", nil},
		{"no-request", "10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0", nil},
	})
	var f Fields
	require.True(t, p.Parse([]byte(haLineHTTP), &f))
	require.Equal(t, "/index.html", string(f.Request.Path.B))
	require.Equal(t, "200", string(f.Response.Status.B))
	require.Equal(t, "109", string(f.Request.Duration.B))
	require.Equal(t, 0.001, f.Request.Duration.Scale)
	appCross(t, p, "haproxy")

	// Through syslog (the usual delivery): the accept date, with its year,
	// replaces the year-less syslog time.
	f = Fields{}
	require.True(t, (&Syslog3164Parser{}).Parse([]byte("Feb  6 12:14:14 localhost haproxy[14389]: "+haLineHTTP), &f))
	require.Equal(t, "GET", string(f.Request.Method.B))
	require.False(t, f.TimeNoYear)
	require.Equal(t, 2009, f.Time.Year())
	f = Fields{}
	require.True(t, (&Syslog3164Parser{}).Parse([]byte("Feb  6 12:14:14 localhost nginx[1]: "+haLineHTTP), &f))
	require.False(t, f.Request.Method.Set(), "only haproxy's messages are read this way")
}

func TestLogcatParser(t *testing.T) {
	p := &LogcatParser{}
	require.Equal(t, "logcat", p.Name())
	appRun(t, p, []appCase{
		{"threadtime", "03-17 16:13:38.811  1702  2395 D WindowManager: printFreezingDisplayLogs opening app", &appWant{
			format: "logcat", level: "D", logger: "WindowManager", msg: "printFreezingDisplayLogs opening app",
			time: "03-17T16:13:38.811000", noYear: true, local: true, extra: []string{"pid", "1702", "thread", "2395"}}},
		{"padded-tag", "12-01 00:00:00.000 12345 12346 E AndroidRuntime: FATAL EXCEPTION: main", &appWant{
			format: "logcat", level: "E", logger: "AndroidRuntime", msg: "FATAL EXCEPTION: main",
			time: "12-01T00:00:00.000000", noYear: true, local: true, extra: []string{"pid", "12345", "thread", "12346"}}},
		{"tag-padding", "12-01 00:00:00.000   100   101 I chatty  : uid=1000 expire 3 lines", &appWant{
			format: "logcat", level: "I", logger: "chatty", msg: "uid=1000 expire 3 lines",
			time: "12-01T00:00:00.000000", noYear: true, local: true, extra: []string{"pid", "100", "thread", "101"}}},
		{"bad-letter", "03-17 16:13:38.811  1702  2395 X Tag: m", nil},
		{"no-millis", "03-17 16:13:38  1702  2395 D Tag: m", nil},
		{"no-tid", "03-17 16:13:38.811  1702 D Tag: m", nil},
		{"bad-month", "13-17 16:13:38.811  1702  2395 D Tag: m", nil},
	})
	appCross(t, p, "logcat")
}

const (
	envoyLine = `[2016-04-15T20:17:00.310Z] "POST /api/v1/locations HTTP/2" 204 - 154 0 226 100 "10.0.35.28" "nsq2http" "cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2" "locations" "tcp://10.0.2.1:80"`
	istioLine = `[2020-11-25T21:26:18.409Z] "GET /status/418 HTTP/1.1" 418 - via_upstream - "-" 0 135 4 4 "10.0.0.1, 10.0.0.2" "curl/7.73.0" "5b8f5a2a-7c5e-4f1a-9c1e-2b3c4d5e6f70" "httpbin:8000" "10.44.1.27:80" outbound|8000||httpbin.foo.svc.cluster.local 10.44.1.23:37652 10.0.45.184:8000 10.44.1.23:46520 - default`
)

func TestEnvoyParser(t *testing.T) {
	p := &EnvoyParser{}
	require.Equal(t, "envoy", p.Name())
	appRun(t, p, []appCase{
		{"envoy-default", envoyLine, &appWant{format: "envoy", msg: envoyLine, time: "2016-04-15T20:17:00.31Z",
			extra: []string{"request_id", "cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2", "upstream_host", "tcp://10.0.2.1:80"}}},
		{"istio", istioLine, &appWant{format: "envoy", msg: istioLine, time: "2020-11-25T21:26:18.409Z",
			extra: []string{"request_id", "5b8f5a2a-7c5e-4f1a-9c1e-2b3c4d5e6f70", "upstream_host", "10.44.1.27:80"}}},
		{"flags", `[2016-04-15T20:17:00.310Z] "GET /x HTTP/1.1" 503 UF 0 91 5 - "-" "curl/8" "-" "svc" "-"`, &appWant{format: "envoy",
			msg: `[2016-04-15T20:17:00.310Z] "GET /x HTTP/1.1" 503 UF 0 91 5 - "-" "curl/8" "-" "svc" "-"`, time: "2016-04-15T20:17:00.31Z",
			extra: []string{"response_flags", "UF"}}},
		{"no-request-line", `[2016-04-15T20:17:00.310Z] "hello" 204 - 154 0 226 100 "-" "-" "-" "-" "-"`, nil},
		{"local-time", `[2016-04-15 20:17:00] "GET / HTTP/1.1" 204 - 1 0 2 1 "-" "-" "-" "-" "-"`, nil},
		{"no-numbers", `[2016-04-15T20:17:00.310Z] "GET / HTTP/1.1" 204 - "-" "-" "-" "-" "-"`, nil},
	})
	var f Fields
	require.True(t, p.Parse([]byte(istioLine), &f))
	require.Equal(t, "GET", string(f.Request.Method.B))
	require.Equal(t, "418", string(f.Response.Status.B))
	require.Equal(t, "135", string(f.Response.Size.B))
	require.Equal(t, "4", string(f.Request.Duration.B))
	require.Equal(t, 0.001, f.Request.Duration.Scale)
	require.Equal(t, "10.0.0.1", string(f.Request.IP.B))
	require.Equal(t, "httpbin:8000", string(f.Request.Host.B))
	appCross(t, p, "envoy")
}
