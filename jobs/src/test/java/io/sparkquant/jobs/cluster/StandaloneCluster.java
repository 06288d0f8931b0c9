package io.sparkquant.jobs.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real standalone Spark cluster for integration tests: one master and N workers as separate JVMs on
 * 127.0.0.1, started by {@code deploy/local-cluster.sh} from the Maven-built Spark class path, and
 * jobs submitted by {@code deploy/submit.sh} with the shaded app jar, so the tests exercise exactly
 * what users run.
 *
 * <p>Every process lives under a fresh state directory whose path is on its command line; {@link
 * #close()} stops the cluster and then kills any java process still naming that directory (master,
 * workers, executors, drivers). A JVM shutdown hook does the same if a test never reaches close, and a
 * watchdog started with the cluster stops it if this JVM is killed outright.
 *
 * <pre>{@code
 * try (StandaloneCluster cluster = StandaloneCluster.builder().workers(2).start()) {
 *   SubmitResult r = cluster.submit("evaluate", "--model", m.toString(), ...);
 *   SubmitResult local = cluster.submitWithMaster("local[2]", "evaluate", ...);
 * }
 * }</pre>
 */
public final class StandaloneCluster implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(StandaloneCluster.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int LOG_TAIL_LINES = 30;

  private final Builder config;
  private final Path rootDir;
  private final Path stateDir;
  private final String masterUrl;
  private final String webUiUrl;
  private final long masterStartupMillis;
  private final long workersStartupMillis;
  private final Thread shutdownHook;
  private final AtomicInteger submitCount = new AtomicInteger();
  private final List<Process> submits = new ArrayList<>();
  private boolean closed;

  /** Outcome of one spark-submit run: exit code, combined stdout and stderr, and the new app ids. */
  public record SubmitResult(int exitCode, String output, long durationMillis, List<String> appIds) {
    /** The output's last lines, for assertion messages. */
    public String tail() {
      return StandaloneCluster.tail(output, LOG_TAIL_LINES);
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Options of the cluster and of the jobs submitted to it; defaults fit a 2-core test machine. */
  public static final class Builder {
    private int workers = 2;
    private int coresPerWorker = 1;
    private String workerMemory = "3g";
    private String executorMemory = "1g";
    private String executorOverhead = "1g";
    private String driverMemory = "2g";
    private Duration startTimeout = Duration.ofSeconds(180);
    private Duration submitTimeout = Duration.ofMinutes(5);
    private Path stateDir;

    private Builder() {}

    /** Keep state (pids, logs, work dirs) in this new or empty directory instead of a fresh temporary one. */
    public Builder stateDir(Path dir) {
      this.stateDir = dir;
      return this;
    }

    public Builder workers(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("workers must be >= 1, got " + n);
      }
      this.workers = n;
      return this;
    }

    public Builder coresPerWorker(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("coresPerWorker must be >= 1, got " + n);
      }
      this.coresPerWorker = n;
      return this;
    }

    /** Memory each worker offers to executor heaps, e.g. {@code 3g}. */
    public Builder workerMemory(String m) {
      this.workerMemory = requireMemory("workerMemory", m);
      return this;
    }

    /** spark.executor.memory of submitted jobs; must fit in the worker memory. */
    public Builder executorMemory(String m) {
      this.executorMemory = requireMemory("executorMemory", m);
      return this;
    }

    /** spark.executor.memoryOverhead (ND4J off-heap) of submitted jobs. */
    public Builder executorOverhead(String m) {
      this.executorOverhead = requireMemory("executorOverhead", m);
      return this;
    }

    public Builder driverMemory(String m) {
      this.driverMemory = requireMemory("driverMemory", m);
      return this;
    }

    /** How long to wait for the master, and then again for every worker to register. */
    public Builder startTimeout(Duration d) {
      this.startTimeout = d;
      return this;
    }

    /** How long one spark-submit may run before it is killed and reported as a failure. */
    public Builder submitTimeout(Duration d) {
      this.submitTimeout = d;
      return this;
    }

    public StandaloneCluster start() {
      return new StandaloneCluster(this);
    }

    private static String requireMemory(String name, String m) {
      if (m == null || !m.matches("[1-9][0-9]*[mMgG]")) {
        throw new IllegalArgumentException(name + " must look like 512m or 3g, got '" + m + "'");
      }
      return m;
    }
  }

  private StandaloneCluster(Builder config) {
    this.config = config;
    this.rootDir = findRootDir();
    try {
      if (config.stateDir == null) {
        this.stateDir = Files.createTempDirectory("sparkquant-cluster-");
      } else {
        this.stateDir = Files.createDirectories(config.stateDir).toAbsolutePath();
        try (Stream<Path> entries = Files.list(stateDir)) {
          if (entries.findAny().isPresent()) {
            throw new IllegalArgumentException("cluster state directory " + stateDir + " is not empty");
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the cluster state directory", e);
    }
    this.shutdownHook = new Thread(this::closeQuietly, "standalone-cluster-shutdown");
    Runtime.getRuntime().addShutdownHook(shutdownHook);
    long timeoutSeconds = config.startTimeout.toSeconds();
    ProcessOutput start =
        runScript(
            Duration.ofSeconds(2 * timeoutSeconds + 60), // the script waits up to timeout for each phase
            "local-cluster.sh",
            "start",
            "--workers",
            Integer.toString(config.workers),
            "--cores-per-worker",
            Integer.toString(config.coresPerWorker),
            "--memory",
            config.workerMemory,
            "--state-dir",
            stateDir.toString(),
            "--timeout",
            Long.toString(timeoutSeconds),
            "--watch-pid",
            Long.toString(ProcessHandle.current().pid()));
    if (start.exitCode != 0) {
      String message =
          "standalone cluster did not start (" + config.workers + " workers, state in " + stateDir
              + "): local-cluster.sh exited with " + start.exitCode + "\n" + start.output
              + logTails();
      closeQuietly();
      throw new IllegalStateException(message);
    }
    Properties env = new Properties();
    try (var reader = Files.newBufferedReader(stateDir.resolve("cluster.env"))) {
      env.load(reader);
    } catch (IOException e) {
      closeQuietly();
      throw new UncheckedIOException("cluster started but " + stateDir + "/cluster.env is unreadable", e);
    }
    this.masterUrl = env.getProperty("MASTER_URL");
    this.webUiUrl = env.getProperty("MASTER_WEBUI_URL");
    this.masterStartupMillis = Long.parseLong(env.getProperty("MASTER_STARTUP_MILLIS"));
    this.workersStartupMillis = Long.parseLong(env.getProperty("WORKERS_STARTUP_MILLIS"));
    LOG.info(
        "standalone cluster {} up: master in {} ms, {} workers registered in {} ms more",
        masterUrl, masterStartupMillis, config.workers, workersStartupMillis);
  }

  /** The master URL, e.g. {@code spark://127.0.0.1:34567}. */
  public String masterUrl() {
    return masterUrl;
  }

  /** The master's web UI, e.g. {@code http://127.0.0.1:45678}; its {@code /json/} describes the cluster. */
  public String webUiUrl() {
    return webUiUrl;
  }

  /** Pid files, logs ({@code logs/}), worker work dirs with executor logs ({@code work/worker-N/}). */
  public Path stateDir() {
    return stateDir;
  }

  public int workers() {
    return config.workers;
  }

  public long masterStartupMillis() {
    return masterStartupMillis;
  }

  public long workersStartupMillis() {
    return workersStartupMillis;
  }

  /** Runs {@code sparkquant args...} through spark-submit on this cluster; waits for it to end. */
  public SubmitResult submit(String... args) {
    return submitWithMaster(masterUrl, args);
  }

  /**
   * Runs {@code sparkquant args...} through the same spark-submit wrapper with another master, e.g.
   * {@code local[2]} for a local-mode reference run. The driver JVM is tracked like the cluster's
   * processes, so close() ends it if it is still running.
   */
  public SubmitResult submitWithMaster(String master, String... args) {
    return submit(master, Map.of(), args);
  }

  /** As {@link #submit(String...)}, with extra Spark settings ({@code --conf K=V}) for this submit only. */
  public SubmitResult submitWithConf(Map<String, String> sparkConf, String... args) {
    return submit(masterUrl, sparkConf, args);
  }

  private SubmitResult submit(String master, Map<String, String> sparkConf, String... args) {
    ensureOpen();
    List<String> before = completedAppIds();
    List<String> command = new ArrayList<>();
    command.add(rootDir.resolve("deploy/submit.sh").toString());
    command.add("--master");
    command.add(master);
    command.add("--driver-memory");
    command.add(config.driverMemory);
    command.add("--conf");
    command.add("spark.executor.memory=" + config.executorMemory);
    command.add("--conf");
    command.add("spark.executor.memoryOverhead=" + config.executorOverhead);
    sparkConf.forEach((k, v) -> {
      command.add("--conf");
      command.add(k + "=" + v);
    });
    command.add("--");
    command.addAll(List.of(args));
    Path log = stateDir.resolve("logs/submit-" + submitCount.incrementAndGet() + ".log");
    long startNanos = System.nanoTime();
    ProcessOutput out = run(command, log, config.submitTimeout);
    long durationMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    List<String> appIds =
        master.equals(masterUrl)
            ? completedAppIds().stream().filter(id -> !before.contains(id)).toList()
            : List.of();
    LOG.info(
        "spark-submit --master {} {} exited with {} after {} ms (apps {})",
        master, String.join(" ", args), out.exitCode, durationMillis, appIds);
    return new SubmitResult(out.exitCode, out.output, durationMillis, appIds);
  }

  /** The master's {@code /json/} view: workers, active and completed applications. */
  public JsonNode masterState() {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(webUiUrl + "/json/")).timeout(Duration.ofSeconds(10)).build();
    try {
      HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 200) {
        throw new IllegalStateException(
            "master " + webUiUrl + "/json/ answered HTTP " + response.statusCode() + ": " + response.body());
      }
      return JSON.readTree(response.body());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + webUiUrl + "/json/", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while reading " + webUiUrl + "/json/", e);
    }
  }

  /** Ids of the applications the master lists as completed. */
  public List<String> completedAppIds() {
    List<String> ids = new ArrayList<>();
    masterState().path("completedapps").forEach(app -> ids.add(app.path("id").asText()));
    return ids;
  }

  /**
   * The stderr logs of the executors an application ran, by worker name ({@code worker-1}, ...):
   * {@code work/worker-N/<appId>/<executorId>/stderr}. A worker that ran no executor of the app is absent.
   */
  public Map<String, List<Path>> executorLogs(String appId) {
    Map<String, List<Path>> byWorker = new LinkedHashMap<>();
    for (int i = 1; i <= config.workers; i++) {
      Path appDir = stateDir.resolve("work/worker-" + i).resolve(appId);
      if (!Files.isDirectory(appDir)) {
        continue;
      }
      try (Stream<Path> executors = Files.list(appDir)) {
        List<Path> logs =
            executors.map(d -> d.resolve("stderr")).filter(Files::isRegularFile).sorted().toList();
        if (!logs.isEmpty()) {
          byWorker.put("worker-" + i, logs);
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot list " + appDir, e);
      }
    }
    return byWorker;
  }

  /** The last lines of the master, worker and executor logs, for failure messages. */
  public String logTails() {
    List<Path> logs = new ArrayList<>();
    for (String dir : List.of("logs", "work")) {
      Path d = stateDir.resolve(dir);
      if (!Files.isDirectory(d)) {
        continue;
      }
      try (Stream<Path> files = Files.walk(d)) {
        files
            .filter(Files::isRegularFile)
            .filter(p -> p.toString().endsWith(".log") || p.getFileName().toString().equals("stderr"))
            .sorted()
            .forEach(logs::add);
      } catch (IOException e) {
        return "\n(cannot list logs in " + d + ": " + e + ")";
      }
    }
    StringBuilder sb = new StringBuilder();
    for (Path log : logs) {
      sb.append("\n----- last lines of ").append(log).append(" -----\n");
      try {
        sb.append(tail(Files.readString(log, StandardCharsets.UTF_8), LOG_TAIL_LINES));
      } catch (IOException e) {
        sb.append("(unreadable: ").append(e).append(')');
      }
    }
    return sb.toString();
  }

  /**
   * Stops the cluster and waits until every process it started has exited: master, workers, their
   * executors, and drivers of submits still running. Deletes the state directory unless the system
   * property {@code sparkquant.cluster.keep} is true.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException e) {
      // Already shutting down: this call comes from the hook itself.
    }
    synchronized (submits) {
      submits.forEach(StandaloneCluster::destroyTree);
    }
    ProcessOutput stop = runScript(Duration.ofSeconds(90), "local-cluster.sh", "stop", "--state-dir", stateDir.toString());
    if (stop.exitCode != 0) {
      LOG.warn("local-cluster.sh stop exited with {}:\n{}", stop.exitCode, stop.output);
    }
    // Safety net: nothing that names the state dir may survive (e.g. an executor of a lost worker).
    List<ProcessHandle> left = processesOfThisCluster();
    if (!left.isEmpty()) {
      LOG.warn("killing {} processes left after stop: {}", left.size(), left.stream().map(ProcessHandle::pid).toList());
      left.forEach(ProcessHandle::destroyForcibly);
      left.forEach(p -> p.onExit().join());
    }
    if (!Boolean.getBoolean("sparkquant.cluster.keep")) {
      deleteRecursively(stateDir);
    } else {
      LOG.info("keeping cluster state in {}", stateDir);
    }
  }

  private void closeQuietly() {
    try {
      close();
    } catch (RuntimeException e) {
      LOG.error("stopping the standalone cluster in {} failed", stateDir, e);
    }
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("cluster " + masterUrl + " is closed");
    }
  }

  /** Live processes whose command line names this cluster's state directory, except this JVM. */
  List<ProcessHandle> processesOfThisCluster() {
    String dir = stateDir + "/"; // the slash: /tmp/c1 must not match /tmp/c10
    long self = ProcessHandle.current().pid();
    return ProcessHandle.allProcesses()
        .filter(p -> p.pid() != self)
        .filter(p -> p.info().commandLine().map(c -> c.contains(dir)).orElse(false))
        .collect(Collectors.toList());
  }

  private record ProcessOutput(int exitCode, String output) {}

  private ProcessOutput runScript(Duration timeout, String script, String... args) {
    List<String> command = new ArrayList<>();
    command.add(rootDir.resolve("deploy").resolve(script).toString());
    command.addAll(List.of(args));
    Path log = stateDir.resolve("script-" + script + "-" + args[0] + ".out");
    return run(command, log, timeout);
  }

  /** Runs a command with stdout and stderr into a file (no pipe to fill up), killing its tree on timeout. */
  private ProcessOutput run(List<String> command, Path log, Duration timeout) {
    try {
      Files.createDirectories(log.getParent());
      ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
      pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
      // The driver's ND4J threads as on the executors, so a local[N] run computes like the cluster does.
      pb.environment().put("OMP_NUM_THREADS", Integer.toString(config.coresPerWorker));
      // Puts the state dir on the driver's command line, so the safety net and the watchdog find it.
      pb.environment().put("SPARKQUANT_DRIVER_OPTS", "-Dsparkquant.cluster.dir=" + stateDir + "/");
      Process process = pb.start();
      synchronized (submits) {
        submits.add(process);
      }
      try {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
          destroyTree(process);
          String output = Files.readString(log, StandardCharsets.UTF_8);
          throw new IllegalStateException(
              "timed out after " + timeout.toSeconds() + " s: " + String.join(" ", command)
                  + "\n" + tail(output, LOG_TAIL_LINES) + logTails());
        }
      } finally {
        synchronized (submits) {
          submits.remove(process);
        }
      }
      return new ProcessOutput(process.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + String.join(" ", command), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running " + String.join(" ", command), e);
    }
  }

  private static void destroyTree(Process process) {
    List<ProcessHandle> tree = new ArrayList<>(process.descendants().toList());
    tree.add(process.toHandle());
    tree.forEach(ProcessHandle::destroy);
    for (ProcessHandle p : tree) {
      try {
        p.onExit().get(20, TimeUnit.SECONDS);
      } catch (Exception e) {
        p.destroyForcibly();
      }
    }
  }

  private static Path findRootDir() {
    String basedir = System.getProperty("basedir", System.getProperty("user.dir"));
    for (Path dir = Paths.get(basedir).toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.isRegularFile(dir.resolve("deploy/local-cluster.sh"))) {
        return dir;
      }
    }
    throw new IllegalStateException(
        "deploy/local-cluster.sh not found in " + basedir + " or any parent directory");
  }

  static String tail(String text, int lines) {
    String[] all = text.split("\n", -1);
    int from = Math.max(0, all.length - lines);
    return String.join("\n", List.of(all).subList(from, all.length));
  }

  private static void deleteRecursively(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      LOG.warn("cannot delete cluster state {}: {}", dir, e.toString());
    }
  }
}
