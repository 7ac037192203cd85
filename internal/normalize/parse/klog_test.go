package parse

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestKlogParser(t *testing.T) {
	p := &KlogParser{}
	require.Equal(t, "klog", p.Name())
	appRun(t, p, []appCase{
		// lnav-glog.0
		{"glog-error", "E0517 15:04:22.619632 1952452992 logging_unittest.cc:253] Log every 3, iteration 19", &appWant{
			format: "klog", level: "E", msg: "Log every 3, iteration 19", time: "05-17T15:04:22.619632", noYear: true, local: true,
			file: "logging_unittest.cc", line: "253", extra: []string{"thread", "1952452992"}}},
		{"glog-padded-thread", "I0517 15:04:22.619768      52992 logging_unittest.cc:269] const array", &appWant{
			format: "klog", level: "I", msg: "const array", time: "05-17T15:04:22.619768", noYear: true, local: true,
			file: "logging_unittest.cc", line: "269", extra: []string{"thread", "52992"}}},
		{"glog-warning", "W0517 15:04:22.619751    2452992 logging_unittest.cc:263] log_if this", &appWant{
			format: "klog", level: "W", msg: "log_if this", time: "05-17T15:04:22.619751", noYear: true, local: true,
			file: "logging_unittest.cc", line: "263", extra: []string{"thread", "2452992"}}},
		// klog docs
		{"klog-path", "F1103 09:12:01.000001   12345 pkg/kubelet/kubelet.go:1432] Failed to start ContainerManager", &appWant{
			format: "klog", level: "F", msg: "Failed to start ContainerManager", time: "11-03T09:12:01.000001", noYear: true, local: true,
			file: "pkg/kubelet/kubelet.go", line: "1432", extra: []string{"thread", "12345"}}},
		{"glog-with-year", "I20240517 15:04:22.619632 1234 main.cc:10] with year", &appWant{
			format: "klog", level: "I", msg: "with year", time: "2024-05-17T15:04:22.619632Z", local: true,
			file: "main.cc", line: "10", extra: []string{"thread", "1234"}}},
		{"empty-message", "I0517 15:04:22.619632 1234 main.cc:10]", &appWant{
			format: "klog", level: "I", msg: "", time: "05-17T15:04:22.619632", noYear: true, local: true,
			file: "main.cc", line: "10", extra: []string{"thread", "1234"}}},
		// klog structured logging (KEP-1602 examples)
		{"structured", `I1025 00:15:15.525108       1 controller.go:116] "Pod status updated" pod="kube-system/kubedns" status="ready"`, &appWant{
			format: "klog", level: "I", msg: "Pod status updated", time: "10-25T00:15:15.525108", noYear: true, local: true,
			file: "controller.go", line: "116", extra: []string{"thread", "1", "pod", "kube-system/kubedns", "status", "ready"}}},
		{"structured-error", `E1025 00:15:15.525108       1 controller.go:120] "Failed to update pod status" err="timeout" pod="kube-system/kubedns" attempt=3 ok=false`, &appWant{
			format: "klog", level: "E", msg: "Failed to update pod status", time: "10-25T00:15:15.525108", noYear: true, local: true,
			file: "controller.go", line: "120", errMsg: "timeout",
			extra: []string{"thread", "1", "pod", "kube-system/kubedns", "attempt", "3", "ok", "false"}}},
		{"structured-escapes", `I1025 00:15:15.525108       1 c.go:1] "say \"hi\"\n\tbye \u00e9\x41\101" msg2="a\\b" tracking_id="be3f8ccc-09d2-4fea-9201-50b7b51e0246"`, &appWant{
			format: "klog", level: "I", msg: "say \"hi\"\n\tbye \u00e9AA", time: "10-25T00:15:15.525108", noYear: true, local: true,
			file: "c.go", line: "1", trackingID: "be3f8ccc-09d2-4fea-9201-50b7b51e0246",
			extra: []string{"thread", "1", "msg2", `a\b`}}},
		{"structured-struct-value", `I1025 00:15:15.525108       1 c.go:1] "Object" obj={Name:foo Kind:Pod} count=2`, &appWant{
			format: "klog", level: "I", msg: "Object", time: "10-25T00:15:15.525108", noYear: true, local: true,
			file: "c.go", line: "1", extra: []string{"thread", "1", "obj", "{Name:foo Kind:Pod}", "count", "2"}}},
		{"structured-multiline-value", `I1025 00:15:15.525108       1 c.go:1] "Config" data=<`, &appWant{
			format: "klog", level: "I", msg: "Config", time: "10-25T00:15:15.525108", noYear: true, local: true,
			file: "c.go", line: "1", extra: []string{"thread", "1", "data", ""}}},
		{"quoted-but-not-structured", `I1025 00:15:15.525108       1 c.go:1] "quoted" then words`, &appWant{
			format: "klog", level: "I", msg: `"quoted" then words`, time: "10-25T00:15:15.525108", noYear: true, local: true,
			file: "c.go", line: "1", extra: []string{"thread", "1"}}},
		{"bad-escape-kept-raw", `I1025 00:15:15.525108       1 c.go:1] "bad \q escape"`, &appWant{
			format: "klog", level: "I", msg: `bad \q escape`, time: "10-25T00:15:15.525108", noYear: true, local: true,
			file: "c.go", line: "1", extra: []string{"thread", "1"}}},
		// negatives
		{"bad-level", "X0517 15:04:22.619632 1234 main.cc:10] x", nil},
		{"bad-month", "I1317 15:04:22.619632 1234 main.cc:10] x", nil},
		{"no-thread", "I0517 15:04:22.619632 main.cc:10] x", nil},
		{"no-line", "I0517 15:04:22.619632 1234 main.cc] x", nil},
		{"no-bracket", "I0517 15:04:22.619632 1234 main.cc:10 x", nil},
		{"glued-after-bracket", "I0517 15:04:22.619632 1234 main.cc:10]x", nil},
		{"five-digit-date", "I05170 15:04:22.619632 1234 main.cc:10] x", nil},
		{"word", "INFO 15:04:22.619632 1234 main.cc:10] x", nil},
	})
	appCross(t, p, "klog")
}
