#!/usr/bin/env bash
# spark-submit for the SparkQuant app jar without a Spark distribution: runs
# org.apache.spark.deploy.SparkSubmit from the Maven-built Spark class path. Client deploy mode (the default): the
# driver is this JVM and executors fetch the app jar from it. Cluster deploy mode: the driver runs on the cluster and
# gets its JVM flags through spark.driver.*. See deploy/README.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
  cat <<EOF
Usage: $(basename "$0") [--master URL] [--deploy-mode client|cluster] [--conf K=V]... [--driver-memory M]
       <subcommand> [args...]

Runs 'sparkquant <subcommand> args...' (io.sparkquant.jobs.Main in $SQ_APP_JAR) through spark-submit.

  --master URL          spark://host:port, local[N], yarn, k8s://...; default \$SPARK_MASTER, else the
                        local cluster in \$SPARKQUANT_CLUSTER_DIR (or deploy/.cluster) if it runs, else local[*]
  --deploy-mode MODE    client (default, \$SPARKQUANT_DEPLOY_MODE): the driver is this JVM; cluster: the driver
                        runs on the cluster (the app jar must be readable there: \$SPARKQUANT_APP_JAR may be an
                        hdfs:// or local: URL; YARN uploads a local jar itself)
  --conf K=V            extra Spark configuration (repeatable); overrides the defaults below
  --driver-memory M     driver heap (default \$SPARKQUANT_DRIVER_MEMORY or 2g)
  -h, --help            this help

Defaults passed to Spark (each overridable with --conf):
  spark.executor.memory=\${SPARKQUANT_EXECUTOR_MEMORY:-2g}
  spark.executor.memoryOverhead=\${SPARKQUANT_EXECUTOR_OVERHEAD:-1g}   (ND4J's off-heap buffers live here)
  spark.executor.cores=\${SPARKQUANT_EXECUTOR_CORES:-1}
  spark.executorEnv.OMP_NUM_THREADS=<executor cores>
  spark.executorEnv.MALLOC_ARENA_MAX=\${MALLOC_ARENA_MAX:-2}   (glibc malloc arenas, as for the driver; why:
                        ./sparkquant)
  spark.executor.extraJavaOptions=<the JVM opens> -XX:G1HeapRegionSize=32m -XX:ObjectAlignmentInBytes=64
                        -Dorg.bytedeco.javacpp.cachedir=$SQ_JAVACPP_CACHEDIR   (32 MB G1 regions, objects on
                        64-byte boundaries; why: ./sparkquant)
Driver log configuration: \$SPARKQUANT_LOG4J2 or deploy/conf/log4j2-driver.properties (Spark at WARN; client mode).
Extra driver JVM flags: \$SPARKQUANT_DRIVER_OPTS. Extra class path of spark-submit (e.g. a Spark distribution's
jars/* for the yarn or k8s:// master modules): \$SPARKQUANT_EXTRA_CLASSPATH.
SPARK_LOCAL_IP defaults to 127.0.0.1 only for a local master (local[*], or spark:// on 127.0.0.1/localhost);
otherwise Spark picks this host's address, so executors on other hosts can reach the driver.
EOF
}

master=${SPARK_MASTER:-}
deploy_mode=${SPARKQUANT_DEPLOY_MODE:-client}
driver_memory=${SPARKQUANT_DRIVER_MEMORY:-2g}
user_confs=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --master) master=$2; shift 2 ;;
    --deploy-mode) deploy_mode=$2; shift 2 ;;
    --conf) user_confs+=("$2"); shift 2 ;;
    --driver-memory) driver_memory=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    --) shift; break ;;
    -*) echo "Unknown option '$1' (options for the subcommand go after it)" >&2; usage >&2; exit 2 ;;
    *) break ;;
  esac
done
[[ $# -ge 1 ]] || { usage >&2; exit 2; }
[[ $deploy_mode == client || $deploy_mode == cluster ]] \
  || { echo "--deploy-mode must be client or cluster, got '$deploy_mode'" >&2; exit 2; }
if [[ $SQ_APP_JAR == *://* || $SQ_APP_JAR == local:* ]]; then
  sq_require_build # a remote app jar (cluster mode) is not checked here
else
  sq_require_build "$SQ_APP_JAR"
fi

if [[ -z $master ]]; then
  cluster_env=${SPARKQUANT_CLUSTER_DIR:-$SQ_DEPLOY_DIR/.cluster}/cluster.env
  if [[ -f $cluster_env ]]; then
    master=$(sed -n 's/^MASTER_URL=//p' "$cluster_env")
  else
    master='local[*]'
  fi
fi

executor_cores=${SPARKQUANT_EXECUTOR_CORES:-1}
# glibc malloc arenas as ./sparkquant sets them (the reason is there), for this JVM and every executor.
export MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-2}
# G1 regions of 32 MB as ./sparkquant sets them: in a 2 GB heap's default 1 MB regions a 64-row activation or a
# Parquet column vector is a humongous object, and each starts a concurrent mark. Objects on 64-byte boundaries, also
# as ./sparkquant sets them: the Java kernels' vectorized loops then run over arrays that start alike in a cache line.
jvm_layout="-XX:G1HeapRegionSize=32m -XX:ObjectAlignmentInBytes=64"
spark_jvm_flags="$(sq_jvm_opens)$jvm_layout -Dorg.bytedeco.javacpp.cachedir=$SQ_JAVACPP_CACHEDIR"
confs=(
  "spark.executor.memory=${SPARKQUANT_EXECUTOR_MEMORY:-2g}"
  "spark.executor.memoryOverhead=${SPARKQUANT_EXECUTOR_OVERHEAD:-1g}"
  "spark.executor.cores=$executor_cores"
  "spark.executorEnv.OMP_NUM_THREADS=$executor_cores"
  "spark.executorEnv.MALLOC_ARENA_MAX=$MALLOC_ARENA_MAX"
  "spark.executor.extraJavaOptions=$spark_jvm_flags"
  # The console progress bar only where a person watches; logs and captured output stay clean.
  "spark.ui.showConsoleProgress=$([[ -t 2 ]] && echo true || echo false)"
)
if [[ $deploy_mode == cluster ]]; then
  # The driver is not this JVM: its heap, opens, javacpp cache and OMP threads travel as Spark settings.
  confs+=(
    "spark.driver.memory=$driver_memory"
    "spark.driver.extraJavaOptions=$spark_jvm_flags"
    "spark.kubernetes.driverEnv.OMP_NUM_THREADS=${SPARKQUANT_DRIVER_CORES:-1}"
    "spark.yarn.appMasterEnv.OMP_NUM_THREADS=${SPARKQUANT_DRIVER_CORES:-1}"
    "spark.kubernetes.driverEnv.MALLOC_ARENA_MAX=$MALLOC_ARENA_MAX"
    "spark.yarn.appMasterEnv.MALLOC_ARENA_MAX=$MALLOC_ARENA_MAX"
  )
fi
confs+=("${user_confs[@]}")
conf_args=()
for c in "${confs[@]}"; do
  [[ $c == *=* ]] || sq_die "--conf must be KEY=VALUE, got '$c'"
  conf_args+=(--conf "$c")
done

log4j2=${SPARKQUANT_LOG4J2:-$SQ_DEPLOY_DIR/conf/log4j2-driver.properties}
# Loopback only where everything runs on this machine: a driver on 127.0.0.1 cannot be reached by executors on
# other hosts (Spark then picks this host's address; set SPARK_LOCAL_IP to choose an interface).
case $master in
  local|local\[*|spark://127.0.0.1:*|spark://localhost:*) export SPARK_LOCAL_IP=${SPARK_LOCAL_IP:-127.0.0.1} ;;
esac
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-$(nproc)}
classpath=$(sq_spark_classpath)${SPARKQUANT_EXTRA_CLASSPATH:+:$SPARKQUANT_EXTRA_CLASSPATH}
# Client mode: the driver is this JVM, so its heap, opens and javacpp cache dir are plain java flags. Cluster mode:
# this JVM only submits. SPARKQUANT_DRIVER_OPTS: extra JVM flags of this JVM (word-split), e.g. a debugger agent.
if [[ $deploy_mode == client ]]; then
  # shellcheck disable=SC2206 # jvm_layout holds space-separated flags
  jvm_flags=(-Xmx"$driver_memory" $jvm_layout -Dorg.bytedeco.javacpp.cachedir="$SQ_JAVACPP_CACHEDIR")
else
  jvm_flags=(-Xmx256m)
fi
exec "$SQ_JAVA" $(sq_jvm_opens) "${jvm_flags[@]}" ${SPARKQUANT_DRIVER_OPTS:-} \
  -Dlog4j2.configurationFile="$log4j2" \
  -cp "$classpath" org.apache.spark.deploy.SparkSubmit \
  --master "$master" --deploy-mode "$deploy_mode" --class io.sparkquant.jobs.Main \
  "${conf_args[@]}" "$SQ_APP_JAR" "$@"
