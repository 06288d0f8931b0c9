package io.sparkquant.jobs.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.jobs.TestDatasets;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs deploy/airflow/test_dag.py (after the app jar is packaged: every task goes through deploy/submit.sh): the DAG
 * imported with a stand-in for the airflow modules, its graph checked, every recorded command executed in order
 * against the real CLI on the bundled subset; the gate passes a good model and fails a bad one with exit code 4.
 * Skipped, with a message, only where python3 is missing.
 */
class AirflowDagIT {

  private static final Path REPO = Path.of(System.getProperty("basedir", System.getProperty("user.dir")))
      .getParent();

  @TempDir Path work;

  @Test
  void dagGraphAndEveryTaskCommandRunAgainstTheRealCli() throws Exception {
    Assumptions.assumeTrue(python3Available(), "python3 is not on the PATH: the Airflow DAG test cannot run");
    ProcessBuilder pb = new ProcessBuilder("python3", REPO.resolve("deploy/airflow/test_dag.py").toString(),
        "--idx", TestDatasets.idxDir(), "--work", work.toString())
        .directory(REPO.toFile()).redirectErrorStream(true);
    // The DAG's tasks take JAVA_HOME from the Airflow worker's environment: this JVM's Java 17.
    pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
    Process p = pb.start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(30, TimeUnit.MINUTES), output);
    assertEquals(0, p.exitValue(), output + "\n(task logs under " + work + ")");
    for (String line : List.of("graph: ok", "good model: every task succeeded",
        "bad model: the gate task failed with exit code 4: Gate failed: int8 accuracy", "OK")) {
      assertTrue(output.contains(line), "'" + line + "' missing:\n" + output);
    }
  }

  private static boolean python3Available() {
    try {
      Process p = new ProcessBuilder("python3", "--version").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (java.io.IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
