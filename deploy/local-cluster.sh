#!/usr/bin/env bash
# A real standalone Spark cluster on 127.0.0.1, started from the Maven class path (no Spark distribution):
# one master and N workers, each a separate JVM in its own process group (executors the workers launch
# stay in the worker's group, so stop can end them too). See deploy/README.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
  cat <<EOF
Usage: $(basename "$0") start|stop|status [options]

  start   start a master and N workers, wait until every worker is registered, print the master URL
  stop    stop everything start started (master, workers, their executors) and wait for it to exit
  status  print the master URL and the number of registered workers; exit 1 if the cluster is down

Options:
  --workers N            workers to start (default 2)
  --cores-per-worker C   cores each worker offers (default 1); also OMP_NUM_THREADS of its executors
  --memory M             memory each worker offers to executor heaps, e.g. 3g (default 3g)
  --state-dir D          pid files, logs, work dirs (default \$SPARKQUANT_CLUSTER_DIR or deploy/.cluster)
  --timeout S            seconds to wait for the master and the workers (default 120)
  --watch-pid PID        stop the cluster when process PID exits (used by the Java test harness)
  -h, --help             this help

start prints the master URL on stdout (all else goes to stderr) and writes <state-dir>/cluster.env:
MASTER_URL, MASTER_WEBUI_URL, WORKERS, MASTER_STARTUP_MILLIS, WORKERS_STARTUP_MILLIS.
EOF
}

[[ $# -ge 1 ]] || { usage >&2; exit 2; }
command=$1
shift
workers=2
cores=1
memory=3g
state_dir=${SPARKQUANT_CLUSTER_DIR:-$SQ_DEPLOY_DIR/.cluster}
timeout_seconds=120
watch_pid=
while [[ $# -gt 0 ]]; do
  case $1 in
    --workers) workers=$2; shift 2 ;;
    --cores-per-worker) cores=$2; shift 2 ;;
    --memory) memory=$2; shift 2 ;;
    --state-dir) state_dir=$2; shift 2 ;;
    --timeout) timeout_seconds=$2; shift 2 ;;
    --watch-pid) watch_pid=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "Unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
[[ $workers =~ ^[1-9][0-9]*$ ]] || sq_die "--workers must be a positive integer, got '$workers'"
[[ $cores =~ ^[1-9][0-9]*$ ]] || sq_die "--cores-per-worker must be a positive integer, got '$cores'"
[[ $memory =~ ^[1-9][0-9]*[mMgG]$ ]] || sq_die "--memory must look like 512m or 3g, got '$memory'"
[[ $timeout_seconds =~ ^[1-9][0-9]*$ ]] || sq_die "--timeout must be a positive number of seconds, got '$timeout_seconds'"
[[ -z $watch_pid || $watch_pid =~ ^[1-9][0-9]*$ ]] || sq_die "--watch-pid must be a process id, got '$watch_pid'"
mkdir -p "$state_dir"
state_dir=$(cd "$state_dir" && pwd)
spark_home=$state_dir/spark-home
pid_dir=$state_dir/pids
log_dir=$state_dir/logs

now_millis() { date +%s%3N; }

# True if pid is a live java process of this cluster: its command line names this cluster's state dir
# (guards against a recycled pid and against unrelated JVMs).
is_ours() {
  local pid=$1 cmd
  [[ $(cat "/proc/$pid/comm" 2>/dev/null) == java ]] || return 1
  cmd=$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmd == *"$state_dir/"* ]] # the slash: /tmp/c1 must not match /tmp/c10
}

# Java processes of this cluster: the daemons, the executors they launched (their class path is
# $state_dir/spark-home/jars/*), and strays whose worker was lost.
cluster_java_pids() {
  local f pid
  for f in /proc/[0-9]*/comm; do
    pid=${f#/proc/}
    pid=${pid%/comm}
    is_ours "$pid" && echo "$pid"
  done
  return 0
}

tail_logs() {
  local f
  for f in "$log_dir"/*.log "$state_dir"/work/*/app-*/*/stderr; do
    [[ -f $f ]] || continue
    echo "----- last lines of $f -----" >&2
    tail -n 25 "$f" >&2
  done
}

# GET <web UI>/json/; curl if installed, else plain bash (minimal CI images may lack curl).
master_json() {
  if command -v curl > /dev/null; then
    curl -fsS --max-time 2 "$1/json/" 2>/dev/null
    return
  fi
  local hostport=${1#http://}
  timeout 3 bash -c 'exec 3<>"/dev/tcp/${1%:*}/${1#*:}" || exit 1
    printf "GET /json/ HTTP/1.0\r\nHost: %s\r\n\r\n" "$1" >&3
    response=$(cat <&3)
    [[ $response == "HTTP/1."?" 200"* ]] || exit 1
    printf "%s\n" "${response#*$'"'"'\r\n\r\n'"'"'}"' http-get "$hostport" 2>/dev/null
}

alive_workers() {
  master_json "$1" | grep -o '"aliveworkers" *: *[0-9]*' | grep -o '[0-9]*$' || echo 0
}

free_port() {
  local port attempt
  for attempt in $(seq 1 100); do
    port=$(( 20000 + RANDOM % 40000 ))
    # A refused connection means nobody listens there; the master is started with
    # spark.port.maxRetries=0, so a lost race fails loudly and start picks new ports.
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  sq_die "no free TCP port found on 127.0.0.1"
}

# SPARK_HOME for workers: executors are launched with SPARK_HOME/jars/* as class path and die with
# "Cannot find any build directories" without it (STACK.md). conf/java-opts is read by Spark's launcher
# for every executor JVM: the cluster-wide javacpp cache dir lives there.
make_spark_home() {
  local jar classpath
  classpath=$(sq_spark_classpath)
  rm -rf "$spark_home"
  mkdir -p "$spark_home/jars" "$spark_home/conf"
  IFS=: read -r -a jars <<< "$classpath"
  for jar in "${jars[@]}"; do
    [[ -f $jar ]] || sq_die "jar on the Spark class path is missing: $jar (rebuild with 'mvn -o -q -B -DskipTests package')"
    ln -s "$jar" "$spark_home/jars/$(basename "$jar")"
  done
  echo "-Dorg.bytedeco.javacpp.cachedir=$SQ_JAVACPP_CACHEDIR" > "$spark_home/conf/java-opts"
  cp "$SQ_DEPLOY_DIR/conf/log4j2-daemon.properties" "$spark_home/conf/log4j2.properties"
}

start_daemon() {
  local name=$1
  shift
  # setsid: each daemon leads its own process group, which its executors inherit.
  setsid "$SQ_JAVA" $(sq_jvm_opens) -Xmx512m -cp "$spark_home/conf:$spark_home/jars/*" "$@" \
    > "$log_dir/$name.log" 2>&1 < /dev/null &
  echo $! > "$pid_dir/$name.pid"
}

do_stop() {
  local pid members deadline
  if [[ -f $pid_dir/watchdog.pid ]]; then
    pid=$(cat "$pid_dir/watchdog.pid")
    # The watchdog ends by exec-ing this very stop; it must not kill itself.
    [[ $pid != "$$" ]] && kill -TERM "$pid" 2>/dev/null || true
  fi
  members=$(cluster_java_pids)
  if [[ -n $members ]]; then
    echo "stopping $(echo "$members" | wc -l) java processes of the cluster in $state_dir: $(echo $members)" >&2
    # SIGTERM runs the workers' shutdown hooks, which also kill their executors.
    for pid in $members; do kill -TERM "$pid" 2>/dev/null || true; done
    deadline=$(( $(date +%s) + 20 ))
    while [[ $(date +%s) -lt $deadline ]]; do
      members=$(for pid in $members; do kill -0 "$pid" 2>/dev/null && echo "$pid"; done; true)
      [[ -z $members ]] && break
      sleep 0.2
    done
    for pid in $members; do
      echo "process $pid did not exit within 20 s of SIGTERM; sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
    done
    for pid in $members; do
      while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    done
  fi
  rm -f "$pid_dir"/*.pid "$state_dir/cluster.env"
}

do_status() {
  [[ -f $state_dir/cluster.env ]] || { echo "no cluster in $state_dir" >&2; return 1; }
  # shellcheck disable=SC1091
  source "$state_dir/cluster.env"
  local alive
  alive=$(alive_workers "$MASTER_WEBUI_URL")
  echo "master $MASTER_URL (web UI $MASTER_WEBUI_URL): $alive of $WORKERS workers alive; pids: $(cluster_java_pids | tr '\n' ' ')" >&2
  echo "$MASTER_URL"
  [[ $alive -ge 1 ]]
}

do_start() {
  [[ -z $(cluster_java_pids) ]] || sq_die "a cluster is already running in $state_dir (run '$0 stop --state-dir $state_dir' first)"
  sq_require_build
  rm -rf "$pid_dir" "$log_dir" "$state_dir/work" "$state_dir/local" "$state_dir/cluster.env"
  mkdir -p "$pid_dir" "$log_dir"
  make_spark_home
  export SPARK_HOME=$spark_home SPARK_CONF_DIR=$spark_home/conf SPARK_SCALA_VERSION=2.12 SPARK_LOCAL_IP=127.0.0.1
  unset SPARK_DIST_CLASSPATH

  if [[ -n $watch_pid ]]; then
    kill -0 "$watch_pid" 2>/dev/null || sq_die "--watch-pid $watch_pid is not a running process"
    # The state dir on the command line makes the watchdog findable by stop like every other process.
    setsid bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 2; done; exec "$2" stop --state-dir "$3"' \
      watchdog "$watch_pid" "$SQ_DEPLOY_DIR/local-cluster.sh" "$state_dir" \
      > "$log_dir/watchdog.log" 2>&1 < /dev/null &
    echo $! > "$pid_dir/watchdog.pid"
  fi

  local start_millis master_port webui_port master_url webui_url deadline attempt started=false
  start_millis=$(now_millis)
  for attempt in 1 2 3; do
    master_port=$(free_port)
    webui_port=$(free_port)
    start_daemon master -Dspark.port.maxRetries=0 org.apache.spark.deploy.master.Master \
      --host 127.0.0.1 --port "$master_port" --webui-port "$webui_port"
    webui_url=http://127.0.0.1:$webui_port
    deadline=$(( $(date +%s) + timeout_seconds ))
    while [[ $(date +%s) -lt $deadline ]] && kill -0 "$(cat "$pid_dir/master.pid")" 2>/dev/null; do
      master_json "$webui_url" > /dev/null && { started=true; break; }
      sleep 0.2
    done
    $started && break
    if grep -q 'BindException\|Address already in use' "$log_dir/master.log"; then
      echo "master port $master_port or $webui_port was taken meanwhile; retrying with other ports" >&2
      do_stop_master_only
      continue
    fi
    break
  done
  if ! $started; then
    if kill -0 "$(cat "$pid_dir/master.pid")" 2>/dev/null; then
      echo "the master did not answer on $webui_url within $timeout_seconds s" >&2
    else
      echo "the master exited during start-up" >&2
    fi
    tail_logs
    do_stop
    exit 1
  fi
  master_url=spark://127.0.0.1:$master_port
  local master_millis=$(( $(now_millis) - start_millis ))
  echo "master $master_url up in ${master_millis} ms (web UI $webui_url)" >&2

  local i workers_start_millis
  workers_start_millis=$(now_millis)
  for i in $(seq 1 "$workers"); do
    mkdir -p "$state_dir/work/worker-$i" "$state_dir/local/worker-$i"
    # Executors inherit the worker's environment: OMP threads = the worker's cores, scratch in the state dir.
    OMP_NUM_THREADS=$cores SPARK_LOCAL_DIRS=$state_dir/local/worker-$i \
      start_daemon "worker-$i" org.apache.spark.deploy.worker.Worker \
      --host 127.0.0.1 --port 0 --webui-port 0 --cores "$cores" --memory "$memory" \
      --work-dir "$state_dir/work/worker-$i" "$master_url"
  done
  deadline=$(( $(date +%s) + timeout_seconds ))
  local alive=0
  while [[ $(date +%s) -lt $deadline ]]; do
    alive=$(alive_workers "$webui_url")
    [[ $alive -ge $workers ]] && break
    for i in $(seq 1 "$workers"); do
      if ! kill -0 "$(cat "$pid_dir/worker-$i.pid")" 2>/dev/null; then
        echo "worker-$i exited during start-up" >&2
        tail_logs
        do_stop
        exit 1
      fi
    done
    sleep 0.2
  done
  if [[ $alive -lt $workers ]]; then
    echo "only $alive of $workers workers registered with $master_url within $timeout_seconds s" >&2
    tail_logs
    do_stop
    exit 1
  fi
  local workers_millis=$(( $(now_millis) - workers_start_millis ))
  echo "$workers workers ($cores core(s), $memory each) registered in ${workers_millis} ms; state in $state_dir" >&2
  cat > "$state_dir/cluster.env" <<EOF
MASTER_URL=$master_url
MASTER_WEBUI_URL=$webui_url
WORKERS=$workers
MASTER_STARTUP_MILLIS=$master_millis
WORKERS_STARTUP_MILLIS=$workers_millis
EOF
  echo "$master_url"
}

do_stop_master_only() {
  local pid
  pid=$(cat "$pid_dir/master.pid")
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  rm -f "$pid_dir/master.pid"
}

case $command in
  start) do_start ;;
  stop) do_stop ;;
  status) do_status ;;
  -h|--help) usage ;;
  *) echo "Unknown command '$command'" >&2; usage >&2; exit 2 ;;
esac
