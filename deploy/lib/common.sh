# Shared by deploy/local-cluster.sh and deploy/submit.sh (sourced, not executed).
# Everything here is derived from the Maven build: no Spark distribution is needed.

SQ_DEPLOY_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SQ_ROOT_DIR=$(dirname "$SQ_DEPLOY_DIR")

# Build outputs of `mvn -o -q -B -DskipTests package` (module jobs); overridable for a deployed copy.
SQ_APP_JAR=${SPARKQUANT_APP_JAR:-$SQ_ROOT_DIR/jobs/target/sparkquant-app.jar}
SQ_SPARK_CLASSPATH_FILE=${SPARKQUANT_SPARK_CLASSPATH_FILE:-$SQ_ROOT_DIR/deploy/target/spark-classpath.txt}
# One javacpp cache for every JVM of the project: javacpp unpacks ~390 MB of native libraries per jar
# file name into ~/.javacpp/cache otherwise (STACK.md). Same default as the parent pom's javacpp.cachedir.
SQ_JAVACPP_CACHEDIR=${SPARKQUANT_JAVACPP_CACHEDIR:-$HOME/.javacpp/sparkquant}
SQ_JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java

sq_die() {
  echo "$(basename "$0"): $*" >&2
  exit 1
}

# The provided Spark class path (colon-separated jar paths) written by the jobs module's package phase.
sq_spark_classpath() {
  [[ -s $SQ_SPARK_CLASSPATH_FILE ]] \
    || sq_die "Spark class path file not found: $SQ_SPARK_CLASSPATH_FILE (run 'mvn -o -q -B -DskipTests package' in $SQ_ROOT_DIR, or set SPARKQUANT_SPARK_CLASSPATH_FILE)"
  cat "$SQ_SPARK_CLASSPATH_FILE"
}

# The JVM flags Spark needs on Java 17, one copy for the whole project: deploy/jvm-opens.txt.
sq_jvm_opens() {
  grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' "$SQ_DEPLOY_DIR/jvm-opens.txt" | tr '\n' ' '
}
