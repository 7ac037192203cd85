#!/usr/bin/env bash
# Installs or builds what the integration tests start on loopback, cached in
# .cache/tools (git-ignored). Idempotent: a tool is rebuilt only when its
# pinned version in tools/go.mod changes. Prints the env exports to use.
#   - Prometheus + promtool: Debian package `prometheus` (apt, needs root)
#   - Jaeger v1.76.0 and VictoriaLogs v1.52.1: built from the Go module proxy
#     through one tools module each, tools/jaeger and tools/victorialogs
#     (`go get -tool` pins them there; `go install` refuses Jaeger's replace
#     directives; one shared module would let MVS raise shared OpenTelemetry
#     dependencies past what Jaeger compiles with).
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH=/usr/local/go/bin:$PATH
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
TOOLS_DIR="${TOOLS_DIR:-$REPO/.cache/tools}"
mkdir -p "$TOOLS_DIR/bin"

if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then
	if [[ $(id -u) -ne 0 ]]; then
		echo "tools: prometheus is missing; install the Debian package: sudo apt-get install -y prometheus" >&2
		exit 1
	fi
	echo "tools: installing prometheus (apt)" >&2
	DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >&2
	# The package starts a system service; the tests run their own instances.
	systemctl disable --now prometheus >/dev/null 2>&1 || service prometheus stop >/dev/null 2>&1 || true
fi

# build_tool DIR BINARY PACKAGE: build PACKAGE from the tools module in
# tools/DIR unless the binary exists for the same go.mod/go.sum.
build_tool() {
	local dir=$1 bin=$2 pkg=$3
	local stamp="$TOOLS_DIR/bin/.$bin-$(cat "$REPO/tools/$dir/go.mod" "$REPO/tools/$dir/go.sum" | sha256sum | cut -c1-16)"
	if [[ -f $stamp && -x $TOOLS_DIR/bin/$bin ]]; then
		return
	fi
	echo "tools: building $bin (first run takes several minutes)" >&2
	(cd "$REPO/tools/$dir" && go build -o "$TOOLS_DIR/bin/$bin" "$pkg") >&2
	rm -f "$TOOLS_DIR/bin/.$bin-"*
	touch "$stamp"
}
build_tool victorialogs victoria-logs github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs
build_tool jaeger jaeger github.com/jaegertracing/jaeger/cmd/jaeger
echo "export LOGSHIPD_VICTORIALOGS_BIN=$TOOLS_DIR/bin/victoria-logs"
echo "export LOGSHIPD_JAEGER_BIN=$TOOLS_DIR/bin/jaeger"
echo "export LOGSHIPD_PROMETHEUS_BIN=$(command -v prometheus)"
echo "export LOGSHIPD_PROMTOOL_BIN=$(command -v promtool)"
