#!/usr/bin/env bash
# A throw-away three-node RabbitMQ cluster for the failover tests, each node a broker.sh node under
# DIR (its own data, ports and logs), sharing one Erlang cookie, on loopback only.
#   cluster.sh start DIR PORT     nodes on PORT, PORT + 10 and PORT + 20, joined to the first
#   cluster.sh stop DIR PORT      every node stopped
#   cluster.sh kill DIR NODE_PORT the node killed with SIGKILL (no goodbye to anyone)
#   cluster.sh revive DIR NODE_PORT  a killed node started again (it rejoins its cluster)
#   cluster.sh ctl DIR NODE_PORT ARGS...  rabbitmqctl against one node
set -euo pipefail
action=$1
dir=$(mkdir -p "$2" && cd "$2" && pwd)
port=$3
shift 3
broker=$(dirname "$0")/broker.sh
export NQS_BROKER_COOKIE=nqs-test-cluster-cookie
nodes() { echo "$port" $((port + 10)) $((port + 20)); }

case "$action" in
  start)
    for node in $(nodes); do "$broker" stop "$dir/node-$node" "$node" >/dev/null 2>&1 || true; done
    rm -rf "$dir"/node-*
    for node in $(nodes); do "$broker" start "$dir/node-$node" "$node" >/dev/null; done
    for node in $((port + 10)) $((port + 20)); do
      "$broker" ctl "$dir/node-$node" "$node" -q stop_app
      "$broker" ctl "$dir/node-$node" "$node" -q join_cluster "nqs-$port@localhost"
      "$broker" ctl "$dir/node-$node" "$node" -q start_app
    done
    "$broker" ctl "$dir/node-$port" "$port" -q await_online_nodes 3
    echo "cluster of nqs-$port, nqs-$((port + 10)) and nqs-$((port + 20)) (data in $dir)"
    ;;
  stop)
    for node in $(nodes); do "$broker" stop "$dir/node-$node" "$node" >/dev/null 2>&1 || true; done
    ;;
  kill)
    kill -9 "$(cat "$dir/node-$port/rabbitmq.pid")"
    ;;
  revive)
    "$broker" start "$dir/node-$port" "$port" >/dev/null
    ;;
  ctl)
    "$broker" ctl "$dir/node-$port" "$port" "$@"
    ;;
  *)
    echo "usage: cluster.sh start|stop|kill|revive|ctl DIR PORT [ARGS...]" >&2
    exit 2
    ;;
esac
