package io.sparkquant.jobs.ml;

import io.sparkquant.jobs.output.HadoopFiles;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.function.BiFunction;
import java.util.function.Supplier;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.ml.param.Params;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsReader$;
import org.apache.spark.ml.util.DefaultParamsWriter$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWriter;
import scala.Option;

/**
 * Saves a stage the way Spark ML saves its own ({@code metadata/}: class, uid and params as JSON, written by Spark's
 * DefaultParamsWriter) plus one file of bytes the params cannot hold (a model, a table) under {@code data/}.
 * DefaultParamsWriter/Reader are Scala {@code private[ml]} objects; the JVM does not enforce that, and reusing them
 * keeps the metadata exactly what {@code Pipeline.load} expects.
 */
final class StagePersistence {

  private StagePersistence() {}

  static MLWriter writer(Params stage, String dataFile, Supplier<byte[]> data) {
    return new MLWriter() {
      @Override
      public void saveImpl(String path) {
        DefaultParamsWriter$.MODULE$.saveMetadata(stage, path, sc(), Option.empty(), Option.empty());
        Path file = new Path(new Path(path, "data"), dataFile);
        try {
          FileSystem fs = file.getFileSystem(sc().hadoopConfiguration());
          try (OutputStream out = fs.create(file, false)) {
            out.write(data.get());
          }
        } catch (IOException e) {
          throw new UncheckedIOException("cannot write " + file, e);
        }
      }
    };
  }

  /** @param create the stage from its uid and the data file's bytes; the params are set on it afterwards */
  static <T extends Params> MLReader<T> reader(Class<T> type, String dataFile, BiFunction<String, byte[], T> create) {
    return new MLReader<>() {
      @Override
      public T load(String path) {
        DefaultParamsReader.Metadata metadata = DefaultParamsReader$.MODULE$.loadMetadata(path, sc(), type.getName());
        byte[] data = HadoopFiles.readAllBytes(sc().hadoopConfiguration(), path + "/data/" + dataFile);
        T stage = create.apply(metadata.uid(), data);
        metadata.getAndSetParams(stage, Option.empty());
        return stage;
      }
    };
  }
}
