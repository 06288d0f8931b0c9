package io.sparkquant.jobs.ml;

import io.sparkquant.ops.calib.CalibrationTable;
import java.nio.charset.StandardCharsets;
import org.apache.spark.ml.Model;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * What {@link CalibrationEstimator} fits: the {@link CalibrationTable} (its JSON is what {@code sparkquant calibrate}
 * writes). Calibration changes no row, so {@link #transform} passes the rows through; the model exists to carry the
 * table through a Pipeline and to be saved with it ({@code data/table.json}).
 */
public final class CalibrationTableModel extends Model<CalibrationTableModel> implements MLWritable {

  private static final String DATA_FILE = "table.json";

  private final String uid;
  private final CalibrationTable table;

  CalibrationTableModel(CalibrationTable table) {
    this(Identifiable$.MODULE$.randomUID("calibrationTableModel"), table);
  }

  private CalibrationTableModel(String uid, CalibrationTable table) {
    this.uid = uid;
    this.table = table;
  }

  public CalibrationTable table() {
    return table;
  }

  @Override
  public String uid() {
    return uid;
  }

  @Override
  public Dataset<Row> transform(Dataset<?> dataset) {
    return dataset.toDF();
  }

  @Override
  public StructType transformSchema(StructType schema) {
    return schema;
  }

  @Override
  public CalibrationTableModel copy(ParamMap extra) {
    return copyValues(new CalibrationTableModel(uid, table), extra).setParent(parent());
  }

  @Override
  public MLWriter write() {
    return StagePersistence.writer(this, DATA_FILE, () -> table.toJson().getBytes(StandardCharsets.UTF_8));
  }

  public static MLReader<CalibrationTableModel> read() {
    return StagePersistence.reader(CalibrationTableModel.class, DATA_FILE,
        (uid, json) -> new CalibrationTableModel(uid, CalibrationTable.fromJson(new String(json,
            StandardCharsets.UTF_8))));
  }

  public static CalibrationTableModel load(String path) {
    return read().load(path);
  }
}
