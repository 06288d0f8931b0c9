"""Tests sparkquant_dag.py without Airflow, against the real CLI.

A small stand-in for the `airflow` modules the DAG imports records the DAG, its tasks, their dependencies and
commands. The test checks the graph (schedule, retries, dated root, one task per pipeline step in order, the gate
last), then executes every recorded command in dependency order, as Airflow's BashOperator would (bash -c, the
task's env as the whole environment, {{ ds }} rendered), on the bundled Fashion-MNIST subset: with a good model
every task succeeds and the gate passes; with a deliberately bad model (trained at a learning rate that wrecks it)
the steps succeed and the gate task fails with the pipeline's gate exit code.

    python3 deploy/airflow/test_dag.py --idx DIR --work DIR

DIR of --idx holds the four Fashion-MNIST IDX files. Exit code 0 when every check passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import subprocess
import sys
import time
import types
from pathlib import Path

DAG_FILE = Path(__file__).resolve().parent / "sparkquant_dag.py"
GATE_FAILED_EXIT_CODE = 4
LOGICAL_DATE = "2026-12-06"


# ---- the stand-in for the airflow modules ------------------------------------------------------------------------

class Recorder:
    """What importing the DAG file created."""

    def __init__(self, variables: dict[str, str]):
        self.variables = variables
        self.dags: list[StandInDag] = []
        self.current: StandInDag | None = None


RECORDER: Recorder | None = None


class StandInDag:
    def __init__(self, dag_id, **kwargs):
        self.dag_id = dag_id
        self.kwargs = kwargs
        self.default_args = kwargs.get("default_args", {})
        self.tasks: list[StandInBashOperator] = []

    def __enter__(self):
        RECORDER.current = self
        RECORDER.dags.append(self)
        return self

    def __exit__(self, *exc):
        RECORDER.current = None
        return False


class StandInBashOperator:
    def __init__(self, task_id, bash_command, env=None, **kwargs):
        dag = RECORDER.current
        if dag is None:
            raise AssertionError(f"task {task_id} created outside a DAG context")
        self.task_id = task_id
        self.bash_command = bash_command
        self.env = env
        self.retries = kwargs.pop("retries", dag.default_args.get("retries", 0))
        self.kwargs = kwargs
        self.upstream: list[StandInBashOperator] = []
        dag.tasks.append(self)

    def __rshift__(self, other):
        for o in other if isinstance(other, list) else [other]:
            o.upstream.append(self)
        return other


class StandInVariable:
    @staticmethod
    def get(name, default_var=None):
        return RECORDER.variables.get(name, default_var)


def import_dag(variables: dict[str, str]) -> StandInDag:
    """Imports the DAG file with the stand-in modules and the given Airflow Variables; returns the one DAG."""
    global RECORDER
    RECORDER = Recorder(variables)
    modules = {
        "airflow": types.ModuleType("airflow"),
        "airflow.models": types.ModuleType("airflow.models"),
        "airflow.operators": types.ModuleType("airflow.operators"),
        "airflow.operators.bash": types.ModuleType("airflow.operators.bash"),
    }
    modules["airflow"].DAG = StandInDag
    modules["airflow.models"].Variable = StandInVariable
    modules["airflow.operators.bash"].BashOperator = StandInBashOperator
    sys.modules.update(modules)
    spec = importlib.util.spec_from_file_location(f"sparkquant_dag_{len(variables)}_{time.time_ns()}", DAG_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if len(RECORDER.dags) != 1:
        raise AssertionError(f"expected one DAG, the file made {len(RECORDER.dags)}")
    return RECORDER.dags[0]


# ---- checks ------------------------------------------------------------------------------------------------------

def check(condition: bool, message: str):
    if not condition:
        raise AssertionError(message)


def topological(dag: StandInDag) -> list[StandInBashOperator]:
    done: list[StandInBashOperator] = []
    pending = list(dag.tasks)
    while pending:
        ready = [t for t in pending if all(u in done for u in t.upstream)]
        check(bool(ready), f"dependency cycle among {[t.task_id for t in pending]}")
        done.append(ready[0])
        pending.remove(ready[0])
    return done


def check_graph(dag: StandInDag, expected_steps: list[str], output: str, config: str):
    check(dag.dag_id == "sparkquant_nightly", f"dag id {dag.dag_id}")
    check(dag.kwargs.get("schedule") == "0 2 * * *", f"nightly schedule, got {dag.kwargs.get('schedule')}")
    check(dag.kwargs.get("catchup") is False, "catchup must be off")
    check(dag.kwargs.get("start_date") is not None, "start_date")
    check(dag.default_args.get("retries", 0) >= 1 and "retry_delay" in dag.default_args, "retries by default")
    order = topological(dag)
    check([t.task_id for t in order] == expected_steps,
          f"tasks {[t.task_id for t in order]}, expected one per pipeline step {expected_steps}")
    for i, t in enumerate(order):
        expected_upstream = [] if i == 0 else [order[i - 1]]
        check(t.upstream == expected_upstream, f"{t.task_id} depends on {[u.task_id for u in t.upstream]}")
        check("deploy/submit.sh" in t.bash_command, f"{t.task_id} goes through deploy/submit.sh: {t.bash_command}")
        check(f"--config {config}" in t.bash_command, f"{t.task_id} names the config: {t.bash_command}")
        check(f"--root {output}/{{{{ ds }}}}" in t.bash_command, f"{t.task_id}: a dated root: {t.bash_command}")
        check(t.bash_command.endswith(f"--step {t.task_id}"), f"{t.task_id}: runs its step: {t.bash_command}")
        check(t.retries == (0 if t.task_id == "gate" else 2), f"{t.task_id} retries {t.retries}")
    check(order[-1].task_id == "gate", "the gate is the last task")


def render(command: str) -> str:
    """The only template the DAG uses is {{ ds }}; anything else is an error here, as it would be a surprise."""
    rendered = command.replace("{{ ds }}", LOGICAL_DATE)
    check("{{" not in rendered and "{%" not in rendered, f"unrendered template in {rendered}")
    return rendered


def execute(dag: StandInDag, log_dir: Path) -> dict[str, tuple[int, str]]:
    """Runs every task's command in order, as BashOperator does; stops at the first failure, like a DAG run."""
    results = {}
    for t in topological(dag):
        command = render(t.bash_command)
        started = time.time()
        p = subprocess.run(["bash", "-c", command], env=t.env, capture_output=True, text=True)
        (log_dir / f"{t.task_id}.log").write_text(f"$ {command}\n{p.stdout}\n--- stderr\n{p.stderr}")
        print(f"  task {t.task_id}: exit {p.returncode} in {time.time() - started:.0f} s", flush=True)
        results[t.task_id] = (p.returncode, p.stdout + p.stderr)
        if p.returncode != 0:
            break
    return results


def write_config(path: Path, config: dict) -> str:
    path.write_text(json.dumps(config, indent=2))
    return str(path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idx", required=True, help="directory of the Fashion-MNIST IDX files")
    parser.add_argument("--work", required=True, help="scratch directory (configs, outputs, task logs)")
    args = parser.parse_args()
    work = Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    home = str(Path(__file__).resolve().parents[2])
    small = {"calibrate": {"method": "minmax", "rows": 200}, "quantize": {"modes": ["int8"]},
             "evaluate": {"rows": 200}, "gate": {"models": ["int8"], "minAccuracy": 0.3}}

    good_output = str(work / "good")
    good_config = write_config(work / "good.json", {
        "root": "unused-the-dag-gives-the-root", "data": {"idx": args.idx, "partitions": 2},
        "train": {"preset": "cnn", "epochs": 1, "rows": 300, "partitions": 2}, **small})
    variables = {"sparkquant_home": home, "sparkquant_config": good_config, "sparkquant_output": good_output,
                 "sparkquant_master": "local[2]"}
    dag = import_dag(variables)
    check_graph(dag, ["convert", "train", "calibrate", "quantize", "evaluate", "report", "gate"], good_output,
                good_config)
    print("graph: ok", flush=True)
    (work / "logs-good").mkdir(exist_ok=True)
    results = execute(dag, work / "logs-good")
    failed = {k: v[0] for k, v in results.items() if v[0] != 0}
    check(not failed and len(results) == len(dag.tasks), f"good model: failed tasks {failed}; logs in {work}")
    check("Gate passed" in results["gate"][1], "the gate task says it passed")
    summary = json.loads((Path(good_output) / LOGICAL_DATE / "report/summary.json").read_text())
    check(summary["gate"]["passed"], f"summary: {summary['gate']}")
    print(f"good model: every task succeeded, int8 accuracy {summary['models'][1]['accuracy']:.4f}", flush=True)

    # The same data, a model trained at a learning rate that wrecks it: the steps run, the gate refuses it.
    bad_output = str(work / "bad")
    converted = Path(good_output) / LOGICAL_DATE / "data"
    bad_config = write_config(work / "bad.json", {
        "root": "unused", "data": {"train": str(converted / "train"), "test": str(converted / "test")},
        "train": {"preset": "cnn", "epochs": 1, "rows": 300, "partitions": 2, "learningRate": 0.9}, **small})
    dag = import_dag({**variables, "sparkquant_config": bad_config, "sparkquant_output": bad_output})
    check_graph(dag, ["train", "calibrate", "quantize", "evaluate", "report", "gate"], bad_output, bad_config)
    (work / "logs-bad").mkdir(exist_ok=True)
    results = execute(dag, work / "logs-bad")
    check(list(results) == [t.task_id for t in dag.tasks], f"bad model: a task before the gate failed: "
          f"{ {k: v[0] for k, v in results.items()} }; logs in {work}")
    code, output = results["gate"]
    check(code == GATE_FAILED_EXIT_CODE, f"gate exit code {code}, expected {GATE_FAILED_EXIT_CODE}: {output}")
    check(re.search(r"Gate failed: int8 accuracy 0\.\d{4} < minAccuracy 0\.3000", output) is not None,
          f"the gate names the condition and the figures: {output}")
    print("bad model: the gate task failed with exit code 4: "
          + re.search(r"Gate failed: .*", output).group(0), flush=True)
    print("OK")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except AssertionError as e:
        print(f"FAILED: {e}", file=sys.stderr)
        sys.exit(1)
