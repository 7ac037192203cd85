package parse

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPythonParser(t *testing.T) {
	p := &PythonParser{}
	require.Equal(t, "python", p.Name())
	const asc = "2024-01-15T10:30:45.123Z"
	appRun(t, p, []appCase{
		// basicConfig default "%(levelname)s:%(name)s:%(message)s" (fastapi-workflow-agent-stream-utc.log)
		{"basic/error", "ERROR:workflow_agent:workflow generation failed tracking_id=03c4c8af-2c84-41c3-af19-2afacf9e0c84", &appWant{
			format: "python-basic", level: "ERROR", logger: "workflow_agent",
			msg: "workflow generation failed tracking_id=03c4c8af-2c84-41c3-af19-2afacf9e0c84"}},
		{"basic/uvicorn", "INFO:uvicorn.error:Started server process [22050]", &appWant{
			format: "python-basic", level: "INFO", logger: "uvicorn.error", msg: "Started server process [22050]"}},
		{"basic/debug-payload", "DEBUG:workflow_agent:prompt received tracking_id=be3f8ccc-09d2-4fea-9201-50b7b51e0246 payload={'session_id': 'session_c5395d00', 'prompt': 'daily report'}", &appWant{
			format: "python-basic", level: "DEBUG", logger: "workflow_agent",
			msg: "prompt received tracking_id=be3f8ccc-09d2-4fea-9201-50b7b51e0246 payload={'session_id': 'session_c5395d00', 'prompt': 'daily report'}"}},
		{"basic/root-warning", "WARNING:root:disk almost full", &appWant{
			format: "python-basic", level: "WARNING", logger: "root", msg: "disk almost full"}},
		{"basic/py-warnings", "WARNING:py.warnings:/app/x.py:3: DeprecationWarning: old", &appWant{
			format: "python-basic", level: "WARNING", logger: "py.warnings", msg: "/app/x.py:3: DeprecationWarning: old"}},
		{"basic/critical-main", "CRITICAL:__main__:", &appWant{
			format: "python-basic", level: "CRITICAL", logger: "__main__", msg: ""}},
		{"basic/custom-level", "SUCCESS:loader:all loaded", &appWant{
			format: "python-basic", level: "SUCCESS", logger: "loader", msg: "all loaded"}},
		{"basic/custom-level-verbose", "VERBOSE:app.core:tick", &appWant{
			format: "python-basic", level: "VERBOSE", logger: "app.core", msg: "tick"}},

		// asctime layouts
		{"cookbook", "2024-01-15 10:30:45,123 - myapp.db - WARNING - slow query took 2.5s", &appWant{
			format: "python-asctime", level: "WARNING", logger: "myapp.db", msg: "slow query took 2.5s", time: asc, local: true}},
		{"level-first-name-second", "2024-01-15 10:30:45,123 - ERROR - boom - with dash", &appWant{
			format: "python-asctime", level: "ERROR", logger: "boom", msg: "with dash", time: asc, local: true}},
		{"caps-name-first", "2024-01-15 10:30:45,123 - MAIN - INFO - x", &appWant{
			format: "python-asctime", level: "INFO", logger: "MAIN", msg: "x", time: asc, local: true}},
		{"level-dash-message", "2024-01-15 10:30:45,123 - INFO - Application started", &appWant{
			format: "python-asctime", level: "INFO", msg: "Application started", time: asc, local: true}},
		{"level-name-dash", "2024-01-15 10:30:45,123 - INFO - uvicorn - Application started", &appWant{
			format: "python-asctime", level: "INFO", logger: "uvicorn", msg: "Application started", time: asc, local: true}},
		{"space-level-dotted-name", "2024-01-15 10:30:45,123 INFO uvicorn.error Started server process [1]", &appWant{
			format: "python-asctime", level: "INFO", logger: "uvicorn.error", msg: "Started server process [1]", time: asc, local: true}},
		{"space-level-root", "2024-01-15 10:30:45,123 DEBUG root cache miss", &appWant{
			format: "python-asctime", level: "DEBUG", logger: "root", msg: "cache miss", time: asc, local: true}},
		{"space-level-plain-word-is-message", "2024-01-15 10:30:45,123 INFO Started server", &appWant{
			format: "python-asctime", level: "INFO", msg: "Started server", time: asc, local: true}},
		{"levelname-8s", "2024-01-15 10:30:45,123 WARNING  low disk", &appWant{
			format: "python-asctime", level: "WARNING", msg: "low disk", time: asc, local: true}},
		{"levelname-8s-info", "2024-01-15 10:30:45,123 INFO     workflow_7ba4ba started", &appWant{
			format: "python-asctime", level: "INFO", msg: "workflow_7ba4ba started", time: asc, local: true}},
		{"bracket-level-name-colon", "2024-01-15 10:30:45,123 [INFO] uvicorn.error: Started server process [1]", &appWant{
			format: "python-asctime", level: "INFO", logger: "uvicorn.error", msg: "Started server process [1]", time: asc, local: true}},
		{"bracket-level-message", "2024-01-15 10:30:45,123 [ERROR] something broke", &appWant{
			format: "python-asctime", level: "ERROR", msg: "something broke", time: asc, local: true}},
		{"flask", "[2024-01-15 10:30:45,123] ERROR in app: Exception on /boom [GET]", &appWant{
			format: "python-asctime", level: "ERROR", module: "app", msg: "Exception on /boom [GET]", time: asc, local: true}},
		{"flask-info", "[2024-01-15 10:30:45,123] INFO in routes: served", &appWant{
			format: "python-asctime", level: "INFO", module: "routes", msg: "served", time: asc, local: true}},
		{"colon", "2024-01-15 10:30:45,123:ERROR:root:bad thing", &appWant{
			format: "python-asctime", level: "ERROR", logger: "root", msg: "bad thing", time: asc, local: true}},
		{"space-then-basic", "2024-01-15 10:30:45,123 INFO:app.main:ready", &appWant{
			format: "python-asctime", level: "INFO", logger: "app.main", msg: "ready", time: asc, local: true}},
		{"level-colon-message", "2024-01-15 10:30:45,123 WARNING: retrying", &appWant{
			format: "python-asctime", level: "WARNING", msg: "retrying", time: asc, local: true}},
		{"name-dash", "2024-01-15 10:30:45,123 INFO worker - job done", &appWant{
			format: "python-asctime", level: "INFO", logger: "worker", msg: "job done", time: asc, local: true}},
		{"no-fraction-T", "2024-01-15T10:30:45 ERROR app.tasks failed", &appWant{
			format: "python-asctime", level: "ERROR", logger: "app.tasks", msg: "failed", time: "2024-01-15T10:30:45Z", local: true}},
		{"pipe", "2024-01-15 10:30:45,123 | INFO | app.api | request done", &appWant{
			format: "python-asctime", level: "INFO", logger: "app.api", msg: "request done", time: asc, local: true}},
		{"loguru", "2024-01-15 10:30:45.123 | INFO     | __main__:<module>:12 - loguru says hi", &appWant{
			format: "python-asctime", level: "INFO", logger: "__main__", function: "<module>", line: "12", msg: "loguru says hi", time: asc, local: true}},
		{"loguru-success", "2024-01-15 10:30:45.123 | SUCCESS  | app.jobs:run:88 - done - really", &appWant{
			format: "python-asctime", level: "SUCCESS", logger: "app.jobs", function: "run", line: "88", msg: "done - really", time: asc, local: true}},
		{"django-verbose", "INFO 2024-01-15 10:30:45,123 views 4321 140735 hello from django", &appWant{
			format: "python-asctime", level: "INFO", module: "views", msg: "hello from django", time: asc, local: true,
			extra: []string{"pid", "4321", "thread", "140735"}}},
		{"cookbook-name-first-padded", "2024-01-15 10:30:45,123 myapp.area1  ERROR    The five boxing wizards jump quickly.", &appWant{
			format: "python-asctime", level: "ERROR", logger: "myapp.area1", msg: "The five boxing wizards jump quickly.", time: asc, local: true}},
		{"cookbook-funcname-lineno", "2024-01-15 10:30:45,123 - app - DEBUG - handle:42 - got request", &appWant{
			format: "python-asctime", level: "DEBUG", logger: "app", function: "handle", line: "42", msg: "got request", time: asc, local: true}},
		{"cookbook-filename-lineno", "2024-01-15 10:30:45,123 - INFO - app - views.py:7 - rendered", &appWant{
			format: "python-asctime", level: "INFO", logger: "app", file: "views.py", line: "7", msg: "rendered", time: asc, local: true}},
		{"gunicorn", "[2024-01-15 10:30:45 +0000] [12345] [INFO] Starting gunicorn 21.2.0", &appWant{
			format: "python-asctime", level: "INFO", msg: "Starting gunicorn 21.2.0", time: "2024-01-15T10:30:45Z",
			extra: []string{"pid", "12345"}}},
		{"gunicorn-offset", "[2024-01-15 10:30:45 -0500] [8] [ERROR] Worker (pid:9) was sent SIGKILL!", &appWant{
			format: "python-asctime", level: "ERROR", msg: "Worker (pid:9) was sent SIGKILL!", time: "2024-01-15T15:30:45Z",
			extra: []string{"pid", "8"}}},
		{"celery", "[2024-01-15 10:30:45,123: INFO/MainProcess] Connected to redis://localhost:6379/0", &appWant{
			format: "python-asctime", level: "INFO", msg: "Connected to redis://localhost:6379/0", time: asc, local: true,
			extra: []string{"process_name", "MainProcess"}}},
		{"celery-worker", "[2024-01-15 10:30:45,123: WARNING/ForkPoolWorker-1] Task x[1] retry", &appWant{
			format: "python-asctime", level: "WARNING", msg: "Task x[1] retry", time: asc, local: true,
			extra: []string{"process_name", "ForkPoolWorker-1"}}},
		{"level-only", "2024-01-15 10:30:45,123 CRITICAL", &appWant{
			format: "python-asctime", level: "CRITICAL", msg: "", time: asc, local: true}},

		// negatives
		{"uvicorn-default", "INFO:     Started server process [22050]", nil},
		{"uvicorn-access", `INFO:     127.0.0.1:54536 - "POST /generate-workflow HTTP/1.1" 200 OK`, nil},
		{"basic-empty-name", "INFO::message", nil},
		{"basic-lower-level", "info:root:message", nil},
		{"basic-unknown-short-caps", "ABC:x:y", nil},
		{"basic-name-with-space", "INFO:my app:message", nil},
		{"asctime-zone", "2024-01-15T10:30:45.123Z INFO app.x hello", nil},
		{"asctime-micros", "2024-01-15 10:30:45.123456 INFO hello", nil},
		{"asctime-lower-level", "2024-01-15 10:30:45,123 info hello", nil},
		{"asctime-no-level", "2024-01-15 10:30:45,123 hello world", nil},
		{"asctime-glued", "2024-01-15 10:30:45,123INFO hello", nil},
		{"cookbook-no-level", "2024-01-15 10:30:45,123 - myapp - hello - there", nil},
		{"spring", "2024-01-15 10:30:45.123  INFO 12345 --- [           main] c.e.demo.DemoApplication                 : Started", nil},
		{"log4j", "2024-01-15 10:30:45,123 INFO  [main] com.example.App - message", nil},
		{"logback-date", "2024-01-15 10:30:45.123 [main] ERROR com.example.App - message", nil},
		{"django-missing-thread", "INFO 2024-01-15 10:30:45,123 views 4321 hello", nil},
		{"bracket-ts-unclosed", "[2024-01-15 10:30:45,123 ERROR in app: x", nil},
		{"gunicorn-bad-level", "[2024-01-15 10:30:45 +0000] [12345] [info] x", nil},
		{"gunicorn-no-pid", "[2024-01-15 10:30:45 +0000] [INFO] x", nil},
		{"celery-bad", "[2024-01-15 10:30:45,123: INFO MainProcess] x", nil},
		{"kafka", "[2024-01-15 10:30:45,123] INFO [KafkaServer id=1] started (kafka.server.KafkaServer)", &appWant{
			format: "python-asctime", level: "INFO", msg: "[KafkaServer id=1] started (kafka.server.KafkaServer)", time: asc, local: true}},
		{"elasticsearch", "[2024-01-15T10:30:45,123][INFO ][o.e.n.Node               ] [node-1] started", nil},
	})
	appCross(t, p, "python")
}
