/**
 * The Parquet tensor dataset format and its readers and writers.
 *
 * <p>Format: columns {@code features} array&lt;float&gt; (row-major HWC for images), {@code label} int (class index),
 * optional {@code id} long. Every data file's footer holds {@code sparkquant.format} (1), {@code sparkquant.shape}
 * ("28,28,1"), {@code sparkquant.classes} (JSON array), {@code sparkquant.provenance} (JSON object), and the Spark
 * schema with the same shape and classes as metadata of the {@code features} field. Files are written with
 * parquet-hadoop directly and stay readable by {@code spark.read().parquet(dir)}.
 *
 * <p>Entry points: {@link io.sparkquant.data.TensorDatasets} (write, readInfo, load),
 * {@link io.sparkquant.data.Batches} (DL4J batches per partition), {@link io.sparkquant.data.IdSample}
 * (deterministic subsets by id), converters {@link io.sparkquant.data.IdxConverter} and
 * {@link io.sparkquant.data.CsvConverter}, and {@link io.sparkquant.data.FashionMnist} (where the demo data is).
 * Bad data raises {@link io.sparkquant.data.InvalidDatasetException}.
 */
package io.sparkquant.data;
