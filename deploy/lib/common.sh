# Shared by deploy/local-cluster.sh and deploy/submit.sh (sourced, not executed).
# Everything here is derived from the Maven build: no Spark distribution is needed.

SQ_DEPLOY_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SQ_ROOT_DIR=$(dirname "$SQ_DEPLOY_DIR")

# Build outputs of `mvn -o -q -B -DskipTests package` (module jobs); overridable for a deployed copy.
SQ_APP_JAR=${SPARKQUANT_APP_JAR:-$SQ_ROOT_DIR/jobs/target/sparkquant-app.jar}
SQ_SPARK_CLASSPATH_FILE=${SPARKQUANT_SPARK_CLASSPATH_FILE:-$SQ_ROOT_DIR/deploy/target/spark-classpath.txt}
SQ_JVM_OPENS_FILE=${SPARKQUANT_JVM_OPENS_FILE:-$SQ_ROOT_DIR/deploy/target/spark-java-opens.txt}
# One javacpp cache for every JVM of the project: javacpp unpacks ~390 MB of native libraries per jar
# file name into ~/.javacpp/cache otherwise (STACK.md). Same default as the parent pom's javacpp.cachedir.
SQ_JAVACPP_CACHEDIR=${SPARKQUANT_JAVACPP_CACHEDIR:-$HOME/.javacpp/sparkquant}
SQ_JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java

sq_die() {
  echo "$(basename "$0"): $*" >&2
  exit 1
}

# Dies (in the calling shell, not a subshell) unless the build outputs these scripts read exist.
sq_require_build() {
  local f
  for f in "$SQ_SPARK_CLASSPATH_FILE" "$SQ_JVM_OPENS_FILE" "$@"; do
    [[ -s $f ]] || sq_die "$f not found: run 'mvn -o -q -B -DskipTests package' in $SQ_ROOT_DIR (or point the SPARKQUANT_* variables at an installed copy)"
  done
}

# The complete Spark runtime class path (colon-separated jars), written by the deploy module.
sq_spark_classpath() {
  cat "$SQ_SPARK_CLASSPATH_FILE"
}

# The JVM flags Spark needs on Java 17. The one list is the parent pom property spark.java.opens (also the
# test JVMs' argLine); the deploy module's package phase writes it to deploy/target/spark-java-opens.txt.
sq_jvm_opens() {
  echo "$(cat "$SQ_JVM_OPENS_FILE") "
}
