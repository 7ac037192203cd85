package parse

import "testing"

// appBench parses each line in turn, reporting bytes per op as the average
// line length.
func appBench(b *testing.B, p Parser, lines ...string) {
	bl := make([][]byte, len(lines))
	total := 0
	for i, l := range lines {
		bl[i] = []byte(l)
		total += len(l)
		var f Fields
		if !p.Parse(bl[i], &f) {
			b.Fatalf("%s rejects benchmark line %q", p.Name(), l)
		}
	}
	var f Fields
	b.ReportAllocs()
	b.SetBytes(int64(total / len(lines)))
	i := 0
	for b.Loop() {
		f.Reset()
		p.Parse(bl[i], &f)
		i++
		if i == len(bl) {
			i = 0
		}
	}
}

func BenchmarkPythonBasic(b *testing.B) {
	appBench(b, &PythonParser{},
		"INFO:workflow_agent:generated workflow workflow_7ba4ba type=ai-assisted tracking_id=be3f8ccc-09d2-4fea-9201-50b7b51e0246",
		"ERROR:workflow_agent:workflow generation failed tracking_id=03c4c8af-2c84-41c3-af19-2afacf9e0c84",
		"INFO:uvicorn.error:Started server process [22050]",
	)
}

func BenchmarkPythonAsctime(b *testing.B) {
	appBench(b, &PythonParser{},
		"2024-01-15 10:30:45,123 - myapp.db - WARNING - slow query took 2.5s",
		"2024-01-15 10:30:45,123 [INFO] uvicorn.error: Started server process [1]",
		"[2024-01-15 10:30:45,123] ERROR in app: Exception on /boom [GET]",
		"2024-01-15 10:30:45.123 | INFO     | __main__:<module>:12 - loguru says hi",
	)
}

func BenchmarkGoLog(b *testing.B) {
	appBench(b, &GoLogParser{},
		"[workflow-runner] 2026/11/25 21:46:20 starting workflow-runner version=1.4.2 go=go1",
		"2009/11/10 23:00:00.123123 main.go:12: with micros and file",
	)
}

func BenchmarkGoPanic(b *testing.B) {
	appBench(b, &GoPanicParser{},
		"panic: assignment to entry in nil map",
		"panic: some error [recovered]",
	)
}

func BenchmarkZapConsole(b *testing.B) {
	appBench(b, &ZapConsoleParser{},
		"2026-11-25T21:47:12.277Z\tINFO\tthirdparty/main.go:69\tstarting workflow-agent\t{\"version\": \"0.3.1\", \"pid\": 28246}",
		"2026-11-25T21:47:12.277Z\tERROR\tthirdparty/main.go:78\tmodel call failed\t{\"tracking_id\": \"5f0c6e2a-8b1d-4e3f-a7c9-1d2e3f4a5b6c\", \"error\": \"context deadline exceeded\", \"model\": \"gpt-4o-mini\", \"provider\": \"openai\"}",
		"2026-11-25T21:47:12.277Z\tINFO\tthirdparty/main.go:81\tprocessed 20 prompts",
	)
}

func BenchmarkKlog(b *testing.B) {
	appBench(b, &KlogParser{},
		"E0517 15:04:22.619632 1952452992 logging_unittest.cc:253] Log every 3, iteration 19",
		`I1025 00:15:15.525108       1 controller.go:116] "Pod status updated" pod="kube-system/kubedns" status="ready"`,
		`E1025 00:15:15.525108       1 controller.go:120] "Failed to update \"pod\" status" err="timeout" attempt=3`,
	)
}

func BenchmarkJava(b *testing.B) {
	appBench(b, &JavaParser{},
		"2024-01-15 10:30:45.123  INFO 12345 --- [           main] c.e.demo.DemoApplication                 : Started DemoApplication in 2.5 seconds (JVM running for 3.1)",
		"2024-01-15T10:30:45.123+01:00  INFO 12345 --- [demo] [           main] c.e.demo.DemoApplication                 : Started DemoApplication in 2.5 seconds",
		"10:30:45.123 [main] INFO  com.example.App - message",
		"2024-01-15 10:30:45,123 INFO  [main] com.example.App - message",
	)
}

func BenchmarkTsLevel(b *testing.B) {
	appBench(b, &TimestampLevelParser{},
		"2024-01-15T10:30:45.123Z INFO starting worker",
		"2024-04-25T05:32:35.584725130Z  * Serving Flask app 'app.py'",
		"[2024-01-15T10:30:45+01:00] ERROR: connection refused",
	)
}

// BenchmarkAppReject measures how fast each parser says no to a line of
// another format (what auto-detection pays per parser tried).
func BenchmarkAppReject(b *testing.B) {
	line := []byte(`time=2026-11-25T21:46:20.770Z level=INFO source=/tmp/cw/go/slogtext/main.go:26 msg="workflow started" service=workflow-runner env=dev`)
	for _, p := range []Parser{&PythonParser{}, &GoLogParser{}, &GoPanicParser{}, &ZapConsoleParser{}, &KlogParser{}, &JavaParser{}, &TimestampLevelParser{}} {
		b.Run(p.Name(), func(b *testing.B) {
			var f Fields
			b.ReportAllocs()
			b.SetBytes(int64(len(line)))
			for b.Loop() {
				if p.Parse(line, &f) {
					b.Fatal("accepted")
				}
			}
		})
	}
}
