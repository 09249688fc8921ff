#!/usr/bin/env bash
# Try the deployment on this machine: two `gatescope serve` processes (ports 8001 and 8002) sharing one
# model store, behind nginx on http://127.0.0.1:8080/ with deploy/nginx.conf. Ctrl-C stops all three.
# Needs the gatescope command (an activated venv) and nginx (apt-get install nginx).
set -euo pipefail
cd "$(dirname "$0")"
NGINX=${NGINX:-/usr/sbin/nginx}
command -v gatescope >/dev/null || { echo "run.sh: no gatescope command; pip install . (or activate the venv)" >&2; exit 1; }
[ -x "$NGINX" ] || { echo "run.sh: no $NGINX; apt-get install nginx" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/gatescope-deploy.XXXXXX")
chmod 755 "$work"  # started as root, nginx's workers run as nobody and must reach their temp folders
mkdir -p "$work/nginx/logs"
export GATESCOPE_UPLOAD_DIR=${GATESCOPE_UPLOAD_DIR:-$work/models}  # one store for every backend
export GATESCOPE_TRUSTED_PROXIES=127.0.0.1                         # believe nginx's X-Forwarded-For, nobody else's

pids=()
stop() {
  trap - EXIT INT TERM
  kill "${pids[@]}" 2>/dev/null || true
  wait || true
  rm -rf "$work"
}
trap stop EXIT INT TERM

for port in 8001 8002; do
  gatescope serve --host 127.0.0.1 --port "$port" --log-level warning &
  pids+=($!)
done
"$NGINX" -p "$work/nginx" -e "$work/nginx/logs/error.log" -c "$PWD/nginx.conf" -g 'daemon off;' &
pids+=($!)

echo "run.sh: http://127.0.0.1:8080/ (nginx logs in $work/nginx/logs; Ctrl-C stops)"
wait -n  # the first of them to end ends the others
