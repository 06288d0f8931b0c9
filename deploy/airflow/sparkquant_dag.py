"""SparkQuant on Airflow: the nightly pipeline, one task per step, and the gate as the last task.

Every task is one `deploy/submit.sh pipeline --config CONFIG --root ROOT --step STEP` (spark-submit of the shaded
app jar; the Airflow worker needs Java 17 and the built repository, no Spark distribution). The pipeline is
rerunnable: a task runs the steps up to its own, and the steps an earlier task completed are skipped (their outputs
carry a record of their options and input hashes), so a retried task redoes only what is missing. Each night
writes under its own dated root. The gate task exits with code 4 when a model misses a threshold of the config's
"gate" section; the task fails, and so does the DAG run, and nothing downstream of it (a publish task) runs.

Configure with Airflow Variables (or edit the defaults below):
  sparkquant_home     repository checkout with the built jar (mvn -DskipTests package)
  sparkquant_master   Spark master URL: spark://host:7077, yarn, k8s://https://host:443, local[*]
  sparkquant_config   the pipeline config (JSON, README "Operations"); read here to know which steps exist
  sparkquant_output   where the dated roots go (a shared file system or HDFS): <output>/<ds>
  sparkquant_submit_args  extra deploy/submit.sh options, e.g. "--deploy-mode cluster --conf spark.x=y"
"""

from __future__ import annotations

import json
import os
import shlex
from datetime import datetime, timedelta, timezone

from airflow import DAG
from airflow.models import Variable
from airflow.operators.bash import BashOperator


def var(name: str, default: str) -> str:
    return Variable.get(name, default_var=default)


HOME = var("sparkquant_home", "/opt/sparkquant")
CONFIG = var("sparkquant_config", f"{HOME}/deploy/airflow/nightly.json")
# One root per night ({{ ds }} is the run's logical date): reruns and retries of that night share it.
ROOT = var("sparkquant_output", "/data/sparkquant/nightly") + "/{{ ds }}"
SUBMIT = " ".join([
    shlex.quote(f"{HOME}/deploy/submit.sh"),
    "--master", shlex.quote(var("sparkquant_master", "local[*]")),
    var("sparkquant_submit_args", ""),
])

# Executor sizing for ND4J (deploy/conf/spark-defaults.conf.example explains the numbers).
SPARK_ENV = {
    "SPARKQUANT_EXECUTOR_MEMORY": "4g",
    "SPARKQUANT_EXECUTOR_OVERHEAD": "2g",
    "SPARKQUANT_EXECUTOR_CORES": "2",
    "JAVA_HOME": os.environ.get("JAVA_HOME", "/usr/lib/jvm/java-17-openjdk-amd64"),
    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    "HOME": os.environ.get("HOME", "/tmp"),
}

# The exit code of `sparkquant pipeline` when the gate fails (PipelineCommand.EXIT_GATE_FAILED).
GATE_FAILED_EXIT_CODE = 4


def pipeline_steps(config_path: str) -> list[str]:
    """The config's steps in order (PipelineJob.Step): convert and train, qat and the gate only when configured."""
    with open(config_path, encoding="utf-8") as f:
        config = json.load(f)
    steps = []
    if "idx" in config.get("data", {}):
        steps.append("convert")
    if "train" in config:
        steps.append("train")
    steps += ["calibrate", "quantize"]
    if "qat" in config:
        steps.append("qat")
    steps += ["evaluate", "report"]
    if "gate" in config:
        steps.append("gate")
    return steps


def step_command(step: str) -> str:
    return f"{SUBMIT} pipeline --config {shlex.quote(CONFIG)} --root {ROOT} --step {step}"


with DAG(
    dag_id="sparkquant_nightly",
    description="Nightly SparkQuant pipeline: train, calibrate, quantize, evaluate on Spark; gate on the metrics",
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    schedule="0 2 * * *",  # every night at 02:00 UTC
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=10)},
    tags=["sparkquant", "spark", "quantization"],
) as dag:
    previous = None
    for step in pipeline_steps(CONFIG):
        task = BashOperator(
            task_id=step,
            bash_command=step_command(step),
            env=SPARK_ENV,
            # A failed gate is a verdict, not a transient failure: never retried.
            retries=0 if step == "gate" else 2,
        )
        if previous is not None:
            previous >> task
        previous = task

# With a Spark distribution and a `spark_default` connection, each task can be a SparkSubmitOperator instead
# (apache-airflow-providers-apache-spark):
#
#   from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
#   SparkSubmitOperator(
#       task_id=step,
#       application=f"{HOME}/jobs/target/sparkquant-app.jar",
#       java_class="io.sparkquant.jobs.Main",
#       application_args=["pipeline", "--config", CONFIG, "--root", ROOT, "--step", step],
#       executor_memory="4g", executor_cores=2,
#       conf={"spark.executor.memoryOverhead": "2g",
#             "spark.executorEnv.OMP_NUM_THREADS": "2",
#             "spark.executorEnv.MALLOC_ARENA_MAX": "2",
#             "spark.executor.extraJavaOptions": "-Dorg.bytedeco.javacpp.cachedir=/var/cache/sparkquant/javacpp"},
#   )
