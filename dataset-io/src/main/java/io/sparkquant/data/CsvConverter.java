package io.sparkquant.data;

import static org.apache.spark.sql.functions.col;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/** Converts a numeric CSV file (or directory of CSV files) into the tensor format. */
public final class CsvConverter {

  private static final Logger LOG = LoggerFactory.getLogger(CsvConverter.class);

  private CsvConverter() {}

  /**
   * Reads {@code csvPath} with Spark's CSV reader (all columns as text), parses every value, and writes with
   * {@link TensorDatasets#write}. Without class names in {@code opts}, the classes are "0".."max label" (one
   * extra pass over the label column).
   *
   * @return the number of rows written
   * @throws InvalidDatasetException for a missing label/id column, a feature count that contradicts the shape,
   *     or a value that is not a number (naming file, column and data row)
   */
  public static long convert(SparkSession spark, String csvPath, String outDir, CsvOptions opts) {
    return convert(spark, csvPath, outDir, opts, false);
  }

  /** As {@link #convert(SparkSession, String, String, CsvOptions)}; {@code overwrite} replaces outDir. */
  public static long convert(SparkSession spark, String csvPath, String outDir, CsvOptions opts,
      boolean overwrite) {
    long start = System.nanoTime();
    Dataset<Row> csv = spark.read()
        .option("header", opts.header())
        .option("sep", opts.delimiter())
        .option("inferSchema", false)
        .csv(csvPath);
    String[] columns = csv.columns();
    int labelIndex = opts.unlabelled() ? -1 : resolve(columns, opts.labelName(), opts.labelIndex(), "label", csvPath);
    int idIndex = opts.idName() == null ? -1 : resolve(columns, opts.idName(), null, "id", csvPath);
    int[] featureIndices = featureIndices(columns, opts, labelIndex, idIndex, csvPath);
    int[] shape = opts.shape() != null ? opts.shape() : new int[] {featureIndices.length};
    DatasetInfo shapeOnly = new DatasetInfo(shape, List.of("unknown"));
    if (shapeOnly.featureLength() != featureIndices.length) {
      throw new InvalidDatasetException(csvPath, TensorDatasets.FEATURES, "CSV " + csvPath + " has "
          + featureIndices.length + " feature columns but shape " + shapeOnly.shapeString() + " needs "
          + shapeOnly.featureLength());
    }
    String[] featureNames = Arrays.stream(featureIndices).mapToObj(i -> columns[i]).toArray(String[]::new);

    List<Column> selected = new ArrayList<>();
    selected.add(col("_metadata.file_path"));
    for (String c : columns) {
      selected.add(col("`" + c + "`"));
    }
    Dataset<Row> withFile = csv.select(selected.toArray(new Column[0]));
    List<String> classNames = opts.classNames() != null ? opts.classNames()
        : labelIndex < 0 ? DatasetInfo.UNKNOWN_CLASSES : inferClassNames(csv, columns[labelIndex], csvPath);
    DatasetInfo info = new DatasetInfo(shape, classNames);

    JavaRDD<Row> rows = withFile.toJavaRDD().zipWithIndex()
        .map(new RowParser(columns, labelIndex, idIndex, featureIndices, info));
    StructType schema = new StructType()
        .add(TensorDatasets.FEATURES, DataTypes.createArrayType(DataTypes.FloatType, false), false);
    if (labelIndex >= 0) {
      schema = schema.add(TensorDatasets.LABEL, DataTypes.IntegerType, false);
    }
    schema = schema.add(TensorDatasets.ID, DataTypes.LongType, false);
    Map<String, String> provenance = new TreeMap<>();
    provenance.put("converter", CsvConverter.class.getName());
    provenance.put("label", labelIndex >= 0 ? "column " + columns[labelIndex] : "none (unlabelled)");
    provenance.put("csv", csvPath);
    provenance.put("options", opts.toString());
    provenance.put("featureColumns", String.join(",", featureNames));
    provenance.put("id", idIndex >= 0 ? "column " + columns[idIndex] : "data row index in read order");
    long count = TensorDatasets.write(spark.createDataFrame(rows, schema), info, outDir, provenance, overwrite);
    LOG.info("Converted {} CSV rows from {} to {} ({} ms)", count, csvPath, outDir,
        (System.nanoTime() - start) / 1_000_000);
    return count;
  }

  /** The feature columns: named, by prefix, or every column but the label and id; in the order they are given. */
  private static int[] featureIndices(String[] columns, CsvOptions opts, int labelIndex, int idIndex,
      String csvPath) {
    List<String> all = Arrays.asList(columns);
    int[] indices;
    if (opts.featureColumns() != null) {
      indices = new int[opts.featureColumns().size()];
      for (int i = 0; i < indices.length; i++) {
        indices[i] = resolve(columns, opts.featureColumns().get(i), null, "feature", csvPath);
      }
    } else if (opts.featurePrefix() != null) {
      indices = java.util.stream.IntStream.range(0, columns.length)
          .filter(i -> columns[i].startsWith(opts.featurePrefix()) && i != labelIndex && i != idIndex).toArray();
      if (indices.length == 0) {
        throw new InvalidDatasetException(csvPath, null, "CSV " + csvPath + " has no column whose name starts with '"
            + opts.featurePrefix() + "'; found columns " + all);
      }
    } else {
      indices = java.util.stream.IntStream.range(0, columns.length)
          .filter(i -> i != labelIndex && i != idIndex).toArray();
    }
    if (indices.length == 0) {
      throw new InvalidDatasetException(csvPath, null, "CSV " + csvPath + " has no feature columns besides the "
          + "label" + (idIndex >= 0 ? " and id" : "") + "; found columns " + Arrays.toString(columns));
    }
    for (int i : indices) {
      if (i == labelIndex || i == idIndex) {
        throw new InvalidDatasetException(csvPath, columns[i], "CSV " + csvPath + ": column '" + columns[i]
            + "' cannot be both a feature and the " + (i == labelIndex ? "label" : "id"));
      }
    }
    return indices;
  }

  private static int resolve(String[] columns, String name, Integer index, String what, String csvPath) {
    if (name != null) {
      int i = Arrays.asList(columns).indexOf(name);
      if (i < 0) {
        throw new InvalidDatasetException(csvPath, name, "CSV " + csvPath + " has no " + what + " column '" + name
            + "'; found columns " + Arrays.toString(columns));
      }
      return i;
    }
    if (index >= columns.length) {
      throw new InvalidDatasetException(csvPath, null, "CSV " + csvPath + " has " + columns.length
          + " columns; the " + what + " column index " + index + " is out of range [0, " + columns.length + ")");
    }
    return index;
  }

  private static List<String> inferClassNames(Dataset<Row> csv, String labelColumn, String csvPath) {
    Row max = csv.agg(org.apache.spark.sql.functions.max(col("`" + labelColumn + "`").cast(DataTypes.IntegerType)))
        .first();
    if (max.isNullAt(0) || max.getInt(0) < 0) {
      throw new InvalidDatasetException(csvPath, labelColumn, "CSV " + csvPath + " has no non-negative integer "
          + "label in column '" + labelColumn + "'; labels must be class indices 0, 1, ...");
    }
    List<String> names = new ArrayList<>();
    for (int i = 0; i <= max.getInt(0); i++) {
      names.add(Integer.toString(i));
    }
    return names;
  }

  /** Parses one CSV row (file path first, then the CSV columns) and its global index into a tensor row. */
  private record RowParser(String[] columns, int labelIndex, int idIndex, int[] featureIndices, DatasetInfo info)
      implements Function<Tuple2<Row, Long>, Row> {

    @Override
    public Row call(Tuple2<Row, Long> indexed) {
      Row row = indexed._1();
      long index = indexed._2();
      String file = row.getString(0);
      String where = "data row " + index;
      float[] features = new float[featureIndices.length];
      for (int i = 0; i < features.length; i++) {
        int c = featureIndices[i];
        String text = row.getString(c + 1);
        try {
          features[i] = Float.parseFloat(text.trim());
        } catch (NumberFormatException | NullPointerException e) {
          throw InvalidDatasetException.atRow(file, columns[c], where, "a number",
              text == null ? "an empty value" : "'" + text + "'");
        }
        if (!Float.isFinite(features[i])) {
          throw InvalidDatasetException.atRow(file, columns[c], where, "a finite number", "'" + text + "'");
        }
      }
      long id = index;
      if (idIndex >= 0) {
        String idText = row.getString(idIndex + 1);
        try {
          id = Long.parseLong(idText.trim());
        } catch (NumberFormatException | NullPointerException e) {
          throw InvalidDatasetException.atRow(file, columns[idIndex], where, "an integer id",
              idText == null ? "an empty value" : "'" + idText + "'");
        }
      }
      if (labelIndex < 0) {
        return RowFactory.create(features, id);
      }
      String labelText = row.getString(labelIndex + 1);
      int label;
      try {
        label = Integer.parseInt(labelText.trim());
      } catch (NumberFormatException | NullPointerException e) {
        throw InvalidDatasetException.atRow(file, columns[labelIndex], where, RowChecks.labelRange(info),
            labelText == null ? "an empty value" : "'" + labelText + "'");
      }
      RowChecks.Problem p = RowChecks.labelProblem(label, info);
      if (p != null) {
        throw InvalidDatasetException.atRow(file, columns[labelIndex], where, p.expected(), p.actual());
      }
      return RowFactory.create(features, label, id);
    }
  }
}
