package io.sparkquant.data;

import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.hadoop.api.WriteSupport;
import org.apache.parquet.io.api.RecordConsumer;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Types;

/**
 * Writes rows of the tensor format with parquet-hadoop directly, because Spark's writer has no hook for
 * extra footer keys. The features column uses the standard 3-level LIST layout, which Spark reads as
 * array&lt;float&gt;.
 */
final class TensorWriteSupport extends WriteSupport<TensorWriteSupport.TensorRow> {

  /** One validated row. */
  record TensorRow(float[] features, int label, long id) {}

  private final boolean withLabel;
  private final boolean withId;
  private final Map<String, String> extraMetaData;
  private RecordConsumer consumer;

  TensorWriteSupport(boolean withLabel, boolean withId, Map<String, String> extraMetaData) {
    this.withLabel = withLabel;
    this.withId = withId;
    this.extraMetaData = extraMetaData;
  }

  static MessageType schema(boolean withLabel, boolean withId) {
    Types.MessageTypeBuilder b = Types.buildMessage();
    b.requiredGroup().as(LogicalTypeAnnotation.listType())
        .repeatedGroup().required(PrimitiveTypeName.FLOAT).named("element").named("list")
        .named(TensorDatasets.FEATURES);
    if (withLabel) {
      b.required(PrimitiveTypeName.INT32).named(TensorDatasets.LABEL);
    }
    if (withId) {
      b.required(PrimitiveTypeName.INT64).named(TensorDatasets.ID);
    }
    return b.named("spark_schema");
  }

  @Override
  public WriteContext init(Configuration configuration) {
    return new WriteContext(schema(withLabel, withId), extraMetaData);
  }

  @Override
  public void prepareForWrite(RecordConsumer recordConsumer) {
    this.consumer = recordConsumer;
  }

  @Override
  public void write(TensorRow row) {
    RecordConsumer c = consumer;
    c.startMessage();
    c.startField(TensorDatasets.FEATURES, 0);
    c.startGroup();
    float[] f = row.features();
    if (f.length > 0) {
      c.startField("list", 0);
      for (float v : f) {
        c.startGroup();
        c.startField("element", 0);
        c.addFloat(v);
        c.endField("element", 0);
        c.endGroup();
      }
      c.endField("list", 0);
    }
    c.endGroup();
    c.endField(TensorDatasets.FEATURES, 0);
    if (withLabel) {
      c.startField(TensorDatasets.LABEL, 1);
      c.addInteger(row.label());
      c.endField(TensorDatasets.LABEL, 1);
    }
    if (withId) {
      int index = withLabel ? 2 : 1;
      c.startField(TensorDatasets.ID, index);
      c.addLong(row.id());
      c.endField(TensorDatasets.ID, index);
    }
    c.endMessage();
  }
}
