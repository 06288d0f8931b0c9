package io.sparkquant.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;

class SparkSessionsTest {

  @Test
  void parquetIsReadInSmallBatchesUnlessTheUserSetTheBatchSize() {
    SparkConf conf = SparkSessions.conf("test", "local[1]", Map.of());
    assertEquals(Integer.toString(SparkSessions.PARQUET_BATCH_ROWS_DEFAULT),
        conf.get(SparkSessions.PARQUET_BATCH_ROWS));

    SparkConf chosen = SparkSessions.conf("test", "local[1]", Map.of(SparkSessions.PARQUET_BATCH_ROWS, "4096"));
    assertEquals("4096", chosen.get(SparkSessions.PARQUET_BATCH_ROWS));
  }

  @Test
  void aMasterFromTheCommandLineWinsAndALocalDriverBindsToLoopback() {
    SparkConf conf = SparkSessions.conf("test", "local[3]", Map.of("spark.master", "local[1]"));
    assertEquals("local[3]", conf.get("spark.master"));
    assertEquals("test", conf.get("spark.app.name"));
    String ip = System.getenv("SPARK_LOCAL_IP");
    assertEquals(ip == null || ip.isBlank() ? "127.0.0.1" : ip, conf.get("spark.driver.host"));
  }
}
