/**
 * SparkQuant's CLI and Spark jobs. {@link io.sparkquant.jobs.Main} is the one entry point ({@code ./sparkquant},
 * {@code spark-submit --class io.sparkquant.jobs.Main}); everything else lives in a package by role:
 *
 * <ul>
 *   <li>{@code cli}: every subcommand ({@code *Command}) and their shared options ({@code SparkOptions}) and
 *       path checks ({@code CheckedPaths}). A command parses options, validates them, calls a job and prints;
 *       it does no stage's work, so the demo, the notebooks and tests call the same jobs.
 *   <li>one package per stage, its job beside its Spark-side logic: {@code convert} (IDX to Parquet),
 *       {@code train} (parameter-averaging training), {@code calib} (distributed calibration), {@code quantize}
 *       (export to .tflite), {@code eval} (scoring and metrics), {@code report} (the per-layer error report),
 *       {@code run} (a .tflite on .npy inputs, locally), {@code inspect} (what is in a .tflite, whether TFLite
 *       2.6.2 loads it).
 *   <li>{@code output}: how every output is written (atomically, on any Hadoop file system) and described:
 *       {@code OutputDir}, {@code OutputFiles}, {@code Manifest}, {@code HadoopFiles}, {@code ProjectVersion}.
 *   <li>{@code spark}: session setup ({@code SparkSessions}) and the per-executor model cache
 *       ({@code ExecutorCache}).
 *   <li>{@code bench}: benchmark commands and the {@code LiveHeapPlugin} Spark plugin, kept apart from the
 *       product code.
 * </ul>
 */
package io.sparkquant.jobs;
