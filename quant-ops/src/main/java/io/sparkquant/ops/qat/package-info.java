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
 * The hooks compute with whole-array ND4J ops ({@code FakeQuantOps}: double division, clamp, round half away from
 * zero by multiply/add passes, float multiply), bit-identical to {@code QuantParams.quantize} then
 * {@code dequantize} element by element (FakeQuantOpsTest). DL4J already asks a layer's weight hook once per
 * training step (it keeps the quantized weights of the forward pass for backprop), so the hook caches nothing.
 * {@code sparkquant bench-qat} on the cnn preset (loaded machine): QAT fine-tuning at 1.10-1.28x of float training
 * samples/s (its network has BatchNorm folded), against 0.73-0.88x with the earlier Java loop per element.
 *
 * <p>An op without an activation function of its own whose output the exporter quantizes with its own range (a
 * residual ADD, global average pooling as MEAN) gets an identity ActivationLayer with a FakeQuantActivation after
 * it (FakeQuantGraphTest). Max pooling, reshape and flatten need nothing: their output stays on their input's grid.
 * Average pooling keeps its input's parameters but its int8 average is rounded to that grid: follow it with an
 * identity fake-quant over its input's range.
 *
 * A SeparableConvolution2D is exported as DEPTHWISE_CONV_2D then a 1x1 CONV_2D, with the depthwise output quantized
 * over a range of its own; DL4J computes both stages inside one layer with no hook between them, so the weight hook
 * matches both exported weight tensors but the intermediate tensor is not simulated: a QAT network should use a
 * DepthwiseConvolution2D and a 1x1 ConvolutionLayer instead, as {@link io.sparkquant.ops.qat.QatNetwork} does.
 *
 * <p>{@link io.sparkquant.ops.qat.FakeQuant} finds the hooks of a network (to set ranges from a calibration table and
 * refresh them between epochs; the layers share their configuration objects, so a new range is used at once and
 * saved with the model) and switches them all on or off; off, the network computes what the same network built
 * from DL4J's own layers computes (bit for bit, except DL4J's fused softmax + cross-entropy gradient: see
 * FakeQuantNetworkTest).
 *
 * <h2>The network built from the graph IR: {@link io.sparkquant.ops.qat.QatNetwork}</h2>
 * QAT starts from the imported {@link io.sparkquant.ops.graph.Graph} (BatchNorm folded, activations fused, separable
 * convolutions already split), not from the user's DL4J configuration, so every model the importer accepts can be
 * fine-tuned and the hooks sit where the exporter quantizes. One DL4J ComputationGraph vertex (or two) per IR node, in
 * graph order, named after the node; the network computes in NCHW and reads its input in the source model's layout
 * ({@link io.sparkquant.ops.graph.Graph#dl4jInputLayout()}: convolutionalFlat, convolutional or feedForward):
 * <table>
 *   <caption>From IR node to DL4J vertices and fake-quant hooks</caption>
 *   <tr><th>IR node</th><th>DL4J</th><th>hooks (graph tensor whose range they use)</th></tr>
 *   <tr><td>graph input</td><td>network input</td><td>FakeQuantInputPreProcessor on each layer reading it
 *       (input)</td></tr>
 *   <tr><td>CONV_2D (fused NONE/RELU/RELU6)</td><td>ConvolutionLayer, OHWI as {@code [out, in, kH, kW]}, SAME as
 *       ConvolutionMode.Same, VALID as Truncate</td><td>FakeQuantWeights (per output channel); output of the fused
 *       activation (node output)</td></tr>
 *   <tr><td>DEPTHWISE_CONV_2D</td><td>DepthwiseConvolution2D, {@code [1, kH, kW, in*m]} = {@code [kH, kW, in, m]}
 *       </td><td>FakeQuantWeights (channel {@code c*m + j}); output (node output)</td></tr>
 *   <tr><td>RESHAPE (flatten) + FULLY_CONNECTED</td><td>DenseLayer after DL4J's NCHW CnnToFeedForwardPreProcessor;
 *       {@code [out, in]} transposed to {@code [in, out]}, rows permuted from NHWC to NCHW flatten order</td>
 *       <td>FakeQuantWeights (per tensor); output (node output); the RESHAPE keeps its input's grid: none</td></tr>
 *   <tr><td>FULLY_CONNECTED + SOFTMAX (graph output)</td><td>OutputLayer, MCXENT, FakeQuantActivation(softmax)</td>
 *       <td>weights; pre-activation = logits (FC output); softmax output at (1/256, -128) only when asked
 *       ({@code setSoftmaxOutputQuantized}, for evaluation: float while training)</td></tr>
 *   <tr><td>FULLY_CONNECTED (graph output)</td><td>OutputLayer, MSE</td><td>weights; output</td></tr>
 *   <tr><td>MAX_POOL_2D, global max</td><td>SubsamplingLayer / GlobalPoolingLayer MAX</td><td>none (the maximum of
 *       grid values is on the grid)</td></tr>
 *   <tr><td>AVERAGE_POOL_2D</td><td>SubsamplingLayer AVG (padding excluded from the divisor) + identity
 *       ActivationLayer {@code <node>_fq}</td><td>output over the range of the tensor it inherits its parameters from
 *       (through pools/reshape; a fixed range after tanh/logistic)</td></tr>
 *   <tr><td>MEAN (global average)</td><td>GlobalPoolingLayer AVG + identity ActivationLayer {@code <node>_fq}</td>
 *       <td>output (node output)</td></tr>
 *   <tr><td>ADD (fused NONE/RELU/RELU6)</td><td>ElementWiseVertex Add {@code <node>_sum} + ActivationLayer
 *       {@code <node>} with the fused activation</td><td>output (node output)</td></tr>
 *   <tr><td>RELU, RELU6 / TANH, LOGISTIC</td><td>ActivationLayer</td><td>output (node output) / fixed (1/128, 0),
 *       (1/256, -128)</td></tr>
 *   <tr><td>LEAKY_RELU</td><td>ActivationLayer, ActivationLReLU(alpha)</td><td>output (node output), simulating the
 *       int8 kernel on the input's int8 values ({@code IntegerKernel.LEAKY_RELU})</td></tr>
 *   <tr><td>PAD</td><td>ZeroPaddingLayer (top, bottom, left, right: NCHW's H and W are NHWC's 1 and 2)</td>
 *       <td>none (keeps its input's parameters; the padding is the zero point, a real 0)</td></tr>
 *   <tr><td>RESIZE_NEAREST_NEIGHBOR</td><td>Upsampling2D (the factors)</td><td>none (copies, input's
 *       parameters)</td></tr>
 *   <tr><td>CONCATENATION (channels)</td><td>identity ActivationLayer {@code <node>_requantize_<input>} per input +
 *       MergeVertex {@code <node>} (dimension 1: NCHW channels)</td><td>each input requantized to the exporter's
 *       output parameters (the inputs' when they agree, else the union of their ranges) by the int8 QUANTIZE kernel
 *       the exporter writes ({@code IntegerKernel.REQUANTIZE}; the identity when the parameters agree)</td></tr>
 * </table>
 * Parameters a tensor inherits (pools, reshape, pad, resize, global max) are followed to the calibrated, fixed or
 * concatenation range they come from, both for identity hooks and for the input parameters of the integer-kernel
 * hooks. A vertex that is not a layer (ADD's ElementWiseVertex, a copy) and reads the network input reads it through
 * one identity ActivationLayer {@code <input>_quantized} carrying the input fake-quantizer (only layers have
 * preprocessors). An ActivationLayer (RELU..., LEAKY_RELU, the requantize hooks) works in place at inference: where
 * other nodes read its input tensor too, it reads a copy ({@code ScaleVertex} by 1), else a vertex running after it
 * would see activated values.
 *
 * <p>Anything else (a SOFTMAX elsewhere, a RESHAPE that is not a flatten into dense layers, a graph output not produced
 * by a FULLY_CONNECTED, e.g. a LEAKY_RELU output layer) is rejected naming the node and its index. {@code QatNetwork.writeBack()} copies the DL4J
 * parameters back through the inverse layouts (permutations only: float32 values are unchanged, so a network built and
 * written back without training exports byte-identical models) into a new Graph with the same nodes, tensors and
 * origins; {@code ranges()} reads the current ranges back out under the graph's tensor names. Exported conv weights are
 * per channel; {@code Options.perTensorWeights} simulates per-tensor weights for every layer, which matches an export
 * only once the exporter can write them.
 *
 * <p>Conv, depthwise and dense outputs: {@code QatNetwork} sets each of these layers' hook to simulate the int8
 * kernel itself ({@link io.sparkquant.ops.qat.FakeQuantActivation#setIntegerKernel}) rather than fake-quantize the
 * float pre-activation: the hook recovers the int32 accumulator {@code round(z / (inputScale * filterScale[c]))}
 * (exact: inputs and weights are on their grids; the layer's {@code FakeQuantWeights} hands it the scales of the
 * forward pass) and applies the kernel's own prepare and output stage ({@code Conv/DepthwiseConv/FullyConnected
 * .outputStage}: ruy's single rounding for CONV_2D and FULLY_CONNECTED, common.h's double rounding for
 * DEPTHWISE_CONV_2D), so its int8 outputs are the interpreter's element for element (IntegerKernelSimulationTest).
 * Backward is unchanged (the STE with clipping). Not with frozen BatchNorm statistics: there the hook sits after the
 * per-channel gamma/beta layer, away from the weights it would need ({@code FoldedBatchNormWeights}); those layers
 * keep the float fake quantizer.
 *
 * <p>Measured before the integer kernels (QatNetworkTest, 500 seeded rows per model, TFLite 2.6.2): the simulation's top-1 and probabilities
 * (within one 1/256 step) agree with the exported int8 model on 500/500 rows for cnnChain, mlp, residual (global
 * average and global max) and globalAverage before training, and after 8 fine-tuning steps on 500/500 except mlp,
 * 499/500 (the miss: a 2-step probability difference). Identical probabilities on 475-500 rows of 500. What
 * remains is integer rounding the float simulation does not model: compared tensor by tensor with the bit-exact
 * Java interpreter, about 0.1% of conv/dense outputs (int32 bias, fixed-point requantization), 0.2-1% of
 * tanh/logistic outputs (fixed-point approximations) and 16% of a MEAN's outputs differ by one int8 step.
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
