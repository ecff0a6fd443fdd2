#!/usr/bin/env bash
# Runs a test inside a private D-Bus session with its own unlocked
# gnome-keyring, in a throwaway HOME, so libsecret tests never touch the
# user's keyring:  keyring-session.sh TEST [ARGS…]
set -eu
if [ -z "${EIDER_IN_KEYRING_SESSION:-}" ]; then
  export EIDER_IN_KEYRING_SESSION=1
  exec dbus-run-session -- "$0" "$@"
fi
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
export HOME="$home" XDG_DATA_HOME="$home/.local/share" XDG_CONFIG_HOME="$home/.config" \
       XDG_CACHE_HOME="$home/.cache" XDG_RUNTIME_DIR="$home/run"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
printf 'eider-test' | gnome-keyring-daemon --unlock --components=secrets --daemonize >/dev/null
"$@"
