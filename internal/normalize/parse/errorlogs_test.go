package parse

import "testing"

var (
	errlogLineNginx7   = `2026/11/25 21:43:45 [error] 19459#19459: *7 open() "/tmp/cw/nginx-public/www/favicon.ico" failed (2: No such file or directory), client: 127.0.0.1, server: logs.test, request: "GET /favicon.ico HTTP/1.1", host: "127.0.0.1:18081"`
	errlogLineNginx10  = `2026/11/25 21:43:45 [error] 19459#19459: *10 connect() failed (111: Connection refused) while connecting to upstream, client: 127.0.0.1, server: logs.test, request: "POST /api/v1/workflows HTTP/1.1", upstream: "http://127.0.0.1:1/api/v1/workflows", host: "127.0.0.1:18081"`
	errlogLineNginxN   = `2026/11/25 21:43:43 [notice] 19457#19457: using the "epoll" event method`
	errlogLineApache24 = `[Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 35708:tid 4328636416] [client 72.15.99.187:1234] AH00128: File does not exist: /usr/local/apache2/htdocs/favicon.ico`
	errlogLineApache22 = `[Wed Oct 11 14:32:52 2000] [error] [client 127.0.0.1] client denied by server configuration: /export/home/live/ap/htdocs/test`
)

func TestNginxErrorParser(t *testing.T) {
	const msg7 = `*7 open() "/tmp/cw/nginx-public/www/favicon.ico" failed (2: No such file or directory), client: 127.0.0.1, server: logs.test, request: "GET /favicon.ico HTTP/1.1", host: "127.0.0.1:18081"`
	accessRun(t, &NginxErrorParser{}, []accessCase{
		{name: "notice without context", line: errlogLineNginxN, want: map[string]string{
			"format": "nginx-error", "time": "2026-11-25T21:43:43Z", "time_local": "true", "level": "notice",
			"message": `using the "epoll" event method`, "x.pid#": "19457", "x.tid#": "19457",
		}},
		{name: "exit", line: `2026/11/25 21:43:50 [notice] 19458#19458: exit`, want: map[string]string{
			"format": "nginx-error", "time": "2026-11-25T21:43:50Z", "time_local": "true", "level": "notice",
			"message": "exit", "x.pid#": "19458", "x.tid#": "19458",
		}},
		{name: "error with request context", line: errlogLineNginx7, want: map[string]string{
			"format": "nginx-error", "time": "2026-11-25T21:43:45Z", "time_local": "true", "level": "error",
			"message": msg7, "x.pid#": "19459", "x.tid#": "19459", "x.connection_id#": "7",
			"request.ip": "127.0.0.1", "x.server": "logs.test", "request.method": "GET", "request.path": "/favicon.ico",
			"request.protocol": "HTTP/1.1", "request.host": "127.0.0.1:18081",
		}},
		{name: "upstream context", line: errlogLineNginx10, want: map[string]string{
			"format": "nginx-error", "time": "2026-11-25T21:43:45Z", "time_local": "true", "level": "error",
			"message": errlogLineNginx10[len("2026/11/25 21:43:45 [error] 19459#19459: "):],
			"x.pid#":  "19459", "x.tid#": "19459", "x.connection_id#": "10",
			"request.ip": "127.0.0.1", "x.server": "logs.test", "request.method": "POST", "request.path": "/api/v1/workflows",
			"request.protocol": "HTTP/1.1", "x.upstream": "http://127.0.0.1:1/api/v1/workflows", "request.host": "127.0.0.1:18081",
		}},
		{name: "client phrase before context, referrer, fraction time", line: `2026/11/25 21:43:45.123 [warn] 7#7: *52 client intended to send too large body: 5000 bytes, client: 2001:db8::5, server: , request: "POST /upload HTTP/2.0", host: "logs.test", referrer: "https://logs.test/form"`, want: map[string]string{
			"format": "nginx-error", "time": "2026-11-25T21:43:45.123Z", "time_local": "true", "level": "warn",
			"message": `*52 client intended to send too large body: 5000 bytes, client: 2001:db8::5, server: , request: "POST /upload HTTP/2.0", host: "logs.test", referrer: "https://logs.test/form"`,
			"x.pid#":  "7", "x.tid#": "7", "x.connection_id#": "52",
			"request.ip": "2001:db8::5", "request.method": "POST", "request.path": "/upload", "request.protocol": "HTTP/2.0",
			"request.host": "logs.test", "request.referer": "https://logs.test/form",
		}},
		{name: "quoted value containing client:", line: `2026/11/25 21:43:45 [error] 7#7: *3 upstream sent invalid header: "X, client: evil" while reading response header from upstream, client: 10.0.0.1, server: a, request: "GET /?q=, client: x HTTP/1.1", upstream: "http://10.0.0.9:80/", host: "a"`, want: map[string]string{
			"format": "nginx-error", "time": "2026-11-25T21:43:45Z", "time_local": "true", "level": "error",
			"message": `*3 upstream sent invalid header: "X, client: evil" while reading response header from upstream, client: 10.0.0.1, server: a, request: "GET /?q=, client: x HTTP/1.1", upstream: "http://10.0.0.9:80/", host: "a"`,
			"x.pid#":  "7", "x.tid#": "7", "x.connection_id#": "3",
			"request.ip": "10.0.0.1", "x.server": "a", "request.method": "GET", "request.path": "/?q=, client: x",
			"request.protocol": "HTTP/1.1", "x.upstream": "http://10.0.0.9:80/", "request.host": "a",
		}},
		{name: "malformed request in context", line: `2026/11/25 21:43:45 [info] 7#7: *9 client sent invalid method while reading client request line, client: 10.0.0.1, server: _, request: "\x16\x03\x01"`, want: map[string]string{
			"format": "nginx-error", "time": "2026-11-25T21:43:45Z", "time_local": "true", "level": "info",
			"message": `*9 client sent invalid method while reading client request line, client: 10.0.0.1, server: _, request: "\x16\x03\x01"`,
			"x.pid#":  "7", "x.tid#": "7", "x.connection_id#": "9",
			"request.ip": "10.0.0.1", "x.server": "_", "x.request": `\x16\x03\x01`,
		}},
		{name: "SSL handshake, listening server", line: `2026/11/25 21:43:45 [crit] 7#7: *11 SSL_do_handshake() failed (SSL: error:0A00006C:SSL routines::bad key share) while SSL handshaking, client: 192.0.2.1, server: 0.0.0.0:443`, want: map[string]string{
			"format": "nginx-error", "time": "2026-11-25T21:43:45Z", "time_local": "true", "level": "crit",
			"message": `*11 SSL_do_handshake() failed (SSL: error:0A00006C:SSL routines::bad key share) while SSL handshaking, client: 192.0.2.1, server: 0.0.0.0:443`,
			"x.pid#":  "7", "x.tid#": "7", "x.connection_id#": "11",
			"request.ip": "192.0.2.1", "x.server": "0.0.0.0:443",
		}},
		{name: "stream module", line: `2026/11/25 21:43:45 [error] 8#8: *1 connect() failed (111: Connection refused) while connecting to upstream, udp client: 192.0.2.1, server: 0.0.0.0:53, upstream: "10.0.0.53:53", bytes from/to client:0/0, bytes from/to upstream:0/0`, want: map[string]string{
			"format": "nginx-error", "time": "2026-11-25T21:43:45Z", "time_local": "true", "level": "error",
			"message": `*1 connect() failed (111: Connection refused) while connecting to upstream, udp client: 192.0.2.1, server: 0.0.0.0:53, upstream: "10.0.0.53:53", bytes from/to client:0/0, bytes from/to upstream:0/0`,
			"x.pid#":  "8", "x.tid#": "8", "x.connection_id#": "1",
			"request.ip": "192.0.2.1", "x.server": "0.0.0.0:53", "x.upstream": "10.0.0.53:53",
		}},
		{name: "emerg at startup", line: `2026/11/25 21:43:45 [emerg] 1#1: unknown directive "foo" in /etc/nginx/nginx.conf:12`, want: map[string]string{
			"format": "nginx-error", "time": "2026-11-25T21:43:45Z", "time_local": "true", "level": "emerg",
			"message": `unknown directive "foo" in /etc/nginx/nginx.conf:12`, "x.pid#": "1", "x.tid#": "1",
		}},
		{name: "reject unknown level", line: `2026/11/25 21:43:45 [fatal] 1#1: boom`},
		{name: "reject missing pid#tid", line: `2026/11/25 21:43:45 [error] something broke`},
		{name: "reject go log", line: `2026/11/25 21:46:20 [error] db: connection refused`},
		{name: "reject access", line: accessLineNginx1},
		{name: "reject apache error", line: errlogLineApache24},
		{name: "reject uvicorn", line: `ERROR:    Exception in ASGI application`},
		{name: "reject syslog", line: `Nov 25 21:43:45 host nginx[1]: 2026/11/25 21:43:45 [error] 1#1: x`},
	})
	accessRun(t, &NginxErrorParser{}, accessForeignLines)
}

func TestApacheErrorParser(t *testing.T) {
	accessRun(t, &ApacheErrorParser{}, []accessCase{
		{name: "2.4 default", line: errlogLineApache24, want: map[string]string{
			"format": "apache-error", "time": "2000-10-11T14:32:52.123456Z", "time_local": "true", "level": "error", "logger": "core",
			"x.pid#": "35708", "x.tid#": "4328636416", "request.ip": "72.15.99.187", "x.client_port#": "1234",
			"message": "AH00128: File does not exist: /usr/local/apache2/htdocs/favicon.ico", "error.code": "AH00128",
		}},
		{name: "2.2", line: errlogLineApache22, want: map[string]string{
			"format": "apache-error", "time": "2000-10-11T14:32:52Z", "time_local": "true", "level": "error",
			"request.ip": "127.0.0.1", "message": "client denied by server configuration: /export/home/live/ap/htdocs/test",
		}},
		{name: "2.2 without client", line: `[Wed Oct 11 14:32:52 2000] [notice] Apache/2.2.22 (Ubuntu) configured -- resuming normal operations`, want: map[string]string{
			"format": "apache-error", "time": "2000-10-11T14:32:52Z", "time_local": "true", "level": "notice",
			"message": "Apache/2.2.22 (Ubuntu) configured -- resuming normal operations",
		}},
		{name: "2.4 mpm notice", line: `[Sun Nov 05 09:03:01.000001 2023] [mpm_event:notice] [pid 1:tid 140093112] AH00489: Apache/2.4.57 (Unix) configured -- resuming normal operations`, want: map[string]string{
			"format": "apache-error", "time": "2023-11-05T09:03:01.000001Z", "time_local": "true", "level": "notice", "logger": "mpm_event",
			"x.pid#": "1", "x.tid#": "140093112", "error.code": "AH00489",
			"message": "AH00489: Apache/2.4.57 (Unix) configured -- resuming normal operations",
		}},
		{name: "2.4 IPv6 client and referer", line: `[Thu May 12 08:28:57.652118 2011] [core:info] [pid 8777:tid 4326490112] [client ::1:58619] AH00128: File does not exist: /usr/local/apache2/htdocs/favicon.ico, referer: http://localhost/`, want: map[string]string{
			"format": "apache-error", "time": "2011-05-12T08:28:57.652118Z", "time_local": "true", "level": "info", "logger": "core",
			"x.pid#": "8777", "x.tid#": "4326490112", "request.ip": "::1", "x.client_port#": "58619", "error.code": "AH00128",
			"request.referer": "http://localhost/",
			"message":         "AH00128: File does not exist: /usr/local/apache2/htdocs/favicon.ico, referer: http://localhost/",
		}},
		{name: "2.4 errno before client (prefork, no tid)", line: `[Fri Sep 09 10:42:29.902022 2011] [proxy:error] [pid 35708] (111)Connection refused: [client 10.0.0.7:40000] AH00957: HTTP: attempt to connect to 127.0.0.1:8080 (localhost) failed`, want: map[string]string{
			"format": "apache-error", "time": "2011-09-09T10:42:29.902022Z", "time_local": "true", "level": "error", "logger": "proxy",
			"x.pid#": "35708", "request.ip": "10.0.0.7", "x.client_port#": "40000", "error.code": "AH00957",
			"message": "(111)Connection refused: [client 10.0.0.7:40000] AH00957: HTTP: attempt to connect to 127.0.0.1:8080 (localhost) failed",
		}},
		{name: "2.4 errno without client", line: `[Fri Sep 09 10:42:29.902022 2011] [proxy_fcgi:trace2] [pid 3] (2)No such file or directory: AH02454: FCGI: attempt to connect to Unix domain socket /run/php/php.sock failed`, want: map[string]string{
			"format": "apache-error", "time": "2011-09-09T10:42:29.902022Z", "time_local": "true", "level": "trace2", "logger": "proxy_fcgi",
			"x.pid#": "3", "error.code": "AH02454",
			"message": "(2)No such file or directory: AH02454: FCGI: attempt to connect to Unix domain socket /run/php/php.sock failed",
		}},
		{name: "space padded day, ISO %{cu}t", line: `[2011-09-09 10:42:29.902022] [ssl:warn] [pid 9] AH01909: server certificate does NOT include an ID which matches the server name`, want: map[string]string{
			"format": "apache-error", "time": "2011-09-09T10:42:29.902022Z", "time_local": "true", "level": "warn", "logger": "ssl",
			"x.pid#": "9", "error.code": "AH01909",
			"message": "AH01909: server certificate does NOT include an ID which matches the server name",
		}},
		{name: "space padded day", line: `[Mon Jan  2 03:04:05 2006] [warn] child process 1 still did not exit`, want: map[string]string{
			"format": "apache-error", "time": "2006-01-02T03:04:05Z", "time_local": "true", "level": "warn",
			"message": "child process 1 still did not exit",
		}},
		{name: "reject unknown level", line: `[Wed Oct 11 14:32:52 2000] [oops] message`},
		{name: "reject bad time", line: `[Wed Oct 11 14:32 2000] [error] message`},
		{name: "reject bracket text", line: `[main] [error] something went wrong in the [database] layer`},
		{name: "reject gunicorn", line: `[2024-01-01 12:00:00 +0000] [12] [INFO] Starting gunicorn 21.2.0`},
		{name: "reject nginx error", line: errlogLineNginx7},
		{name: "reject access", line: accessLineApacheCb},
		{name: "reject syslog", line: `<34>Oct 11 22:14:15 mymachine su[123]: 'su root' failed for lonvick on /dev/pts/8`},
	})
	accessRun(t, &ApacheErrorParser{}, accessForeignLines)
}
