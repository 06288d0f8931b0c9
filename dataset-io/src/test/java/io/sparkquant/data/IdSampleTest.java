package io.sparkquant.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.data.testing.SharedSpark;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

class IdSampleTest {

  private static Set<Long> ids(Dataset<Row> rows) {
    Set<Long> ids = new HashSet<>();
    for (Row r : rows.select("id").collectAsList()) {
      ids.add(r.getLong(0));
    }
    return ids;
  }

  /** Ids 0..1999 split into {@code partitions} partitions without a shuffle. */
  private static Dataset<Row> rows(int partitions) {
    return SharedSpark.get().range(0, 2000, 1, partitions).selectExpr("id", "CAST(id % 10 AS INT) AS label");
  }

  @Test
  void samplesDependOnIdsAndSeedOnlyNotOnPartitioning() {
    Set<Long> a = ids(IdSample.fraction(rows(1), 0.1, 7));
    assertEquals(a, ids(IdSample.fraction(rows(5), 0.1, 7)));
    assertTrue(a.size() > 140 && a.size() < 260, "about 10% of 2000: " + a.size());
    assertNotEquals(a, ids(IdSample.fraction(rows(1), 0.1, 8)), "the seed matters");

    Set<Long> first = ids(IdSample.first(rows(3), 100, 7));
    assertEquals(100, first.size());
    assertEquals(first, ids(IdSample.first(rows(1), 100, 7)));
    assertTrue(a.containsAll(first), "first(n) is inside a fraction holding at least n rows");
    assertEquals(List.of(), List.copyOf(ids(IdSample.first(rows(1).limit(0), 5, 7))));
  }
}
