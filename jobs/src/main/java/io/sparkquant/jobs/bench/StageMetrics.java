package io.sparkquant.jobs.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import org.apache.spark.SparkContext;
import org.apache.spark.executor.TaskMetrics;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerStageCompleted;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.StageInfo;

/**
 * Task metrics per completed stage (tasks, executor run and CPU time, the slowest task), for benchmarks on a shared
 * machine: wall clock says how long a run took, these say where its time went and whether every core had work.
 */
final class StageMetrics extends SparkListener {

  /**
   * @param job the job description the stage ran under (Spark's {@code spark.job.description}), or its name
   * @param wallMillis submission to completion
   * @param runMillis executor run time summed over tasks
   * @param maxTaskMillis the slowest task's run time
   */
  record Stage(int id, String job, int tasks, long wallMillis, long runMillis, long cpuMillis, long maxTaskMillis) {

    String describe() {
      return String.format(Locale.ROOT, "%s: %d task%s, %d ms (run %d ms, cpu %d ms, slowest task %d ms)", job, tasks,
          tasks == 1 ? "" : "s", wallMillis, runMillis, cpuMillis, maxTaskMillis);
    }
  }

  private final SparkContext sc;
  private final List<Stage> completed = new ArrayList<>();
  private final Map<Integer, String> jobs = new ConcurrentHashMap<>();
  private final Map<Integer, Long> slowest = new ConcurrentHashMap<>();

  private StageMetrics(SparkContext sc) {
    this.sc = sc;
  }

  static StageMetrics attach(SparkContext sc) {
    StageMetrics m = new StageMetrics(sc);
    sc.addSparkListener(m);
    return m;
  }

  @Override
  public void onStageSubmitted(SparkListenerStageSubmitted e) {
    String description = e.properties() == null ? null : e.properties().getProperty("spark.job.description");
    jobs.put(e.stageInfo().stageId(), description != null ? description : e.stageInfo().name());
  }

  @Override
  public void onTaskEnd(SparkListenerTaskEnd e) {
    if (e.taskMetrics() != null) {
      slowest.merge(e.stageId(), e.taskMetrics().executorRunTime(), Math::max);
    }
  }

  @Override
  public void onStageCompleted(SparkListenerStageCompleted e) {
    StageInfo s = e.stageInfo();
    TaskMetrics m = s.taskMetrics();
    long wall = s.submissionTime().isDefined() && s.completionTime().isDefined()
        ? (Long) s.completionTime().get() - (Long) s.submissionTime().get() : -1;
    Stage stage = new Stage(s.stageId(), jobs.getOrDefault(s.stageId(), s.name()), s.numTasks(), wall,
        m == null ? 0 : m.executorRunTime(), m == null ? 0 : m.executorCpuTime() / 1_000_000,
        slowest.getOrDefault(s.stageId(), 0L));
    synchronized (completed) {
      completed.add(stage);
    }
  }

  /** Task CPU time summed over {@code stages}. */
  static long cpuMillis(List<Stage> stages) {
    return stages.stream().mapToLong(Stage::cpuMillis).sum();
  }

  /** Waits until the listener bus has delivered every event posted so far (stage ends arrive asynchronously). */
  private void drain() {
    try {
      sc.listenerBus().waitUntilEmpty(60_000);
    } catch (TimeoutException e) {
      throw new IllegalStateException("Spark's listener bus did not drain in 60 s", e);
    }
  }

  /** A mark to pass to {@link #since}. */
  int mark() {
    drain();
    synchronized (completed) {
      return completed.size();
    }
  }

  /** The stages completed after {@code mark}, once the listener bus has delivered every event so far. */
  List<Stage> since(int mark) {
    drain();
    synchronized (completed) {
      return List.copyOf(completed.subList(mark, completed.size()));
    }
  }
}
