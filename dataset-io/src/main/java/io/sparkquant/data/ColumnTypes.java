package io.sparkquant.data;

import static org.apache.spark.sql.functions.col;

import java.util.Arrays;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/** Which column types the format accepts, and how they are normalized to the canonical types. */
public final class ColumnTypes {

  public static final String FEATURES_ACCEPTED = "array<float>, array<double> or Spark ML Vector";
  static final String LABEL_ACCEPTED = "int (or byte, short, long)";
  public static final String ID_ACCEPTED = "long (or byte, short, int)";

  private ColumnTypes() {}

  /** Checks that {@code schema} has acceptable features, label and (optional) id columns. */
  static void check(StructType schema, String source) {
    check(schema, source, true);
  }

  /** As {@link #check(StructType, String)}, with the label column optional unless {@code labelRequired}. */
  static void check(StructType schema, String source, boolean labelRequired) {
    DataType features = typeOf(schema, TensorDatasets.FEATURES, FEATURES_ACCEPTED, source);
    if (!isFeatureType(features)) {
      throw wrongType(source, TensorDatasets.FEATURES, features, FEATURES_ACCEPTED);
    }
    if (labelRequired || Arrays.asList(schema.fieldNames()).contains(TensorDatasets.LABEL)) {
      DataType label = typeOf(schema, TensorDatasets.LABEL, LABEL_ACCEPTED, source);
      if (!isIntegral(label)) {
        throw wrongType(source, TensorDatasets.LABEL, label, LABEL_ACCEPTED);
      }
    }
    if (hasId(schema)) {
      DataType id = schema.apply(TensorDatasets.ID).dataType();
      if (!isIntegral(id)) {
        throw wrongType(source, TensorDatasets.ID, id, ID_ACCEPTED);
      }
    }
  }

  /** Checks the columns {@code columns} names: features of an accepted type, label and id (when named) integral. */
  static void check(StructType schema, String source, TensorDatasets.Columns columns) {
    DataType features = typeOf(schema, columns.features(), FEATURES_ACCEPTED, source);
    if (!isFeatureType(features)) {
      throw wrongType(source, columns.features(), features, FEATURES_ACCEPTED);
    }
    for (String[] named : new String[][] {{columns.label(), LABEL_ACCEPTED}, {columns.id(), ID_ACCEPTED}}) {
      if (named[0] != null) {
        DataType t = typeOf(schema, named[0], named[1], source);
        if (!isIntegral(t)) {
          throw wrongType(source, named[0], t, named[1]);
        }
      }
    }
  }

  static boolean hasId(StructType schema) {
    return Arrays.asList(schema.fieldNames()).contains(TensorDatasets.ID);
  }

  /**
   * A features column as array&lt;float&gt; (elements nullable); its type must pass {@link #isFeatureType}.
   *
   * @param column the column's name
   * @param type the column's type
   */
  public static Column featuresAsFloatArray(String column, DataType type) {
    if (type instanceof VectorUDT) {
      return org.apache.spark.ml.functions.vector_to_array(col(column), "float32");
    }
    return col(column).cast(DataTypes.createArrayType(DataTypes.FloatType, true));
  }

  public static boolean isFeatureType(DataType t) {
    if (t instanceof VectorUDT) {
      return true;
    }
    return t instanceof ArrayType a
        && (a.elementType().equals(DataTypes.FloatType) || a.elementType().equals(DataTypes.DoubleType));
  }

  public static boolean isIntegral(DataType t) {
    return t.equals(DataTypes.IntegerType) || t.equals(DataTypes.LongType)
        || t.equals(DataTypes.ShortType) || t.equals(DataTypes.ByteType);
  }

  private static DataType typeOf(StructType schema, String column, String accepted, String source) {
    if (!Arrays.asList(schema.fieldNames()).contains(column)) {
      throw new InvalidDatasetException(source, column, "Missing column '" + column + "' in " + source
          + ": expected a column of type " + accepted + "; found columns " + Arrays.toString(schema.fieldNames()));
    }
    return schema.apply(column).dataType();
  }

  private static InvalidDatasetException wrongType(String source, String column, DataType found, String accepted) {
    return new InvalidDatasetException(source, column, "Column '" + column + "' in " + source + " has type "
        + found.simpleString() + "; accepted types: " + accepted);
  }
}
