package io.sparkquant.jobs.calib;

import org.apache.spark.Partitioner;

/** Sends every row of a canonical batch to the same partition. */
final class BucketPartitioner extends Partitioner {

  private static final long serialVersionUID = 1L;
  private final int partitions;

  BucketPartitioner(int partitions) {
    this.partitions = partitions;
  }

  @Override
  public int numPartitions() {
    return partitions;
  }

  @Override
  public int getPartition(Object key) {
    return ((BatchKey) key).bucket() % partitions;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof BucketPartitioner p && p.partitions == partitions;
  }

  @Override
  public int hashCode() {
    return partitions;
  }
}
