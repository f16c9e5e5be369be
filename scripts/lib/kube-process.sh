# Sourced by scripts/kube-up and scripts/kube-down: the servers' pid files, and stopping them without
# ever touching a process that is not ours.

# One kube-up or kube-down at a time per state directory. The lock file sits beside the directory,
# since kube-down removes the directory itself.
kube_lock() {
  exec 9>"$1.lock"
  flock -w 300 9 || {
    echo "kube: $1.lock is still held after 300 s (another kube-up or kube-down running?)" >&2
    exit 1
  }
}

# kube-up marks the directories it creates; nothing else is ever deleted, whatever CMESH_KUBE_DIR says.
kube_marker=.cmesh-kube-instance
kube_check_ours() {
  [ -e "$1/$kube_marker" ] && return 0
  [ -d "$1" ] && [ -z "$(ls -A "$1")" ] && return 0
  echo "kube: $1 exists but was not created by scripts/kube-up; refusing to touch it" >&2
  return 1
}

# pidfile dir: the process is alive and is one of this instance's servers. The check of the command
# line (which names the state directory) keeps a recycled pid from being mistaken for ours.
kube_process_alive() {
  local pidfile=$1 dir=$2 pid state
  [ -f "$pidfile" ] || return 1
  pid=$(cat "$pidfile")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [ -r "/proc/$pid/cmdline" ] || return 1
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
  [ "$state" != Z ] || return 1
  tr '\0' '\n' <"/proc/$pid/cmdline" | grep -qF "$dir/"
}

# pidfile dir: stops the server (SIGTERM, SIGKILL after 10 s) and removes the pid file. The server
# leads its own process group (setsid), so the group is signalled.
kube_stop() {
  local pidfile=$1 dir=$2 pid
  if kube_process_alive "$pidfile" "$dir"; then
    pid=$(cat "$pidfile")
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do
      kube_process_alive "$pidfile" "$dir" || break
      sleep 0.1
    done
    if kube_process_alive "$pidfile" "$dir"; then
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
      for _ in $(seq 50); do
        kube_process_alive "$pidfile" "$dir" || break
        sleep 0.1
      done
    fi
  fi
  rm -f "$pidfile"
}

# host port path: the body of a plain HTTP GET, in bash alone (no curl on a fresh machine).
http_get() {
  timeout 5 bash -c '
    exec 3<>"/dev/tcp/$0/$1" || exit 1
    printf "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" "$2" "$0" >&3
    sed "1,/^\r\{0,1\}$/d" <&3' "$1" "$2" "$3" 2>/dev/null
}
