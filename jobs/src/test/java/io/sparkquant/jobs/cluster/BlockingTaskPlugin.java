package io.sparkquant.jobs.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import org.apache.spark.TaskContext;
import org.apache.spark.api.plugin.DriverPlugin;
import org.apache.spark.api.plugin.ExecutorPlugin;
import org.apache.spark.api.plugin.PluginContext;
import org.apache.spark.api.plugin.SparkPlugin;

/**
 * Test-only Spark plugin that holds one task at a known point, so a fault-injection test can kill the executor
 * running it (FaultInjectionClusterIT). Loaded only by the tests' spark-submits ({@code spark.plugins} and
 * {@code spark.jars} naming a jar that holds just this class): the product never sees it.
 *
 * <p>The first attempt of the first task that starts in a job whose description contains {@value #JOB} claims
 * {@code <dir>/claimed} (one task per application), writes its executor's process id to {@code <dir>/blocked} and
 * waits until {@code <dir>/release} appears or {@link #MAX_WAIT_MILLIS} pass; the test kills the executor meanwhile.
 * Retries ({@code attemptNumber > 0}) and every other task run untouched.
 */
public final class BlockingTaskPlugin implements SparkPlugin {

  /** Directory of the marker files. */
  public static final String DIR = "spark.sparkquant.test.blockDir";
  /** Substring of the job description ({@code SparkContext.setJobDescription}) whose task is held. */
  public static final String JOB = "spark.sparkquant.test.blockJob";
  static final String CLAIMED = "claimed";
  static final String BLOCKED = "blocked";
  static final String RELEASE = "release";
  /** A safety net: a test that never kills the executor lets the task go on after this. */
  static final long MAX_WAIT_MILLIS = 300_000;

  @Override
  public DriverPlugin driverPlugin() {
    return null;
  }

  @Override
  public ExecutorPlugin executorPlugin() {
    return new ExecutorPlugin() {
      private Path dir;
      private String job;

      @Override
      public void init(PluginContext ctx, Map<String, String> extraConf) {
        dir = Paths.get(ctx.conf().get(DIR));
        job = ctx.conf().get(JOB);
      }

      @Override
      public void onTaskStart() {
        TaskContext task = TaskContext.get();
        String description = task.getLocalProperty("spark.job.description");
        if (description == null || !description.contains(job) || task.attemptNumber() > 0
            || task.stageAttemptNumber() > 0) {
          return;
        }
        try {
          Files.createFile(dir.resolve(CLAIMED));
        } catch (FileAlreadyExistsException e) {
          return; // another task was held already
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
        try {
          Path tmp = dir.resolve(BLOCKED + ".tmp");
          Files.writeString(tmp, ProcessHandle.current().pid() + "\n" + description + "\nstage "
              + task.stageId() + " partition " + task.partitionId() + "\n");
          Files.move(tmp, dir.resolve(BLOCKED), StandardCopyOption.ATOMIC_MOVE);
          long deadline = System.currentTimeMillis() + MAX_WAIT_MILLIS;
          while (!Files.exists(dir.resolve(RELEASE)) && System.currentTimeMillis() < deadline) {
            Thread.sleep(100);
          }
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt(); // the task was killed: let it end
        }
      }
    };
  }
}
