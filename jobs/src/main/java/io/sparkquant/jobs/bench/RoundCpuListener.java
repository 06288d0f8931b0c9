package io.sparkquant.jobs.bench;

import java.util.HashSet;
import java.util.Properties;
import java.util.Set;
import org.apache.spark.executor.TaskMetrics;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.scheduler.SparkListenerTaskEnd;

/**
 * Sums the executor run time and CPU time of the training-round tasks that run while the driver thread has
 * {@link #TIMED} set (the trainer names its round jobs {@code "train: ..."}). Wall-clock speed-ups need an idle
 * machine; CPU time per trained sample does not: if it grows from local[1] to local[2], two concurrent tasks slow
 * each other (caches, memory bandwidth), which no change in the trainer removes. Read the sums after
 * {@code spark.stop()}, which delivers every pending event.
 */
final class RoundCpuListener extends SparkListener {

  /** Local property: set it to "true" on the driver thread around the runs to count. */
  static final String TIMED = "sparkquant.bench.timed";

  private final Set<Integer> countedStages = new HashSet<>();
  private long tasks;
  private long runMillis;
  private long cpuNanos;

  @Override
  public synchronized void onStageSubmitted(SparkListenerStageSubmitted event) {
    Properties p = event.properties();
    String description = p == null ? null : p.getProperty("spark.job.description");
    if (p != null && "true".equals(p.getProperty(TIMED)) && description != null
        && description.startsWith("train:")) {
      countedStages.add(event.stageInfo().stageId());
    }
  }

  @Override
  public synchronized void onTaskEnd(SparkListenerTaskEnd event) {
    TaskMetrics m = event.taskMetrics();
    if (m != null && countedStages.contains(event.stageId())) {
      tasks++;
      runMillis += m.executorRunTime();
      cpuNanos += m.executorCpuTime();
    }
  }

  synchronized long tasks() {
    return tasks;
  }

  synchronized long runMillis() {
    return runMillis;
  }

  synchronized long cpuMillis() {
    return cpuNanos / 1_000_000;
  }
}
