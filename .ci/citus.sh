#!/usr/bin/env bash
# CI: Citus for the `citus` test project (docs/scale-out.md). Debian's PostgreSQL 15 with Citus 13.2.2 built
# from the shared vendor tarball, by the shared script beside the checkout (a no-op when already installed).
# The project itself never needs ../shared: on a user's machine Citus comes from the Citus packages.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f /usr/lib/postgresql/15/lib/citus.so ] && [ -x /usr/lib/postgresql/15/bin/pg_ctl ]; then
  echo "citus: installed"
  exit 0
fi
script=../shared/tools/citus/install.sh
if [ ! -x "$script" ] && [ ! -f "$script" ]; then
  echo "citus: $script not found (CI needs the shared folder beside the checkout)" >&2
  exit 1
fi
echo "citus: building Citus 13.2.2 into Debian's PostgreSQL 15 (5-10 minutes the first time)"
bash "$script"
