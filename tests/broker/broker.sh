#!/usr/bin/env bash
# A throw-away RabbitMQ node for tests and local runs, entirely under DIR: its own data, logs,
# node name, ports and Erlang cookie, listening on 127.0.0.1 only. No system service is touched.
#   broker.sh start DIR PORT      start (or keep running) and wait until it answers
#   broker.sh stop DIR PORT       stop it and wait for the process to end
#   broker.sh restart-app DIR PORT  stop and start the RabbitMQ application (connections drop,
#                                 durable queues and their messages stay)
#   broker.sh ctl DIR PORT ARGS...  rabbitmqctl against this node
# With NQS_BROKER_TLS=CERTDIR (ca.pem, server.pem, server.key), the node also listens for TLS on
# PORT + 1. With NQS_BROKER_COOKIE, the node uses that Erlang cookie (the nodes of one cluster
# share it).
set -euo pipefail
command=$1
dir=$(mkdir -p "$2" && cd "$2" && pwd)
port=$3
shift 3

export HOME="$dir/home"
export RABBITMQ_MNESIA_BASE="$dir/mnesia"
export RABBITMQ_LOG_BASE="$dir/log"
export RABBITMQ_NODENAME="nqs-$port@localhost"
export RABBITMQ_NODE_PORT="$port"
# Both ports must be below Linux's ephemeral range (32768 and up), or an outgoing connection of the
# moment can hold them while the node boots (eaddrinuse).
if (( port + 2000 >= 32768 )); then
  echo "broker.sh: port $port + 2000 must be below 32768 (the ephemeral port range)" >&2
  exit 2
fi
export RABBITMQ_DIST_PORT=$((port + 1000))
# Erlang distribution on loopback only.
export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
export RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins"
export RABBITMQ_CONFIG_FILE="$dir/rabbitmq.conf"
export RABBITMQ_PID_FILE="$dir/rabbitmq.pid"
export ERL_EPMD_ADDRESS=127.0.0.1
mkdir -p "$HOME" "$RABBITMQ_MNESIA_BASE" "$RABBITMQ_LOG_BASE"
if [[ -n "${NQS_BROKER_COOKIE:-}" && ! -f "$HOME/.erlang.cookie" ]]; then
  printf '%s' "$NQS_BROKER_COOKIE" > "$HOME/.erlang.cookie"
  chmod 400 "$HOME/.erlang.cookie"
fi
# rabbitmq-server and rabbitmqctl live in /usr/lib/rabbitmq/bin on Debian; the /usr/sbin wrappers
# switch to the rabbitmq user, which cannot write here.
bin=/usr/lib/rabbitmq/bin
ctl() { "$bin/rabbitmqctl" -n "$RABBITMQ_NODENAME" "$@"; }

answers() { "$bin/rabbitmq-diagnostics" -n "$RABBITMQ_NODENAME" -q ping >/dev/null 2>&1; }

wait_until_up() {
  local server_pid=${1:-}
  for _ in $(seq 1 120); do
    if answers && ctl -q await_startup >/dev/null 2>&1; then return 0; fi
    # A node that died while booting will not answer: say why at once.
    if [[ -n "$server_pid" ]] && ! kill -0 "$server_pid" 2>/dev/null; then break; fi
    sleep 0.5
  done
  echo "broker $RABBITMQ_NODENAME did not start; log: $RABBITMQ_LOG_BASE" >&2
  tail -n 20 "$dir/server.out" >&2 || true
  return 1
}

case "$command" in
  start)
    if answers; then exit 0; fi
    # The management plugin on port + 2000: its HTTP API is the second source of queue health.
    echo '[rabbitmq_management].' > "$RABBITMQ_ENABLED_PLUGINS_FILE"
    cat > "$RABBITMQ_CONFIG_FILE" <<CONF
listeners.tcp.default = 127.0.0.1:$port
management.tcp.ip = 127.0.0.1
management.tcp.port = $((port + 2000))
loopback_users.guest = true
log.console = false
log.file.level = warning
CONF
    if [[ -n "${NQS_BROKER_TLS:-}" ]]; then
      cat >> "$RABBITMQ_CONFIG_FILE" <<CONF
listeners.ssl.default = 127.0.0.1:$((port + 1))
ssl_options.cacertfile = $NQS_BROKER_TLS/ca.pem
ssl_options.certfile = $NQS_BROKER_TLS/server.pem
ssl_options.keyfile = $NQS_BROKER_TLS/server.key
ssl_options.verify = verify_peer
ssl_options.fail_if_no_peer_cert = false
CONF
    fi
    if ss -ltn 2>/dev/null | grep -qE "127.0.0.1:($port|$((port + 1))|$RABBITMQ_DIST_PORT|$((port + 2000))) "; then
      echo "broker.sh: port $port, $((port + 1)), $RABBITMQ_DIST_PORT or $((port + 2000)) is taken by another process (another node on the same port?)" >&2
      exit 1
    fi
    nohup "$bin/rabbitmq-server" > "$dir/server.out" 2>&1 &
    wait_until_up $!
    echo "broker $RABBITMQ_NODENAME on 127.0.0.1:$port (data in $dir)"
    ;;
  stop)
    if answers; then ctl -q stop >/dev/null 2>&1 || true; fi
    for _ in $(seq 1 60); do
      if ! answers; then break; fi
      sleep 0.5
    done
    ;;
  restart-app)
    ctl -q stop_app
    ctl -q start_app
    wait_until_up
    ;;
  ctl)
    ctl "$@"
    ;;
  *)
    echo "usage: broker.sh start|stop|restart-app|ctl DIR PORT [ARGS...]" >&2
    exit 2
    ;;
esac
