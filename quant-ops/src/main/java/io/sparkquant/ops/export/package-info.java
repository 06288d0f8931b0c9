/**
 * Graph to TFLite export.
 *
 * <ul>
 *   <li>{@link io.sparkquant.ops.export.Quantizer#quantize}: quantization as one library call (graph + ranges +
 *       config to .tflite bytes and model card, with the keep-float ranking); the jobs' quantize step wraps it.</li>
 *   <li>{@link io.sparkquant.ops.export.TfliteExporter#export}: {@link io.sparkquant.ops.graph.Graph} +
 *       {@link io.sparkquant.ops.export.ExportOptions} (mode, I/O type,
 *       {@link io.sparkquant.ops.calib.ActivationRanges}, provenance) to a
 *       {@link io.sparkquant.ops.tflite.TfliteModel}; write it with
 *       {@link io.sparkquant.ops.tflite.TfliteWriter#write}.</li>
 *   <li>{@link io.sparkquant.ops.export.TfliteExporter#tensorsNeedingRanges}: which tensors calibration must
 *       supply ranges for (the others inherit their input's parameters or have fixed ones).</li>
 *   <li>{@link io.sparkquant.ops.export.ModelCard}: the JSON card written next to a .tflite.</li>
 * </ul>
 */
package io.sparkquant.ops.export;
