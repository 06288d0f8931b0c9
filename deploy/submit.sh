#!/usr/bin/env bash
# spark-submit for the SparkQuant app jar without a Spark distribution: runs
# org.apache.spark.deploy.SparkSubmit from the Maven-built Spark class path (client deploy mode, so the
# driver is this JVM and executors fetch the app jar from it). See deploy/README.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
  cat <<EOF
Usage: $(basename "$0") [--master URL] [--conf K=V]... [--driver-memory M] <subcommand> [args...]

Runs 'sparkquant <subcommand> args...' (io.sparkquant.jobs.Main in $SQ_APP_JAR) through spark-submit.

  --master URL          spark://host:port, local[N], yarn, k8s://...; default \$SPARK_MASTER, else the
                        local cluster in \$SPARKQUANT_CLUSTER_DIR (or deploy/.cluster) if it runs, else local[*]
  --conf K=V            extra Spark configuration (repeatable); overrides the defaults below
  --driver-memory M     driver heap (default \$SPARKQUANT_DRIVER_MEMORY or 2g)
  -h, --help            this help

Defaults passed to Spark (each overridable with --conf):
  spark.executor.memory=\${SPARKQUANT_EXECUTOR_MEMORY:-2g}
  spark.executor.memoryOverhead=\${SPARKQUANT_EXECUTOR_OVERHEAD:-1g}   (ND4J's off-heap buffers live here)
  spark.executor.cores=\${SPARKQUANT_EXECUTOR_CORES:-1}
  spark.executorEnv.OMP_NUM_THREADS=<executor cores>
  spark.executor.extraJavaOptions=<the JVM opens> -Dorg.bytedeco.javacpp.cachedir=$SQ_JAVACPP_CACHEDIR
Driver log configuration: \$SPARKQUANT_LOG4J2 or deploy/conf/log4j2-driver.properties (Spark at WARN).
Extra driver JVM flags: \$SPARKQUANT_DRIVER_OPTS.
EOF
}

master=${SPARK_MASTER:-}
driver_memory=${SPARKQUANT_DRIVER_MEMORY:-2g}
user_confs=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --master) master=$2; shift 2 ;;
    --conf) user_confs+=("$2"); shift 2 ;;
    --driver-memory) driver_memory=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    --) shift; break ;;
    -*) echo "Unknown option '$1' (options for the subcommand go after it)" >&2; usage >&2; exit 2 ;;
    *) break ;;
  esac
done
[[ $# -ge 1 ]] || { usage >&2; exit 2; }
sq_require_build "$SQ_APP_JAR"

if [[ -z $master ]]; then
  cluster_env=${SPARKQUANT_CLUSTER_DIR:-$SQ_DEPLOY_DIR/.cluster}/cluster.env
  if [[ -f $cluster_env ]]; then
    master=$(sed -n 's/^MASTER_URL=//p' "$cluster_env")
  else
    master='local[*]'
  fi
fi

executor_cores=${SPARKQUANT_EXECUTOR_CORES:-1}
confs=(
  "spark.executor.memory=${SPARKQUANT_EXECUTOR_MEMORY:-2g}"
  "spark.executor.memoryOverhead=${SPARKQUANT_EXECUTOR_OVERHEAD:-1g}"
  "spark.executor.cores=$executor_cores"
  "spark.executorEnv.OMP_NUM_THREADS=$executor_cores"
  "spark.executor.extraJavaOptions=$(sq_jvm_opens)-Dorg.bytedeco.javacpp.cachedir=$SQ_JAVACPP_CACHEDIR"
  # The console progress bar only where a person watches; logs and captured output stay clean.
  "spark.ui.showConsoleProgress=$([[ -t 2 ]] && echo true || echo false)"
)
confs+=("${user_confs[@]}")
conf_args=()
for c in "${confs[@]}"; do
  [[ $c == *=* ]] || sq_die "--conf must be KEY=VALUE, got '$c'"
  conf_args+=(--conf "$c")
done

log4j2=${SPARKQUANT_LOG4J2:-$SQ_DEPLOY_DIR/conf/log4j2-driver.properties}
export SPARK_LOCAL_IP=${SPARK_LOCAL_IP:-127.0.0.1}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-$(nproc)}
# The driver is this JVM (client mode): its heap, opens and javacpp cache dir are plain java flags.
# SPARKQUANT_DRIVER_OPTS: extra driver JVM flags (word-split), e.g. a debugger agent.
exec "$SQ_JAVA" $(sq_jvm_opens) -Xmx"$driver_memory" ${SPARKQUANT_DRIVER_OPTS:-} \
  -Dorg.bytedeco.javacpp.cachedir="$SQ_JAVACPP_CACHEDIR" \
  -Dlog4j2.configurationFile="$log4j2" \
  -cp "$(sq_spark_classpath)" org.apache.spark.deploy.SparkSubmit \
  --master "$master" --deploy-mode client --class io.sparkquant.jobs.Main \
  "${conf_args[@]}" "$SQ_APP_JAR" "$@"
