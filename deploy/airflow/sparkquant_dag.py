"""SparkQuant on Airflow: calibrate -> quantize -> evaluate -> gate.

Each Spark step is one `deploy/submit.sh <subcommand>` (spark-submit of the shaded app jar, no Spark
distribution needed on the Airflow worker: Java 17 and the built repository are enough). The gate reads
the evaluation's metrics.json and fails the run when the int8 model is not good enough, so downstream
tasks (publishing the .tflite) only run for models that pass.

Configure with Airflow Variables (or edit the defaults below):
  sparkquant_home        repository checkout with the built jar (mvn -DskipTests package)
  sparkquant_master      Spark master URL, e.g. spark://spark-master:7077, yarn, k8s://...
  sparkquant_model       float DL4J model (ModelSerializer zip), e.g. from `sparkquant train`
  sparkquant_calib_data  Parquet tensor dataset used for calibration
  sparkquant_test_data   labelled Parquet tensor dataset used for evaluation
  sparkquant_output      root directory (shared file system or HDFS) for the runs' outputs
  sparkquant_min_accuracy            gate: minimum int8 accuracy (default 0.80)
  sparkquant_max_accuracy_drop       gate: maximum drop versus the float model (default 0.01)

Subcommand flags follow `sparkquant <subcommand> --help`; keep them in step with the CLI.
"""

from __future__ import annotations

import json
import os

import pendulum
from airflow import DAG
from airflow.exceptions import AirflowFailException
from airflow.models import Variable
from airflow.operators.bash import BashOperator
from airflow.operators.python import PythonOperator


def var(name: str, default: str) -> str:
    return Variable.get(name, default_var=default)


HOME = var("sparkquant_home", "/opt/sparkquant")
SUBMIT = f"{HOME}/deploy/submit.sh --master {var('sparkquant_master', 'local[*]')}"
MODEL = var("sparkquant_model", "/data/sparkquant/models/cnn/model.zip")
CALIB_DATA = var("sparkquant_calib_data", "/data/sparkquant/fashion-mnist/train")
TEST_DATA = var("sparkquant_test_data", "/data/sparkquant/fashion-mnist/test")
# One directory per run; the jobs write atomically, so a retried task never sees half an output.
RUN_DIR = var("sparkquant_output", "/data/sparkquant/runs") + "/{{ ds_nodash }}-{{ run_id | replace(':', '_') | replace('+', '_') }}"

# Executor sizing for ND4J (deploy/conf/spark-defaults.conf.example explains the numbers).
SPARK_ENV = {
    "SPARKQUANT_EXECUTOR_MEMORY": "4g",
    "SPARKQUANT_EXECUTOR_OVERHEAD": "2g",
    "SPARKQUANT_EXECUTOR_CORES": "2",
    "JAVA_HOME": os.environ.get("JAVA_HOME", "/usr/lib/jvm/java-17-openjdk-amd64"),
    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
}


def gate(run_dir: str, min_accuracy: float, max_drop: float) -> dict:
    """Fails the DAG run unless the int8 model is accurate enough and close enough to the float model."""
    with open(f"{run_dir}/eval-int8/metrics.json", encoding="utf-8") as f:
        int8 = json.load(f)
    with open(f"{run_dir}/eval-float/metrics.json", encoding="utf-8") as f:
        baseline = json.load(f)
    accuracy, float_accuracy = int8["accuracy"], baseline["accuracy"]
    drop = float_accuracy - accuracy
    summary = {"accuracy": accuracy, "floatAccuracy": float_accuracy, "drop": drop, "rows": int8["rows"]}
    if accuracy < min_accuracy:
        raise AirflowFailException(f"int8 accuracy {accuracy:.4f} is below {min_accuracy}: {summary}")
    if drop > max_drop:
        raise AirflowFailException(f"int8 accuracy drops {drop:.4f} (> {max_drop}) below the float model: {summary}")
    return summary  # pushed to XCom for reporting


with DAG(
    dag_id="sparkquant_int8",
    description="Calibrate, quantize to int8 TFLite and evaluate on Spark; gate on accuracy",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    schedule=None,  # triggered when a new float model is trained
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 1, "retry_delay": pendulum.duration(minutes=2)},
    tags=["sparkquant", "spark", "quantization"],
) as dag:
    calibrate = BashOperator(
        task_id="calibrate",
        bash_command=(
            f"{SUBMIT} calibrate --model {MODEL} --data {CALIB_DATA} --method percentile "
            f"--out {RUN_DIR}/calibration.json"
        ),
        env=SPARK_ENV,
    )

    quantize = BashOperator(
        task_id="quantize",
        bash_command=(
            f"{SUBMIT} quantize --model {MODEL} --mode int8 --io int8 "
            f"--calibration {RUN_DIR}/calibration.json --out {RUN_DIR}/model-int8.tflite"
        ),
        env=SPARK_ENV,
    )

    evaluate_int8 = BashOperator(
        task_id="evaluate_int8",
        bash_command=f"{SUBMIT} evaluate --model {RUN_DIR}/model-int8.tflite --data {TEST_DATA} --out {RUN_DIR}/eval-int8",
        env=SPARK_ENV,
    )

    evaluate_float = BashOperator(
        task_id="evaluate_float",
        bash_command=f"{SUBMIT} evaluate --model {MODEL} --data {TEST_DATA} --out {RUN_DIR}/eval-float",
        env=SPARK_ENV,
    )

    accuracy_gate = PythonOperator(
        task_id="accuracy_gate",
        python_callable=gate,
        op_kwargs={
            "run_dir": RUN_DIR,
            "min_accuracy": float(var("sparkquant_min_accuracy", "0.80")),
            "max_drop": float(var("sparkquant_max_accuracy_drop", "0.01")),
        },
    )

    calibrate >> quantize >> evaluate_int8
    [evaluate_int8, evaluate_float] >> accuracy_gate

# With a Spark distribution and a `spark_default` connection, each BashOperator above can be a
# SparkSubmitOperator instead (apache-airflow-providers-apache-spark), e.g.:
#
#   from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
#   evaluate_int8 = SparkSubmitOperator(
#       task_id="evaluate_int8",
#       application=f"{HOME}/jobs/target/sparkquant-app.jar",
#       java_class="io.sparkquant.jobs.Main",
#       application_args=["evaluate", "--model", f"{RUN_DIR}/model-int8.tflite",
#                         "--data", TEST_DATA, "--out", f"{RUN_DIR}/eval-int8"],
#       executor_memory="4g", executor_cores=2,
#       conf={"spark.executor.memoryOverhead": "2g",
#             "spark.executorEnv.OMP_NUM_THREADS": "2",
#             "spark.executor.extraJavaOptions": "-Dorg.bytedeco.javacpp.cachedir=/var/cache/sparkquant/javacpp"},
#   )
