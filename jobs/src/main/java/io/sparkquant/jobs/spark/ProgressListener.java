package io.sparkquant.jobs.spark;

import java.io.PrintWriter;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.LongSupplier;
import org.apache.spark.executor.TaskMetrics;
import org.apache.spark.scheduler.JobSucceeded$;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobEnd;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.StageInfo;
import scala.collection.JavaConverters;

/**
 * Prints progress lines of the running Spark job, at most one every {@code intervalMillis}, plus a closing line
 * for a job that was shown: {@code progress: <job> <done>/<total> rows (<pct>%), <rate> rows/s, <eta> left}.
 *
 * <p>Rows done are the records tasks read from the job's sources (not shuffle reads, which would count them
 * twice). Spark does not know a job's row count before it runs, so the total is extrapolated from the finished
 * tasks of each stage that reads a source, and is exact on the last line; percent and time left are by tasks of
 * all the job's stages. A job whose tasks read no records shows tasks instead of rows. Lines are printed from
 * Spark's listener thread on task ends, so a job with one long task shows only its last line.
 */
public final class ProgressListener extends SparkListener {

  private final PrintWriter out;
  private final long intervalMillis;
  private final LongSupplier clockMillis;
  private final Map<Integer, Job> jobs = new HashMap<>();
  private final Map<Integer, Integer> jobOfStage = new HashMap<>();
  private long lastLineMillis = Long.MIN_VALUE;

  private static final class Job {
    String description;
    long startMillis;
    int totalTasks;
    int doneTasks;
    long rows;
    boolean printed;
    boolean printedComplete;
    /** Per stage that read input records: {tasks, tasks done, records read}, to extrapolate the row total. */
    final Map<Integer, long[]> inputStages = new HashMap<>();
    final Map<Integer, Integer> stageTasks = new HashMap<>();
  }

  /**
   * @param out where the lines go (the command's stdout)
   * @param intervalMillis minimum time between two lines while jobs run (job-end lines are always printed)
   * @param clockMillis the clock, in milliseconds (tests pass a fake one)
   */
  public ProgressListener(PrintWriter out, long intervalMillis, LongSupplier clockMillis) {
    this.out = out;
    this.intervalMillis = intervalMillis;
    this.clockMillis = clockMillis;
  }

  @Override
  public synchronized void onJobStart(SparkListenerJobStart start) {
    Job job = new Job();
    job.startMillis = clockMillis.getAsLong();
    StageInfo last = null;
    for (StageInfo stage : JavaConverters.seqAsJavaList(start.stageInfos())) {
      job.totalTasks += stage.numTasks();
      job.stageTasks.put(stage.stageId(), stage.numTasks());
      jobOfStage.put(stage.stageId(), start.jobId());
      if (last == null || stage.stageId() > last.stageId()) {
        last = stage;
      }
    }
    String description = start.properties() == null ? null : start.properties().getProperty("spark.job.description");
    // Without a description set by the job, the final stage's call site ("collect at CalibrateJob.java:97").
    job.description = description != null ? description : last != null ? last.name() : "job " + start.jobId();
    jobs.put(start.jobId(), job);
  }

  @Override
  public synchronized void onTaskEnd(SparkListenerTaskEnd end) {
    Integer jobId = jobOfStage.get(end.stageId());
    Job job = jobId == null ? null : jobs.get(jobId);
    if (job == null || !end.taskInfo().successful()) {
      return; // a failed attempt is retried: only successful tasks are progress
    }
    job.doneTasks = Math.min(job.totalTasks, job.doneTasks + 1);
    TaskMetrics metrics = end.taskMetrics();
    long records = metrics == null ? 0 : metrics.inputMetrics().recordsRead();
    if (records > 0) {
      // Only records read from the source count: shuffle reads would count the same rows again.
      job.rows += records;
      long[] stage = job.inputStages.computeIfAbsent(end.stageId(),
          id -> new long[] {job.stageTasks.getOrDefault(id, 1), 0, 0});
      stage[1]++;
      stage[2] += records;
    }
    long now = clockMillis.getAsLong();
    if (due(now)) {
      print(job, now, false);
    }
  }

  @Override
  public synchronized void onJobEnd(SparkListenerJobEnd end) {
    Job job = jobs.remove(end.jobId());
    jobOfStage.values().removeIf(id -> id == end.jobId());
    long now = clockMillis.getAsLong();
    // A job already shown gets its closing line; a short job that finished between two lines stays silent, and
    // a failed one too (the command reports the error).
    boolean succeeded = JobSucceeded$.MODULE$.equals(end.jobResult());
    if (job != null && succeeded && job.doneTasks > 0 && !job.printedComplete && (job.printed || due(now))) {
      print(job, now, true);
    }
  }

  private boolean due(long now) {
    return lastLineMillis == Long.MIN_VALUE || now - lastLineMillis >= intervalMillis;
  }

  private void print(Job job, long now, boolean finished) {
    lastLineMillis = now;
    job.printed = true;
    // Skipped stages (their shuffle output is reused) never run tasks, so a finished job counts as complete.
    double fraction = finished || job.totalTasks == 0 ? 1.0 : (double) job.doneTasks / job.totalTasks;
    boolean rows = job.rows > 0;
    long done = rows ? job.rows : job.doneTasks;
    long total = finished ? done : rows ? rowTotal(job) : job.totalTasks;
    double seconds = Math.max(1, now - job.startMillis) / 1000.0;
    double eta = seconds * (1 - fraction) / fraction;
    String unit = rows ? "rows" : "tasks";
    job.printedComplete = fraction == 1.0;
    out.printf(Locale.ROOT, "progress: %s %d/%d %s (%.0f%%), %.0f %s/s, %s left%n", job.description, done,
        Math.max(done, total), unit, fraction * 100, done / seconds, unit, duration(eta));
    out.flush();
  }

  /** Each input stage's records scaled by its unfinished tasks (tasks of one stage read similar splits). */
  private static long rowTotal(Job job) {
    double total = 0;
    for (long[] stage : job.inputStages.values()) {
      total += (double) stage[2] * Math.max(stage[0], stage[1]) / stage[1];
    }
    return Math.round(total);
  }

  static String duration(double seconds) {
    long s = Math.round(seconds);
    return s >= 3600 ? String.format(Locale.ROOT, "%dh%02dm", s / 3600, s % 3600 / 60)
        : s >= 60 ? String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60) : s + "s";
  }
}
