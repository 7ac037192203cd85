package parse

import "testing"

var (
	uviLineAccess   = `INFO:     127.0.0.1:44104 - "GET /health HTTP/1.1" 200 OK`
	uviLineAccess2  = `INFO:     127.0.0.1:54604 - "POST /generate-workflow HTTP/1.1" 422 Unprocessable Entity`
	uviLineBasic    = `INFO:uvicorn.access:127.0.0.1:44104 - "GET / HTTP/1.1" 200`
	uviLineGunicorn = `[2024-01-01 12:00:00 +0000] [12] [INFO] 127.0.0.1:1234 - "GET / HTTP/1.1" 200`
	uviLineStarted  = `INFO:     Started server process [22052]`
	uviLineError    = `ERROR:    Exception in ASGI application`
)

func TestUvicornAccessParser(t *testing.T) {
	accessRun(t, &UvicornAccessParser{}, []accessCase{
		{name: "default", line: uviLineAccess, want: map[string]string{
			"format": "uvicorn-access", "level": "INFO", "message": `127.0.0.1:44104 - "GET /health HTTP/1.1" 200 OK`,
			"request.ip": "127.0.0.1", "x.client_port#": "44104", "request.method": "GET", "request.path": "/health",
			"request.protocol": "HTTP/1.1", "response.status#": "200",
		}},
		{name: "multi-word phrase", line: uviLineAccess2, want: map[string]string{
			"format": "uvicorn-access", "level": "INFO", "message": `127.0.0.1:54604 - "POST /generate-workflow HTTP/1.1" 422 Unprocessable Entity`,
			"request.ip": "127.0.0.1", "x.client_port#": "54604", "request.method": "POST", "request.path": "/generate-workflow",
			"request.protocol": "HTTP/1.1", "response.status#": "422",
		}},
		{name: "unknown status has empty phrase", line: `INFO:     10.0.0.1:5000 - "GET /x?a=1&b=2 HTTP/1.0" 599 `, want: map[string]string{
			"format": "uvicorn-access", "level": "INFO", "message": `10.0.0.1:5000 - "GET /x?a=1&b=2 HTTP/1.0" 599 `,
			"request.ip": "10.0.0.1", "x.client_port#": "5000", "request.method": "GET", "request.path": "/x?a=1&b=2",
			"request.protocol": "HTTP/1.0", "response.status#": "599",
		}},
		{name: "IPv6 as uvicorn writes it", line: `INFO:     ::1:51234 - "GET / HTTP/1.1" 307 Temporary Redirect`, want: map[string]string{
			"format": "uvicorn-access", "level": "INFO", "message": `::1:51234 - "GET / HTTP/1.1" 307 Temporary Redirect`,
			"request.ip": "::1", "x.client_port#": "51234", "request.method": "GET", "request.path": "/",
			"request.protocol": "HTTP/1.1", "response.status#": "307",
		}},
		{name: "IPv6 bracketed", line: `INFO:     [::1]:5000 - "DELETE /items/1 HTTP/2" 204 No Content`, want: map[string]string{
			"format": "uvicorn-access", "level": "INFO", "message": `[::1]:5000 - "DELETE /items/1 HTTP/2" 204 No Content`,
			"request.ip": "::1", "x.client_port#": "5000", "request.method": "DELETE", "request.path": "/items/1",
			"request.protocol": "HTTP/2", "response.status#": "204",
		}},
		{name: "dash client", line: `INFO:     - - "GET / HTTP/1.1" 200 OK`, want: map[string]string{
			"format": "uvicorn-access", "level": "INFO", "message": `- - "GET / HTTP/1.1" 200 OK`,
			"request.method": "GET", "request.path": "/", "request.protocol": "HTTP/1.1", "response.status#": "200",
		}},
		{name: "empty client (unix socket)", line: `INFO:      - "GET / HTTP/1.1" 200 OK`, want: map[string]string{
			"format": "uvicorn-access", "level": "INFO", "message": ` - "GET / HTTP/1.1" 200 OK`,
			"request.method": "GET", "request.path": "/", "request.protocol": "HTTP/1.1", "response.status#": "200",
		}},
		{name: "coloured level", line: "\x1b[32mINFO\x1b[0m:     127.0.0.1:1 - \"GET / HTTP/1.1\" 200 OK", want: map[string]string{
			"format": "uvicorn-access", "level": "INFO", "message": `127.0.0.1:1 - "GET / HTTP/1.1" 200 OK`,
			"request.ip": "127.0.0.1", "x.client_port#": "1", "request.method": "GET", "request.path": "/",
			"request.protocol": "HTTP/1.1", "response.status#": "200",
		}},
		{name: "logging.basicConfig", line: uviLineBasic, want: map[string]string{
			"format": "uvicorn-access", "level": "INFO", "logger": "uvicorn.access", "message": `127.0.0.1:44104 - "GET / HTTP/1.1" 200`,
			"request.ip": "127.0.0.1", "x.client_port#": "44104", "request.method": "GET", "request.path": "/",
			"request.protocol": "HTTP/1.1", "response.status#": "200",
		}},
		{name: "gunicorn with uvicorn worker", line: uviLineGunicorn, want: map[string]string{
			"format": "uvicorn-access", "level": "INFO", "time": "2024-01-01T12:00:00Z", "x.pid#": "12",
			"message":    `127.0.0.1:1234 - "GET / HTTP/1.1" 200`,
			"request.ip": "127.0.0.1", "x.client_port#": "1234", "request.method": "GET", "request.path": "/",
			"request.protocol": "HTTP/1.1", "response.status#": "200",
		}},
		{name: "gunicorn with offset", line: `[2024-01-01 14:00:00 +0200] [7] [INFO] 10.1.1.1:80 - "PUT /a HTTP/1.1" 201 Created`, want: map[string]string{
			"format": "uvicorn-access", "level": "INFO", "time": "2024-01-01T12:00:00Z", "x.pid#": "7",
			"message":    `10.1.1.1:80 - "PUT /a HTTP/1.1" 201 Created`,
			"request.ip": "10.1.1.1", "x.client_port#": "80", "request.method": "PUT", "request.path": "/a",
			"request.protocol": "HTTP/1.1", "response.status#": "201",
		}},
		{name: "reject uvicorn default", line: uviLineStarted},
		{name: "reject one-space warning", line: `WARNING: 127.0.0.1:1 - "GET / HTTP/1.1" 200 OK`},
		{name: "reject wrong padding", line: `INFO:    127.0.0.1:1 - "GET / HTTP/1.1" 200 OK`},
		{name: "reject gunicorn startup", line: `[2024-01-01 12:00:00 +0000] [12] [INFO] Starting gunicorn 21.2.0`},
		{name: "reject basicConfig other message", line: `INFO:uvicorn.error:Started server process [22050]`},
		{name: "reject basicConfig app message", line: `INFO:workflow_agent:POST /generate-workflow -> 200 in 0.0170s tracking_id=be3f8ccc`},
		{name: "reject nginx access", line: accessLineNginx1},
		{name: "reject nginx error", line: errlogLineNginx7},
		{name: "reject apache error", line: errlogLineApache24},
		{name: "reject syslog", line: `<34>Oct 11 22:14:15 mymachine su[123]: 'su root' failed`},
	})
	accessRun(t, &UvicornAccessParser{}, accessForeignLines)
}

func TestUvicornParser(t *testing.T) {
	accessRun(t, &UvicornParser{}, []accessCase{
		{name: "info", line: uviLineStarted, want: map[string]string{
			"format": "uvicorn", "level": "INFO", "message": "Started server process [22052]",
		}},
		{name: "running on", line: `INFO:     Uvicorn running on http://127.0.0.1:18101 (Press CTRL+C to quit)`, want: map[string]string{
			"format": "uvicorn", "level": "INFO", "message": "Uvicorn running on http://127.0.0.1:18101 (Press CTRL+C to quit)",
		}},
		{name: "error", line: uviLineError, want: map[string]string{
			"format": "uvicorn", "level": "ERROR", "message": "Exception in ASGI application",
		}},
		{name: "warning", line: `WARNING:  Invalid HTTP request received.`, want: map[string]string{
			"format": "uvicorn", "level": "WARNING", "message": "Invalid HTTP request received.",
		}},
		{name: "debug", line: `DEBUG:    ('127.0.0.1', 50000) - Connected`, want: map[string]string{
			"format": "uvicorn", "level": "DEBUG", "message": "('127.0.0.1', 50000) - Connected",
		}},
		{name: "critical", line: `CRITICAL: Something is on fire`, want: map[string]string{
			"format": "uvicorn", "level": "CRITICAL", "message": "Something is on fire",
		}},
		{name: "trace", line: `TRACE:    127.0.0.1:50000 - ASGI [2] Started scope`, want: map[string]string{
			"format": "uvicorn", "level": "TRACE", "message": "127.0.0.1:50000 - ASGI [2] Started scope",
		}},
		{name: "empty message", line: `INFO:     `, want: map[string]string{
			"format": "uvicorn", "level": "INFO", "message": "",
		}},
		{name: "coloured level", line: "\x1b[33mWARNING\x1b[0m:  Invalid HTTP request received.", want: map[string]string{
			"format": "uvicorn", "level": "WARNING", "message": "Invalid HTTP request received.",
		}},
		{name: "coloured critical", line: "\x1b[91mCRITICAL\x1b[0m: boom", want: map[string]string{
			"format": "uvicorn", "level": "CRITICAL", "message": "boom",
		}},
		{name: "access line is fine too (detection order)", line: uviLineAccess, want: map[string]string{
			"format": "uvicorn", "level": "INFO", "message": `127.0.0.1:44104 - "GET /health HTTP/1.1" 200 OK`,
		}},
		{name: "reject one-space warning (werkzeug)", line: `WARNING: This is a development server. Do not use it in a production deployment.`},
		{name: "reject four spaces", line: `INFO:    Started server process [1]`},
		{name: "reject six spaces", line: `INFO:      Started server process [1]`},
		{name: "reject unknown level", line: `FATAL:    boom`},
		{name: "reject lower case", line: `info:     Started server process [1]`},
		{name: "reject basicConfig", line: `INFO:uvicorn.error:Started server process [22050]`},
		{name: "reject ERROR without padding", line: `ERROR: something`},
		{name: "reject gunicorn", line: uviLineGunicorn},
		{name: "reject nginx access", line: accessLineNginx1},
		{name: "reject nginx error", line: errlogLineNginx7},
		{name: "reject apache error", line: errlogLineApache22},
		{name: "reject syslog", line: `Oct 11 22:14:15 mymachine su[123]: 'su root' failed`},
	})
	accessRun(t, &UvicornParser{}, accessForeignLines)
}
