package io.sparkquant.jobs.spark;

import java.util.Map;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the SparkSession for a job. The master is set only when nobody else set it (spark-submit sets
 * {@code spark.master}); a locally started driver binds to {@code SPARK_LOCAL_IP} (or 127.0.0.1), because
 * the host name of these machines may resolve to an address executors cannot reach. Parquet is read in batches
 * of {@value #PARQUET_BATCH_ROWS_DEFAULT} rows unless configured otherwise.
 */
public final class SparkSessions {

  private static final Logger LOG = LoggerFactory.getLogger(SparkSessions.class);

  /** Master used when neither spark-submit nor the caller chose one. */
  public static final String DEFAULT_MASTER = "local[*]";

  /** Spark's setting for the rows per batch of its vectorized Parquet reader (its default: 4096). */
  public static final String PARQUET_BATCH_ROWS = "spark.sql.parquet.columnarReaderBatchSize";
  /**
   * Rows per Parquet reader batch unless the user sets {@link #PARQUET_BATCH_ROWS}. A tensor row holds hundreds of
   * floats: at 4096 rows a task's reader kept arrays of 4096 x 784 floats and dictionary ids, grown to 25 MB
   * each, and the live heap of a local[2] calibration was 415 MB; at 1024 rows it was 172 MB. 256 rows gave 132-147
   * MB, but evaluation scaled worse from one core to two in every run with it (bench-calibrate, README).
   */
  static final int PARQUET_BATCH_ROWS_DEFAULT = 1024;

  private SparkSessions() {}

  /**
   * @param appName shown in the Spark UI and logs
   * @param master master URL from the command line, or null to keep {@code spark.master} if it is set
   *     and use {@link #DEFAULT_MASTER} otherwise
   */
  public static SparkSession create(String appName, String master) {
    return create(appName, master, Map.of());
  }

  /** As {@link #create(String, String)}, with extra Spark configuration on top of spark-submit's. */
  public static SparkSession create(String appName, String master, Map<String, String> extraConf) {
    SparkSession spark = SparkSession.builder().config(conf(appName, master, extraConf)).getOrCreate();
    LOG.info("Spark session {} on {} (default parallelism {})",
        spark.sparkContext().applicationId(), spark.sparkContext().master(),
        spark.sparkContext().defaultParallelism());
    return spark;
  }

  /** The configuration {@link #create(String, String, Map)} starts a session with. */
  static SparkConf conf(String appName, String master, Map<String, String> extraConf) {
    SparkConf conf = new SparkConf(); // loads spark.* system properties, as spark-submit passes them
    extraConf.forEach(conf::set);
    if (master != null) {
      conf.setMaster(master);
    } else if (!conf.contains("spark.master")) {
      conf.setMaster(DEFAULT_MASTER);
    }
    boolean local = conf.get("spark.master").startsWith("local");
    if (local && !conf.contains("spark.driver.host")) {
      String ip = System.getenv("SPARK_LOCAL_IP");
      conf.set("spark.driver.host", ip == null || ip.isBlank() ? "127.0.0.1" : ip);
    }
    if (!conf.contains(PARQUET_BATCH_ROWS)) {
      conf.set(PARQUET_BATCH_ROWS, Integer.toString(PARQUET_BATCH_ROWS_DEFAULT));
    }
    if (!conf.contains("spark.app.name")) {
      conf.setAppName(appName);
    }
    return conf;
  }
}
