package io.sparkquant.ops.graph;

import io.sparkquant.ops.kernels.FusedActivation;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A plain-Java float evaluation of the graph IR in NHWC with TFLite's float semantics (SAME padding split as
 * TFLite, average pooling excluding padded cells). Used to observe tensors DL4J does not expose
 * ({@link Dl4jSource.Kind#DERIVED}) and as an importer check independent of any runtime. Values are flat
 * row-major arrays of {@code batch * tensor.itemSize()} floats. Not fast; meant for small batches.
 */
public final class FloatReference {

  private FloatReference() {}

  /** Runs the whole graph; returns every tensor's value by name. */
  public static Map<String, float[]> run(Graph graph, float[] inputNhwc, int batch) {
    checkLength(graph.input(), inputNhwc, batch);
    Map<String, float[]> values = new HashMap<>();
    values.put(graph.input().name(), inputNhwc);
    for (Node node : graph.nodes()) {
      values.put(node.output(), evalNode(graph, node, values, batch));
    }
    return values;
  }

  /** Evaluates one node given (at least) its input values. */
  public static float[] evalNode(Graph graph, Node node, Map<String, float[]> values, int batch) {
    List<String> ins = node.inputs();
    for (String in : ins) {
      if (!values.containsKey(in)) {
        throw new IllegalArgumentException("node '" + node.name() + "' needs the value of '" + in + "'");
      }
      checkLength(graph.tensor(in), values.get(in), batch);
    }
    GraphTensor in0 = graph.tensor(ins.get(0));
    GraphTensor out = graph.tensor(node.output());
    float[] x = values.get(ins.get(0));
    if (node instanceof Node.Conv2D c) {
      return conv(x, in0, out, c, batch);
    } else if (node instanceof Node.DepthwiseConv2D d) {
      return depthwise(x, in0, out, d, batch);
    } else if (node instanceof Node.FullyConnected f) {
      return fullyConnected(x, f, batch);
    } else if (node instanceof Node.Pool2D p) {
      return pool(x, in0, out, p, batch);
    } else if (node instanceof Node.GlobalPool g) {
      return globalPool(x, in0, g, batch);
    } else if (node instanceof Node.Add a) {
      return add(x, values.get(a.right()), a.activation());
    } else if (node instanceof Node.Reshape) {
      return x.clone();
    } else if (node instanceof Node.Softmax s) {
      return softmax(x, out.dim(out.rank() - 1), s.beta());
    } else if (node instanceof Node.Activation a) {
      return activation(x, a.kind());
    } else if (node instanceof Node.LeakyRelu l) {
      float[] y = new float[x.length];
      io.sparkquant.ops.kernels.LeakyRelu.evalFloat(l.alpha(), x, y);
      return y;
    } else if (node instanceof Node.Pad p) {
      int[] inShape = withBatch(in0.shape(), batch);
      int[] paddings = {0, 0, p.top(), p.bottom(), p.left(), p.right(), 0, 0};
      float[] y = new float[batch * out.itemSize()];
      io.sparkquant.ops.kernels.Pad.eval(inShape, paddings, x, y);
      return y;
    } else if (node instanceof Node.Concatenation c) {
      int[][] shapes = new int[ins.size()][];
      Object[] arrays = new Object[ins.size()];
      for (int i = 0; i < ins.size(); i++) {
        shapes[i] = withBatch(graph.tensor(ins.get(i)).shape(), batch);
        arrays[i] = values.get(ins.get(i));
      }
      float[] y = new float[batch * out.itemSize()];
      io.sparkquant.ops.kernels.Concatenation.eval(shapes, arrays, -1, y);
      return y;
    } else if (node instanceof Node.ResizeNearest r) {
      float[] y = new float[batch * out.itemSize()];
      io.sparkquant.ops.kernels.ResizeNearestNeighbor.eval(withBatch(in0.shape(), batch), x, out.dim(1), out.dim(2),
          false, false, y);
      return y;
    }
    throw new IllegalArgumentException("unknown node type " + node.getClass().getName());
  }

  private static float[] conv(float[] x, GraphTensor in, GraphTensor out, Node.Conv2D c, int batch) {
    int inH = in.dim(1), inW = in.dim(2), inC = in.dim(3);
    int outH = out.dim(1), outW = out.dim(2), outC = out.dim(3);
    int kH = c.filter().dim(1), kW = c.filter().dim(2);
    int padTop = c.padding().padBefore(inH, kH, c.strideH(), c.dilationH());
    int padLeft = c.padding().padBefore(inW, kW, c.strideW(), c.dilationW());
    float[] w = c.filter().data();
    float[] b = c.bias().data();
    float[] y = new float[batch * outH * outW * outC];
    for (int n = 0; n < batch; n++) {
      for (int oy = 0; oy < outH; oy++) {
        for (int ox = 0; ox < outW; ox++) {
          for (int oc = 0; oc < outC; oc++) {
            double acc = b[oc];
            for (int ky = 0; ky < kH; ky++) {
              int iy = oy * c.strideH() - padTop + ky * c.dilationH();
              if (iy < 0 || iy >= inH) {
                continue;
              }
              for (int kx = 0; kx < kW; kx++) {
                int ix = ox * c.strideW() - padLeft + kx * c.dilationW();
                if (ix < 0 || ix >= inW) {
                  continue;
                }
                int xBase = ((n * inH + iy) * inW + ix) * inC;
                int wBase = ((oc * kH + ky) * kW + kx) * inC;
                for (int ic = 0; ic < inC; ic++) {
                  acc += x[xBase + ic] * w[wBase + ic];
                }
              }
            }
            y[((n * outH + oy) * outW + ox) * outC + oc] = c.activation().apply((float) acc);
          }
        }
      }
    }
    return y;
  }

  private static float[] depthwise(float[] x, GraphTensor in, GraphTensor out, Node.DepthwiseConv2D d, int batch) {
    int inH = in.dim(1), inW = in.dim(2), inC = in.dim(3);
    int outH = out.dim(1), outW = out.dim(2), outC = out.dim(3);
    int kH = d.filter().dim(1), kW = d.filter().dim(2);
    int m = d.depthMultiplier();
    int padTop = d.padding().padBefore(inH, kH, d.strideH(), d.dilationH());
    int padLeft = d.padding().padBefore(inW, kW, d.strideW(), d.dilationW());
    float[] w = d.filter().data();
    float[] b = d.bias().data();
    float[] y = new float[batch * outH * outW * outC];
    for (int n = 0; n < batch; n++) {
      for (int oy = 0; oy < outH; oy++) {
        for (int ox = 0; ox < outW; ox++) {
          for (int oc = 0; oc < outC; oc++) {
            int ic = oc / m;
            double acc = b[oc];
            for (int ky = 0; ky < kH; ky++) {
              int iy = oy * d.strideH() - padTop + ky * d.dilationH();
              if (iy < 0 || iy >= inH) {
                continue;
              }
              for (int kx = 0; kx < kW; kx++) {
                int ix = ox * d.strideW() - padLeft + kx * d.dilationW();
                if (ix < 0 || ix >= inW) {
                  continue;
                }
                acc += x[((n * inH + iy) * inW + ix) * inC + ic] * w[(ky * kW + kx) * outC + oc];
              }
            }
            y[((n * outH + oy) * outW + ox) * outC + oc] = d.activation().apply((float) acc);
          }
        }
      }
    }
    return y;
  }

  private static float[] fullyConnected(float[] x, Node.FullyConnected f, int batch) {
    int outN = f.weights().dim(0), inN = f.weights().dim(1);
    float[] w = f.weights().data();
    float[] b = f.bias().data();
    float[] y = new float[batch * outN];
    for (int n = 0; n < batch; n++) {
      for (int o = 0; o < outN; o++) {
        double acc = b[o];
        for (int i = 0; i < inN; i++) {
          acc += x[n * inN + i] * w[o * inN + i];
        }
        y[n * outN + o] = f.activation().apply((float) acc);
      }
    }
    return y;
  }

  private static float[] pool(float[] x, GraphTensor in, GraphTensor out, Node.Pool2D p, int batch) {
    int inH = in.dim(1), inW = in.dim(2), c = in.dim(3);
    int outH = out.dim(1), outW = out.dim(2);
    int padTop = p.padding().padBefore(inH, p.filterH(), p.strideH(), 1);
    int padLeft = p.padding().padBefore(inW, p.filterW(), p.strideW(), 1);
    float[] y = new float[batch * outH * outW * c];
    for (int n = 0; n < batch; n++) {
      for (int oy = 0; oy < outH; oy++) {
        for (int ox = 0; ox < outW; ox++) {
          for (int ch = 0; ch < c; ch++) {
            double sum = 0;
            float max = Float.NEGATIVE_INFINITY;
            int count = 0;
            for (int ky = 0; ky < p.filterH(); ky++) {
              int iy = oy * p.strideH() - padTop + ky;
              if (iy < 0 || iy >= inH) {
                continue;
              }
              for (int kx = 0; kx < p.filterW(); kx++) {
                int ix = ox * p.strideW() - padLeft + kx;
                if (ix < 0 || ix >= inW) {
                  continue;
                }
                float v = x[((n * inH + iy) * inW + ix) * c + ch];
                sum += v;
                max = Math.max(max, v);
                count++;
              }
            }
            y[((n * outH + oy) * outW + ox) * c + ch] = p.kind() == Node.PoolKind.MAX ? max : (float) (sum / count);
          }
        }
      }
    }
    return y;
  }

  private static float[] globalPool(float[] x, GraphTensor in, Node.GlobalPool g, int batch) {
    int hw = in.dim(1) * in.dim(2), c = in.dim(3);
    float[] y = new float[batch * c];
    for (int n = 0; n < batch; n++) {
      for (int ch = 0; ch < c; ch++) {
        double sum = 0;
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < hw; i++) {
          float v = x[(n * hw + i) * c + ch];
          sum += v;
          max = Math.max(max, v);
        }
        y[n * c + ch] = g.kind() == Node.PoolKind.MAX ? max : (float) (sum / hw);
      }
    }
    return y;
  }

  private static float[] add(float[] a, float[] b, FusedActivation act) {
    float[] y = new float[a.length];
    for (int i = 0; i < a.length; i++) {
      y[i] = act.apply(a[i] + b[i]);
    }
    return y;
  }

  private static float[] softmax(float[] x, int depth, float beta) {
    float[] y = new float[x.length];
    for (int base = 0; base < x.length; base += depth) {
      float max = Float.NEGATIVE_INFINITY;
      for (int i = 0; i < depth; i++) {
        max = Math.max(max, x[base + i]);
      }
      double sum = 0;
      for (int i = 0; i < depth; i++) {
        sum += Math.exp(beta * (x[base + i] - max));
      }
      for (int i = 0; i < depth; i++) {
        y[base + i] = (float) (Math.exp(beta * (x[base + i] - max)) / sum);
      }
    }
    return y;
  }

  private static float[] activation(float[] x, Node.ActivationKind kind) {
    float[] y = new float[x.length];
    for (int i = 0; i < x.length; i++) {
      float v = x[i];
      y[i] = switch (kind) {
        case RELU -> Math.max(v, 0f);
        case RELU6 -> Math.min(Math.max(v, 0f), 6f);
        case TANH -> (float) Math.tanh(v);
        case LOGISTIC -> (float) (1.0 / (1.0 + Math.exp(-v)));
      };
    }
    return y;
  }

  private static int[] withBatch(int[] shape, int batch) {
    int[] s = shape.clone();
    s[0] = batch;
    return s;
  }

  private static void checkLength(GraphTensor t, float[] v, int batch) {
    if (v.length != (long) batch * t.itemSize()) {
      throw new IllegalArgumentException("tensor '" + t.name() + "' of shape " + Graph.shape(t.shape())
          + " needs " + batch + " x " + t.itemSize() + " values, got " + v.length);
    }
  }
}
