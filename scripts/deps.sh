#!/usr/bin/env bash
# Installs the Debian packages listed in scripts/apt-packages.txt that are
# not installed yet. Runs apt-get as root, or through sudo.
#
#   scripts/deps.sh          install, or fail naming what is missing (make test)
#   scripts/deps.sh --try    install if this user can; otherwise name what is
#                            missing and what it costs, and exit 0 (make run)
set -euo pipefail
cd "$(dirname "$0")"
try=""
[ "${1:-}" = "--try" ] && try=1
missing=()
while read -r pkg; do
	pkg=${pkg%%#*}
	pkg=$(echo "$pkg" | tr -d '[:space:]')
	[ -n "$pkg" ] || continue
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done < apt-packages.txt
# Node.js for the browser test, from Debian only when no node is installed
# (a machine may already have a newer one of its own; the test's
# playwright-core runs on Debian 12's Node 18).
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1 && { [ -z "$try" ] || sudo -n true 2>/dev/null; }; then
		sudo="sudo"
	else
		echo "deps: missing Debian packages: ${missing[*]}" >&2
		echo "deps: install them as root with: apt-get install ${missing[*]}" >&2
		if [ -n "$try" ]; then
			echo "deps: going on without them: without gcc and the X11/GL headers there is no kiosk window or display probe, without libasound2-dev no sound card (the speakers play silently)" >&2
			exit 0
		fi
		exit 1
	fi
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! { $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"; }; then
	echo "deps: apt-get could not install: ${missing[*]}" >&2
	if [ -n "$try" ]; then
		echo "deps: going on with what is installed" >&2
		exit 0
	fi
	exit 1
fi
