/**
 * Fake quantization for DL4J: the building blocks of quantization-aware training, simulating in float exactly the
 * int8 model that {@link io.sparkquant.ops.export.TfliteExporter} writes.
 *
 * <h2>Why DL4J's own hooks</h2>
 * ND4J's FakeQuantWithMinMaxVars ops nudge like TensorFlow but return zero gradients (per channel: no backprop at
 * all), so a network built on them never trains; a SameDiff layer with {@code fq(x) + mask * (x - stopGradient(x))}
 * trains but ran 7-10x slower (STACK.md). Two hooks DL4J already has give a working straight-through estimator
 * (STE) at 0.4-0.9x of plain training speed, and both are plain configuration objects, so they survive
 * {@code MultiLayerNetwork.toJson/fromJson}, ModelSerializer and a Spark broadcast:
 * <ul>
 *   <li>{@link io.sparkquant.ops.qat.FakeQuantWeights}, an {@code IWeightNoise}: a layer asks it for its weight
 *       parameter in both passes, so it computes forward and backward with {@code dequantize(quantize(W))}, and
 *       the gradient it produces (the gradient at the quantized W) is applied to the float W. That is the STE for
 *       weights: {@code d fq(W) / dW = 1}. Biases are not touched (the exporter stores them as int32 at
 *       {@code inputScale * weightScale}, a rounding far below the weights').</li>
 *   <li>{@link io.sparkquant.ops.qat.FakeQuantActivation}, a {@code BaseActivationFunction} that wraps the layer's
 *       real activation and fake-quantizes its output (and, where the exporter writes the pre-activation as a tensor
 *       of its own, its input). Backward: the wrapped activation's gradient, zeroed where the float value lies
 *       outside {@code [dequantize(-128), dequantize(127)]}: the STE with clipping, as TensorFlow's
 *       FakeQuantWithMinMaxVarsGradient.</li>
 *   <li>{@link io.sparkquant.ops.qat.FakeQuantInputPreProcessor}: the network input, which the exporter quantizes
 *       too; a preprocessor on layer 0 (wrapping the layer's own), because an ActivationLayer first would overwrite
 *       the caller's input array in inference and fail DL4J's workspace checks.</li>
 * </ul>
 * An op without an activation function of its own whose output the exporter quantizes with its own range (a
 * residual ADD, global average pooling as MEAN) gets an identity ActivationLayer with a FakeQuantActivation after
 * it (FakeQuantGraphTest). Max pooling, reshape and flatten need nothing: their output stays on their input's grid.
 * Average pooling keeps its input's parameters but its int8 average is rounded to that grid: follow it with an
 * identity fake-quant over its input's range.
 *
 * A SeparableConvolution2D is exported as DEPTHWISE_CONV_2D then a 1x1 CONV_2D, with the depthwise output quantized
 * over a range of its own; DL4J computes both stages inside one layer with no hook between them, so the weight hook
 * matches both exported weight tensors but the intermediate tensor is not simulated: a QAT network should use a
 * DepthwiseConvolution2D and a 1x1 ConvolutionLayer instead.
 *
 * <p>{@link io.sparkquant.ops.qat.FakeQuant} finds the hooks of a network (to set ranges from a calibration table and
 * refresh them between epochs; the layers share their configuration objects, so a new range is used at once and
 * saved with the model) and switches them all on or off; off, the network computes what the same network built
 * from DL4J's own layers computes (bit for bit, except DL4J's fused softmax + cross-entropy gradient: see
 * FakeQuantNetworkTest).
 *
 * <h2>Simulation equals deployment</h2>
 * There is one copy of the quantization math, in {@link io.sparkquant.ops.numerics.QuantParams}, and both the
 * exporter and these hooks call it:
 * <ul>
 *   <li>weights: {@code QuantParams.int8WeightScale(max|w|)} per output channel (CONV_2D's dimension 0,
 *       DEPTHWISE_CONV_2D's {@code c * m + j}; DL4J's layouts are mapped to those channels) or per tensor (dense
 *       layers, as the exporter writes FULLY_CONNECTED, or every layer when asked), and
 *       {@code QuantParams.quantize(w, -127, 127)}: divide in double, round half away from zero, clamp. The simulated
 *       weight {@code scale * q} is bit-identical to the exported int8 weight times its exported scale
 *       (FakeQuantWeightsTest reads them back from the .tflite);</li>
 *   <li>activations: {@code QuantParams.int8Activation(min, max)} (range extended to hold 0, scale floor, nudged
 *       and clamped zero point) and {@code dequantize(quantize(x, -128, 127))}. Softmax/logistic (1/256, -128) and
 *       tanh (1/128, 0) outputs are ranges too ({@link io.sparkquant.ops.qat.FakeQuantActivation#fixedOutputRange}).
 *       </li>
 * </ul>
 * The exporter quantizes BatchNorm-folded weights ({@code W * gamma / sqrt(var + eps)}, folded by the importer), so
 * the weights these hooks see must already be folded: a network for QAT is built with BatchNorm folded into the
 * preceding layer ({@link io.sparkquant.ops.qat.FakeQuant#requireFoldedBatchNorm} rejects the other case).
 *
 * <p>For a softmax output layer trained with cross-entropy, quantize the logits (the exporter's FULLY_CONNECTED
 * output, {@code setInputRange}) and leave the softmax output in float: a probability quantized to 0 makes the loss
 * gradient {@code -label / 0}. The int8 softmax at (1/256, -128) then changes only ties in the top-1 class.
 */
package io.sparkquant.ops.qat;
