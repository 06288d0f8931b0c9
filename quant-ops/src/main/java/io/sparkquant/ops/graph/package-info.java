/**
 * The float graph IR (NHWC, batch 1, topologically ordered, immutable) and its DL4J importer.
 *
 * <ul>
 *   <li>{@link io.sparkquant.ops.graph.Graph}: tensors ({@link io.sparkquant.ops.graph.GraphTensor}: name, NHWC
 *       shape, producer, {@link io.sparkquant.ops.graph.Dl4jSource}) and nodes
 *       ({@link io.sparkquant.ops.graph.Node}: Conv2D, DepthwiseConv2D, FullyConnected, Pool2D, GlobalPool, Add,
 *       Reshape, Softmax, Activation) with float weights in TFLite layouts
 *       ({@link io.sparkquant.ops.graph.ConstTensor}).</li>
 *   <li>{@link io.sparkquant.ops.graph.Dl4jImporter}: MultiLayerNetwork / ComputationGraph (or a ModelSerializer
 *       zip via {@code load}) to Graph; BatchNormalization folded, RELU/RELU6 fused, CNN flatten permuted to NHWC
 *       order; rejects anything else with {@link io.sparkquant.ops.graph.UnsupportedModelException}.</li>
 *   <li>{@link io.sparkquant.ops.graph.ModelMetadata}: the input shape and class names SparkQuant records in a
 *       ModelSerializer zip it trained ({@code sparkquant.json}), read back by
 *       {@link io.sparkquant.ops.graph.Dl4jImporter#recordedInputShape}.</li>
 *   <li>{@link io.sparkquant.ops.graph.Dl4jActivations}: every graph tensor's float value on a batch from one DL4J
 *       {@code feedForward(batch, false)}, in NHWC, for calibration.</li>
 *   <li>{@link io.sparkquant.ops.graph.FloatReference}: a plain-Java float evaluation of the graph (TFLite float
 *       semantics), for tensors DL4J does not expose and as an importer check.</li>
 * </ul>
 *
 * <p>Weights inside {@link io.sparkquant.ops.graph.ConstTensor} are shared, not copied, for speed: treat them as
 * read-only.
 */
package io.sparkquant.ops.graph;
