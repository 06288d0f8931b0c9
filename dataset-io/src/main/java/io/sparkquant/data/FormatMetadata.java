package io.sparkquant.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.MetadataBuilder;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/** Parquet footer key-value metadata of the tensor format, and the matching Spark field metadata. */
final class FormatMetadata {

  static final String KEY_FORMAT = "sparkquant.format";
  static final String KEY_SHAPE = "sparkquant.shape";
  static final String KEY_CLASSES = "sparkquant.classes";
  static final String KEY_PROVENANCE = "sparkquant.provenance";
  /** The Spark schema JSON Spark itself writes; Spark reads it back, field metadata included. */
  static final String KEY_SPARK_SCHEMA = "org.apache.spark.sql.parquet.row.metadata";
  static final String KEY_SPARK_VERSION = "org.apache.spark.version";

  /** Format version written by this code; readers accept this version only. */
  static final String FORMAT_VERSION = "1";

  private static final ObjectMapper JSON = new ObjectMapper();

  private FormatMetadata() {}

  /** Field metadata on {@code features}: shape as a long array, class names as a string array. */
  static Metadata featuresFieldMetadata(DatasetInfo info) {
    return new MetadataBuilder()
        .putLongArray(KEY_SHAPE, Arrays.stream(info.shape()).asLongStream().toArray())
        .putStringArray(KEY_CLASSES, info.classNames().toArray(new String[0]))
        .build();
  }

  static StructType sparkSchema(DatasetInfo info, boolean withLabel, boolean withId) {
    List<StructField> fields = new ArrayList<>();
    fields.add(new StructField(TensorDatasets.FEATURES, DataTypes.createArrayType(DataTypes.FloatType, false),
        false, featuresFieldMetadata(info)));
    if (withLabel) {
      fields.add(new StructField(TensorDatasets.LABEL, DataTypes.IntegerType, false, Metadata.empty()));
    }
    if (withId) {
      fields.add(new StructField(TensorDatasets.ID, DataTypes.LongType, false, Metadata.empty()));
    }
    return new StructType(fields.toArray(new StructField[0]));
  }

  static Map<String, String> footer(DatasetInfo info, Map<String, String> provenance, boolean withLabel,
      boolean withId, String sparkVersion) {
    Map<String, String> kv = new LinkedHashMap<>();
    kv.put(KEY_FORMAT, FORMAT_VERSION);
    kv.put(KEY_SHAPE, info.shapeString());
    kv.put(KEY_CLASSES, toJson(info.classNames()));
    kv.put(KEY_PROVENANCE, toJson(new TreeMap<>(provenance)));
    kv.put(KEY_SPARK_SCHEMA, sparkSchema(info, withLabel, withId).json());
    kv.put(KEY_SPARK_VERSION, sparkVersion);
    return kv;
  }

  /** The info in one file's footer, or null when the file carries none. */
  static DatasetInfo info(Map<String, String> kv, String file) {
    String version = kv.get(KEY_FORMAT);
    if (version != null && !version.equals(FORMAT_VERSION)) {
      throw new InvalidDatasetException(file, null, "File " + file + " has " + KEY_FORMAT + "=" + version
          + "; this reader supports version " + FORMAT_VERSION + " only");
    }
    String shape = kv.get(KEY_SHAPE);
    String classes = kv.get(KEY_CLASSES);
    if (shape != null && classes != null) {
      try {
        return new DatasetInfo(DatasetInfo.parseShape(shape),
            JSON.readValue(classes, new TypeReference<List<String>>() {}));
      } catch (JsonProcessingException | IllegalArgumentException e) {
        throw new InvalidDatasetException(file, null, "File " + file + " has malformed footer metadata "
            + KEY_SHAPE + "='" + shape + "', " + KEY_CLASSES + "='" + classes + "': " + e.getMessage(), e);
      }
    }
    String sparkSchema = kv.get(KEY_SPARK_SCHEMA);
    if (sparkSchema != null) {
      return infoFromSchema((StructType) DataType.fromJson(sparkSchema));
    }
    return null;
  }

  /** The info in the {@code features} field metadata of a Spark schema, or null. */
  static DatasetInfo infoFromSchema(StructType schema) {
    if (!Arrays.asList(schema.fieldNames()).contains(TensorDatasets.FEATURES)) {
      return null;
    }
    Metadata m = schema.apply(TensorDatasets.FEATURES).metadata();
    if (!m.contains(KEY_SHAPE) || !m.contains(KEY_CLASSES)) {
      return null;
    }
    int[] shape = Arrays.stream(m.getLongArray(KEY_SHAPE)).mapToInt(Math::toIntExact).toArray();
    return new DatasetInfo(shape, Arrays.asList(m.getStringArray(KEY_CLASSES)));
  }

  static Map<String, String> provenance(Map<String, String> kv) {
    String p = kv.get(KEY_PROVENANCE);
    if (p == null) {
      return Map.of();
    }
    try {
      return JSON.readValue(p, new TypeReference<TreeMap<String, String>>() {});
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("malformed " + KEY_PROVENANCE + " metadata: " + p, e);
    }
  }

  private static String toJson(Object value) {
    try {
      return JSON.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
