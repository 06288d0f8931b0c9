package io.sparkquant.data;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.element_at;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.map;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.when;

import io.sparkquant.data.DatasetFiles.FileFooter;
import io.sparkquant.data.PartitionWriter.WrittenFile;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkContext;
import org.apache.spark.SparkJobInfo;
import org.apache.spark.SparkStageInfo;
import org.apache.spark.SparkStatusTracker;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF4;
import org.apache.spark.sql.api.java.UDF5;
import org.apache.spark.sql.execution.datasources.parquet.ParquetToSparkSchemaConverter;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.internal.SQLConf;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Option;
import scala.collection.JavaConverters;
import scala.collection.Seq;

/**
 * Reads and writes the Parquet tensor format (DESIGN.md "Dataset format"): columns {@code features}
 * array&lt;float&gt; (row-major HWC), {@code label} int, optional {@code id} long; every file's footer carries the
 * shape, the class names and provenance. Files stay readable by plain {@code spark.read().parquet(dir)}.
 */
public final class TensorDatasets {

  // SparkContext's local property keys for job groups (SparkContext.SPARK_JOB_GROUP_ID etc. are private[spark])
  private static final String JOB_GROUP = "spark.jobGroup.id";
  private static final String JOB_DESCRIPTION = "spark.job.description";
  private static final String JOB_INTERRUPT_ON_CANCEL = "spark.job.interruptOnCancel";

  public static final String FEATURES = "features";
  public static final String LABEL = "label";
  public static final String ID = "id";

  private static final Logger LOG = LoggerFactory.getLogger(TensorDatasets.class);
  private static final String IN_MEMORY_SOURCE = "the input DataFrame";

  private TensorDatasets() {}

  /**
   * Writes {@code rows} to {@code outDir}, which must not exist, and returns the row count. See
   * {@link #write(Dataset, DatasetInfo, String, Map, boolean)}.
   */
  public static long write(Dataset<Row> rows, DatasetInfo info, String outDir, Map<String, String> provenance) {
    return write(rows, info, outDir, provenance, false);
  }

  /**
   * Writes {@code rows} (features as array&lt;float&gt;, array&lt;double&gt; or Vector; integral label, optional:
   * data to score needs none; optional integral id) as one Parquet file per non-empty partition, validating every row against {@code info}.
   * The files go to a hidden sibling of {@code outDir} that is renamed to {@code outDir} only after every
   * partition succeeded; on failure it is deleted and nothing appears at {@code outDir}.
   *
   * @param provenance recorded in every footer (may be null or empty)
   * @param overwrite replace an existing {@code outDir} (after the new data is complete); if false an
   *     existing {@code outDir} is an error
   * @return the number of rows written
   * @throws InvalidDatasetException on a bad column or row (named), or when {@code rows} is empty
   */
  public static long write(Dataset<Row> rows, DatasetInfo info, String outDir, Map<String, String> provenance,
      boolean overwrite) {
    Objects.requireNonNull(rows, "rows");
    Objects.requireNonNull(info, "info");
    Objects.requireNonNull(outDir, "outDir");
    long start = System.nanoTime();
    SparkSession spark = rows.sparkSession();
    ColumnTypes.check(rows.schema(), IN_MEMORY_SOURCE, false);
    boolean withId = ColumnTypes.hasId(rows.schema());
    boolean withLabel = List.of(rows.columns()).contains(LABEL);
    List<Column> cols = new ArrayList<>();
    cols.add(ColumnTypes.featuresAsFloatArray(FEATURES, rows.schema().apply(FEATURES).dataType()).as(FEATURES));
    if (withLabel) {
      cols.add(col(LABEL));
    }
    if (withId) {
      cols.add(col(ID).cast(DataTypes.LongType).as(ID));
    }
    Dataset<Row> normalized = rows.select(cols.toArray(new Column[0]));

    Configuration conf = spark.sparkContext().hadoopConfiguration();
    Path out;
    Path tmp;
    FileSystem fs;
    try {
      out = OutputCommit.qualified(new Path(outDir), conf);
      fs = OutputCommit.fileSystem(out, conf);
      tmp = OutputCommit.temporarySibling(out);
      if (fs.exists(out) && !overwrite) {
        throw new IllegalArgumentException("Output " + outDir + " already exists; choose a new path or overwrite");
      }
      if (!fs.mkdirs(tmp)) {
        throw new IOException("cannot create " + tmp);
      }
    } catch (IOException e) {
      throw new IllegalStateException("Cannot prepare output " + outDir + ": " + e.getMessage(), e);
    }
    Map<String, String> footer = FormatMetadata.footer(info, withDefaults(provenance), withLabel, withId,
        spark.version());
    // A job group whose tasks Spark interrupts when the job fails, so that the failure path can wait for them to
    // end before deleting the temporary output (a task still writing would otherwise leave it behind)
    SparkContext sc = spark.sparkContext();
    String group = "sparkquant-write-" + UUID.randomUUID();
    String callerGroup = sc.getLocalProperty(JOB_GROUP);
    String callerDescription = sc.getLocalProperty(JOB_DESCRIPTION);
    String callerInterrupt = sc.getLocalProperty(JOB_INTERRUPT_ON_CANCEL);
    sc.setJobGroup(group, callerDescription != null ? callerDescription : "write " + outDir, true);
    try {
      List<WrittenFile> written = normalized.toJavaRDD()
          .mapPartitionsWithIndex(new PartitionWriter(tmp.toString(), conf, info, footer, withLabel, withId,
              IN_MEMORY_SOURCE),
              false)
          .collect();
      long total = written.stream().mapToLong(WrittenFile::rows).sum();
      if (total == 0) {
        throw new InvalidDatasetException(IN_MEMORY_SOURCE, null, "No rows to write to " + outDir
            + ": the input DataFrame is empty");
      }
      fs.create(new Path(tmp, "_SUCCESS")).close();
      OutputCommit.moveIntoPlace(fs, tmp, out, overwrite);
      LOG.info("Wrote {} rows in {} file(s) to {} ({} ms)", total, written.size(), outDir,
          (System.nanoTime() - start) / 1_000_000);
      return total;
    } catch (Exception e) { // SparkException is checked but undeclared
      awaitTasks(sc, group);
      deleteQuietly(fs, tmp);
      if (e instanceof InvalidDatasetException ide) {
        throw ide;
      }
      InvalidDatasetException found = InvalidDatasetException.findIn(e).orElse(null);
      if (found != null) {
        throw new InvalidDatasetException(found, e);
      }
      throw new IllegalStateException("Writing dataset " + outDir + " failed: " + e.getMessage(), e);
    } finally {
      sc.setLocalProperty(JOB_GROUP, callerGroup);
      sc.setLocalProperty(JOB_DESCRIPTION, callerDescription);
      sc.setLocalProperty(JOB_INTERRUPT_ON_CANCEL, callerInterrupt);
    }
  }

  /** Waits, up to a minute, until no task of the jobs in {@code group} runs any more. */
  private static void awaitTasks(SparkContext sc, String group) {
    SparkStatusTracker tracker = sc.statusTracker();
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
    while (System.nanoTime() < deadline) {
      int active = 0;
      for (int job : tracker.getJobIdsForGroup(group)) {
        Option<SparkJobInfo> info = tracker.getJobInfo(job);
        for (int stage : info.isDefined() ? info.get().stageIds() : new int[0]) {
          Option<SparkStageInfo> s = tracker.getStageInfo(stage);
          active += s.isDefined() ? s.get().numActiveTasks() : 0;
        }
      }
      if (active == 0) {
        return;
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
    LOG.warn("Tasks of the failed write {} still run after a minute", group);
  }

  /** Deletes the temporary output of a failed write, once its tasks have ended ({@link #awaitTasks}). */
  private static void deleteQuietly(FileSystem fs, Path p) {
    try {
      fs.delete(p, true);
    } catch (IOException e) {
      LOG.warn("Cannot delete temporary output {}: {}", p, e.toString());
    }
  }

  /**
   * The shape and class names from the footers of every data file under {@code dir} (footers only).
   *
   * @throws InvalidDatasetException when a file is unreadable or lacks the metadata, or files disagree
   */
  public static DatasetInfo readInfo(String dir, Configuration conf) {
    return DatasetFiles.agreedInfo(DatasetFiles.scan(dir, conf), dir);
  }

  /** The provenance map recorded at write time (from the first data file's footer). */
  public static Map<String, String> readProvenance(String dir, Configuration conf) {
    return FormatMetadata.provenance(DatasetFiles.scan(dir, conf).get(0).keyValues());
  }

  /** Loads a dataset written by {@link #write}; the info comes from the footers. See {@link TensorDataset}. */
  public static TensorDataset load(SparkSession spark, String dir) {
    return load(spark, dir, null);
  }

  /**
   * Loads a labelled Parquet dataset (for training and evaluation; see {@link #loadFeatures} for data without
   * labels), normalizing features to array&lt;float&gt;, label to int and id to long. When the
   * files have no {@code id} column, id = the row's position in the dataset (files sorted by name), so ids are
   * stable across runs. Each row's features and label are checked against the info when an action reads those
   * columns (a bad row fails the action; {@code count()} alone reads neither).
   *
   * @param info the info for files without tensor metadata (for example written by Spark ML); null to take it
   *     from the footers. If both exist they must agree.
   * @throws InvalidDatasetException for a missing or unreadable file, a missing column or unaccepted type (named
   *     with file, column, type found and types accepted), files that disagree, or no rows
   */
  public static TensorDataset load(SparkSession spark, String dir, DatasetInfo info) {
    return load(spark, dir, info, true);
  }

  /**
   * Loads a dataset whose {@code label} column is optional (data to score, calibrate or compare layers on): as
   * {@link #load(SparkSession, String, DatasetInfo)}, but files without a label column give rows of
   * {@code features} and {@code id} only. A label column that is there is checked as {@code load} checks it.
   */
  public static TensorDataset loadFeatures(SparkSession spark, String dir, DatasetInfo info) {
    return load(spark, dir, info, false);
  }

  /**
   * The first {@code n} rows of a loaded dataset, by id: the same rows whatever the partitioning and however a
   * cluster schedules its tasks. ({@code Dataset.limit} alone keeps whichever rows reach its single partition first,
   * which on a cluster depends on the order shuffle blocks arrive in.)
   */
  public static Dataset<Row> firstRows(Dataset<Row> rows, long n) {
    return rows.orderBy(col(ID)).limit((int) Math.min(n, Integer.MAX_VALUE));
  }

  /** Whether any data file under {@code dir} carries the tensor metadata (shape and class names) in its footer. */
  public static boolean hasInfo(String dir, Configuration conf) {
    return DatasetFiles.scan(dir, conf).stream()
        .anyMatch(f -> FormatMetadata.info(f.keyValues(), f.path().toString()) != null);
  }

  private static TensorDataset load(SparkSession spark, String dir, DatasetInfo info, boolean labelRequired) {
    Configuration conf = spark.sparkContext().hadoopConfiguration();
    List<FileFooter> footers = DatasetFiles.scan(dir, conf);
    DatasetInfo resolved = resolveInfo(footers, dir, info);
    StructType schema = agreedSchema(footers, dir, labelRequired);
    boolean withLabel = List.of(schema.fieldNames()).contains(LABEL);
    return read(spark, dir, footers, resolved, schema,
        new Columns(FEATURES, withLabel ? LABEL : null, ColumnTypes.hasId(schema) ? ID : null));
  }

  /**
   * Which columns of a Parquet dataset hold the features, the label and the id, for data SparkQuant did not write.
   *
   * @param features a column of type array&lt;float&gt;, array&lt;double&gt; or Spark ML Vector
   * @param label an integral column of class indices, or null for unlabelled data
   * @param id an integral column, or null: ids are then the row's position (files sorted by name)
   */
  public record Columns(String features, String label, String id) implements java.io.Serializable {
    public Columns {
      Objects.requireNonNull(features, "features column");
    }
  }

  /**
   * Loads any Parquet dataset with the columns {@code columns} names, giving the rows of {@link #load}: columns
   * {@code features} (array&lt;float&gt;), {@code label} (when named) and {@code id}, each row checked against
   * {@code info} when an action reads it (a row of another length than the shape's product is refused by its
   * length, named by file and row, without being materialized). Other columns are ignored.
   *
   * @param info the shape and class names; files that carry tensor metadata must agree with it
   * @throws InvalidDatasetException for a missing column or an unaccepted type (named, with the columns found)
   */
  public static TensorDataset loadColumns(SparkSession spark, String dir, DatasetInfo info, Columns columns) {
    Objects.requireNonNull(info, "info");
    Configuration conf = spark.sparkContext().hadoopConfiguration();
    List<FileFooter> footers = DatasetFiles.scan(dir, conf);
    DatasetInfo resolved = resolveInfo(footers, dir, info);
    ParquetToSparkSchemaConverter converter = new ParquetToSparkSchemaConverter(SQLConf.get());
    StructType agreed = null;
    Path agreedFile = null;
    for (FileFooter f : footers) {
      StructType schema = sparkSchema(f, converter);
      ColumnTypes.check(schema, "file " + f.path(), columns);
      StructType picked = new StructType();
      for (String name : names(columns)) {
        picked = picked.add(schema.apply(name).copy(name, schema.apply(name).dataType(), true,
            org.apache.spark.sql.types.Metadata.empty()));
      }
      if (agreed == null) {
        agreed = picked;
        agreedFile = f.path();
      } else if (!sameTypes(agreed, picked)) {
        throw new InvalidDatasetException(dir, null, "Files of dataset " + dir + " have different column types: "
            + agreedFile + " has " + agreed.simpleString() + " but " + f.path() + " has " + picked.simpleString());
      }
    }
    return read(spark, dir, footers, resolved, agreed, columns);
  }

  private static List<String> names(Columns c) {
    List<String> names = new ArrayList<>();
    names.add(c.features());
    if (c.label() != null) {
      names.add(c.label());
    }
    if (c.id() != null) {
      names.add(c.id());
    }
    return names;
  }

  /** Reads the named columns of every file and checks every row, giving the canonical column names. */
  private static TensorDataset read(SparkSession spark, String dir, List<FileFooter> footers, DatasetInfo resolved,
      StructType schema, Columns columns) {
    if (DatasetFiles.totalRows(footers) == 0) {
      throw new InvalidDatasetException(dir, null, "Dataset " + dir + " has no rows (" + DatasetFiles.describe(footers)
          + ")");
    }
    boolean withLabel = columns.label() != null;
    boolean withId = columns.id() != null;
    List<StructField> read = new ArrayList<>();
    for (String name : names(columns)) {
      read.add(schema.apply(name));
    }
    Dataset<Row> raw = spark.read().schema(new StructType(read.toArray(new StructField[0])))
        .parquet(DatasetFiles.pathStrings(footers));

    Column file = col("_metadata.file_path");
    Column position = col("_metadata.row_index");
    Column id;
    if (withId) {
      id = quoted(columns.id()).cast(DataTypes.LongType);
    } else {
      // id = rows in the files before this one + position in this file
      List<Column> offsets = new ArrayList<>();
      long offset = 0;
      for (FileFooter f : footers) {
        offsets.add(lit(f.path().getName()));
        offsets.add(lit(offset));
        offset += f.rows();
      }
      id = element_at(map(offsets.toArray(new Column[0])), col("_metadata.file_name")).plus(position);
    }
    Dataset<Row> staged = raw.select(
        ColumnTypes.featuresAsFloatArray("`" + columns.features() + "`", schema.apply(columns.features()).dataType())
            .as("_f"),
        (withLabel ? quoted(columns.label()).cast(DataTypes.LongType) : lit(0L)).as("_l"),
        id.as("_id"), file.as("_file"), position.as("_pos"));
    // array_contains matches NaN to NaN, and returns null (not false) when the array holds a null and no match;
    // it is code-generated, unlike a lambda in exists(), which halved the read rate.
    Column badFeatures = col("_f").isNull().or(size(col("_f")).notEqual(lit(resolved.featureLength())))
        .or(expr("coalesce(array_contains(_f, float('NaN')), true)"))
        .or(expr("coalesce(array_contains(_f, float('Infinity')), true)"))
        .or(expr("coalesce(array_contains(_f, float('-Infinity')), true)"));
    Column badLabel = col("_l").isNull().or(col("_l").lt(0)).or(col("_l").geq(resolved.numClasses()));
    Column badId = col("_id").isNull();
    UserDefinedFunction failFeatures = functions.udf(new FeaturesFailure(resolved, columns.features()),
        DataTypes.createArrayType(DataTypes.FloatType, true));
    UserDefinedFunction failLabel = functions.udf(new LabelFailure(resolved, withLabel ? columns.label() : LABEL, withId ? columns.id() : ID), DataTypes.LongType);
    // The failure UDF gets the row's length and the array only when the length is right: Spark boxes a UDF's array
    // argument element by element, so a 10-million-value row passed in would exhaust the heap to describe itself.
    Column rightLength = size(col("_f")).equalTo(lit(resolved.featureLength()));
    Column features = when(badFeatures, failFeatures.apply(col("_file"), col("_pos"), col("_id"),
            size(col("_f")), when(rightLength, col("_f"))))
        .otherwise(col("_f"));
    Column label = when(badLabel.or(badId), failLabel.apply(col("_file"), col("_pos"), col("_id"), col("_l")))
        .otherwise(col("_l")).cast(DataTypes.IntegerType);
    // With labels the label expression checks the id too; without, the id column checks itself.
    Column featuresOut = features.as(FEATURES, FormatMetadata.featuresFieldMetadata(resolved));
    Dataset<Row> rows = withLabel
        ? staged.select(featuresOut, label.as(LABEL), col("_id").as(ID))
        : staged.select(featuresOut, when(badId, failLabel.apply(col("_file"), col("_pos"), col("_id"), col("_l")))
            .otherwise(col("_id")).as(ID));
    LOG.info("Loaded {} ({} rows, {}, {})", dir, DatasetFiles.totalRows(footers), DatasetFiles.describe(footers),
        resolved);
    return new TensorDataset(rows, resolved, dir);
  }

  private static DatasetInfo resolveInfo(List<FileFooter> footers, String dir, DatasetInfo given) {
    if (given == null) {
      return DatasetFiles.agreedInfo(footers, dir);
    }
    for (FileFooter f : footers) {
      DatasetInfo inFile = FormatMetadata.info(f.keyValues(), f.path().toString());
      if (inFile != null && !inFile.equals(given)) {
        throw new InvalidDatasetException(f.path().toString(), null, "File " + f.path() + " has " + inFile
            + " but the caller gave " + given);
      }
    }
    return given;
  }

  /** The Spark schema of every file, checked per file so an error names the file; all files must agree. */
  private static StructType agreedSchema(List<FileFooter> footers, String dir, boolean labelRequired) {
    ParquetToSparkSchemaConverter converter = new ParquetToSparkSchemaConverter(SQLConf.get());
    StructType agreed = null;
    Path agreedFile = null;
    for (FileFooter f : footers) {
      StructType schema = sparkSchema(f, converter);
      ColumnTypes.check(schema, "file " + f.path(), labelRequired);
      StructType signature = signature(schema);
      if (agreed == null) {
        agreed = signature;
        agreedFile = f.path();
      } else if (!sameTypes(agreed, signature)) {
        throw new InvalidDatasetException(dir, null, "Files of dataset " + dir + " have different column types: "
            + agreedFile + " has " + agreed.simpleString() + " but " + f.path() + " has " + signature.simpleString());
      }
    }
    return agreed;
  }

  /** The Spark schema Spark recorded in the file, else the one converted from its Parquet schema. */
  private static StructType sparkSchema(FileFooter f, ParquetToSparkSchemaConverter converter) {
    String sparkJson = f.keyValues().get(FormatMetadata.KEY_SPARK_SCHEMA);
    return sparkJson != null ? (StructType) DataType.fromJson(sparkJson) : converter.convert(f.schema());
  }

  private static Column quoted(String column) {
    return col("`" + column + "`");
  }

  private static StructType signature(StructType schema) {
    List<StructField> fields = new ArrayList<>();
    for (String name : new String[] {FEATURES, LABEL, ID}) {
      if (List.of(schema.fieldNames()).contains(name)) {
        StructField f = schema.apply(name);
        fields.add(new StructField(name, f.dataType(), true, org.apache.spark.sql.types.Metadata.empty()));
      }
    }
    return new StructType(fields.toArray(new StructField[0]));
  }

  private static boolean sameTypes(StructType a, StructType b) {
    return a.asNullable().sameType(b.asNullable()) && a.length() == b.length();
  }

  /**
   * Raises the error for a row whose features failed the check in SQL; computes the details in Java. {@code length}
   * is the row's length (-1 for a null row); {@code values} is the row only when its length is the declared one.
   */
  private record FeaturesFailure(DatasetInfo info, String column)
      implements UDF5<String, Long, Long, Integer, Seq<Float>, Seq<Float>> {
    @Override
    public Seq<Float> call(String file, Long position, Long id, Integer length, Seq<Float> values) {
      RowChecks.Problem p;
      if (length == null || length < 0) {
        p = new RowChecks.Problem(RowChecks.expectedLength(info), "null");
      } else if (length != info.featureLength()) {
        p = RowChecks.lengthProblem(length, info);
      } else {
        p = RowChecks.featuresProblem(values == null ? null : JavaConverters.seqAsJavaList(values), info);
      }
      if (p == null) {
        p = new RowChecks.Problem(RowChecks.expectedLength(info) + ", all finite", "a row failing the check");
      }
      throw InvalidDatasetException.atRow(file, column,
          RowChecks.rowText(id, "row " + position + " of the file"), p.expected(), p.actual());
    }
  }

  /** Raises the error for a row whose label (or id) failed the check in SQL. */
  private record LabelFailure(DatasetInfo info, String labelColumn, String idColumn) implements UDF4<String, Long, Long, Long, Long> {
    @Override
    public Long call(String file, Long position, Long id, Long label) {
      String row = RowChecks.rowText(id, "row " + position + " of the file");
      if (id == null) {
        throw InvalidDatasetException.atRow(file, idColumn, row, "a long", "null");
      }
      RowChecks.Problem p = RowChecks.labelProblem(label, info);
      throw InvalidDatasetException.atRow(file, labelColumn, row,
          p == null ? RowChecks.labelRange(info) : p.expected(), p == null ? String.valueOf(label) : p.actual());
    }
  }

  static Map<String, String> withDefaults(Map<String, String> provenance) {
    Map<String, String> m = provenance == null ? new LinkedHashMap<>() : new LinkedHashMap<>(provenance);
    m.putIfAbsent("writer", "io.sparkquant.data.TensorDatasets");
    return m;
  }
}
