#!/usr/bin/env bash
# Installs or builds what the integration tests start on loopback, cached in
# .cache/tools (git-ignored). Idempotent: a tool is rebuilt only when its
# pinned version in tools/go.mod changes. Prints the env exports to use.
#   - Prometheus + promtool: Debian package `prometheus` (apt, needs root)
#   - Jaeger v1.76.0 and VictoriaLogs v1.52.1: built from the Go module proxy
#     through the tools module in tools/ (`go get -tool` pins them there;
#     `go install` refuses Jaeger's replace directives).
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

stamp="$TOOLS_DIR/bin/.tools-$(sha256sum "$REPO/tools/go.mod" "$REPO/tools/go.sum" | sha256sum | cut -c1-16)"
if [[ ! -f $stamp || ! -x $TOOLS_DIR/bin/jaeger || ! -x $TOOLS_DIR/bin/victoria-logs ]]; then
	echo "tools: building victoria-logs and jaeger (first run takes several minutes)" >&2
	(
		cd "$REPO/tools"
		GOFLAGS=-mod=mod go build -o "$TOOLS_DIR/bin/victoria-logs" github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs
		GOFLAGS=-mod=mod go build -o "$TOOLS_DIR/bin/jaeger" github.com/jaegertracing/jaeger/cmd/jaeger
	) >&2
	rm -f "$TOOLS_DIR"/bin/.tools-*
	touch "$stamp"
fi
echo "export LOGSHIPD_VICTORIALOGS_BIN=$TOOLS_DIR/bin/victoria-logs"
echo "export LOGSHIPD_JAEGER_BIN=$TOOLS_DIR/bin/jaeger"
echo "export LOGSHIPD_PROMETHEUS_BIN=$(command -v prometheus)"
echo "export LOGSHIPD_PROMTOOL_BIN=$(command -v promtool)"
