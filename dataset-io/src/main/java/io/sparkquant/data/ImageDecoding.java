package io.sparkquant.data;

import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.io.InputStream;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.event.IIOReadWarningListener;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * How one PNG or JPEG file becomes a row of the tensor format, with javax.imageio only (no native code):
 *
 * <ul>
 *   <li>a grayscale image (one colour component, any bit depth) gives its raster sample divided by
 *       {@code 2^bits - 1}: the stored value, not Java 2D's sRGB rendering of a linear gray colour space, which
 *       would turn 128 into 186;
 *   <li>any other image (RGB, palette, with or without alpha) gives the 8-bit sRGB components Java 2D's
 *       {@code getRGB} returns, divided by 255; alpha is dropped, not composited;
 *   <li>asked for 1 channel, a colour image gives its luma {@code 0.299 R + 0.587 G + 0.114 B} (ITU-R BT.601, as
 *       PIL's "L" mode); asked for 3 channels, a gray image repeats its value in R, G and B;
 *   <li>an image of another size than the target is resized with bilinear interpolation on those [0, 1] values,
 *       half-pixel centres, edges clamped (TensorFlow's {@code resize_bilinear} with
 *       {@code half_pixel_centers=True}, OpenCV's {@code INTER_LINEAR}); no antialiasing, so a large reduction
 *       skips pixels;
 *   <li>the row is HWC, row-major: {@code value(y, x, c) = row[(y * W + x) * C + c]}.
 * </ul>
 *
 * A reader warning (a truncated JPEG decodes with a warning and gray padding) is an error, as is a file no
 * reader recognizes.
 */
public final class ImageDecoding {

  /** The header facts of one image: size and whether it is gray. */
  public record Header(int width, int height, boolean gray) implements java.io.Serializable {
    /** {@code HxW}, as the converter's size option is written. */
    public String sizeText() {
      return height + "x" + width;
    }
  }

  private ImageDecoding() {}

  /** Reads the size and colour type of an image without decoding its pixels. */
  public static Header header(InputStream in, String file) {
    return withReader(in, file, reader -> {
      ImageTypeSpecifier raw = reader.getRawImageType(0);
      // A JPEG in CMYK or YCCK has no raw type; it decodes to colour.
      boolean gray = raw != null && isGray(raw.getColorModel());
      return new Header(reader.getWidth(0), reader.getHeight(0), gray);
    });
  }

  /**
   * Decodes an image into a row of {@code height * width * channels} floats in [0, 1] (see the class comment).
   *
   * @param height target height, or 0 to keep the image's
   * @param width target width, or 0 to keep the image's
   * @param channels 1 or 3
   */
  public static float[] decode(InputStream in, String file, int height, int width, int channels) {
    BufferedImage image = withReader(in, file, reader -> reader.read(0));
    float[] pixels = pixels(image, channels);
    int h = image.getHeight();
    int w = image.getWidth();
    int th = height == 0 ? h : height;
    int tw = width == 0 ? w : width;
    return th == h && tw == w ? pixels : resizeBilinear(pixels, h, w, channels, th, tw);
  }

  /** The image's values in [0, 1], HWC, at its own size. */
  static float[] pixels(BufferedImage image, int channels) {
    if (channels != 1 && channels != 3) {
      throw new IllegalArgumentException("channels must be 1 or 3, got " + channels);
    }
    int h = image.getHeight();
    int w = image.getWidth();
    float[] out = new float[h * w * channels];
    if (isGray(image.getColorModel())) {
      Raster raster = image.getRaster();
      float max = (1 << image.getColorModel().getComponentSize(0)) - 1;
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          float v = raster.getSample(x, y, 0) / max;
          for (int c = 0; c < channels; c++) {
            out[(y * w + x) * channels + c] = v;
          }
        }
      }
      return out;
    }
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int argb = image.getRGB(x, y);
        float r = ((argb >> 16) & 0xff) / 255f;
        float g = ((argb >> 8) & 0xff) / 255f;
        float b = (argb & 0xff) / 255f;
        int i = (y * w + x) * channels;
        if (channels == 3) {
          out[i] = r;
          out[i + 1] = g;
          out[i + 2] = b;
        } else {
          out[i] = 0.299f * r + 0.587f * g + 0.114f * b; // BT.601 luma
        }
      }
    }
    return out;
  }

  /**
   * Bilinear resampling of an HWC row with half-pixel centres: output pixel (y, x) samples the input at
   * {@code ((y + 0.5) * h / th - 0.5, (x + 0.5) * w / tw - 0.5)}, clamped to the image.
   */
  static float[] resizeBilinear(float[] in, int h, int w, int channels, int th, int tw) {
    float[] out = new float[th * tw * channels];
    double scaleY = (double) h / th;
    double scaleX = (double) w / tw;
    for (int y = 0; y < th; y++) {
      double sy = Math.min(Math.max((y + 0.5) * scaleY - 0.5, 0), h - 1);
      int y0 = (int) sy;
      int y1 = Math.min(y0 + 1, h - 1);
      double fy = sy - y0;
      for (int x = 0; x < tw; x++) {
        double sx = Math.min(Math.max((x + 0.5) * scaleX - 0.5, 0), w - 1);
        int x0 = (int) sx;
        int x1 = Math.min(x0 + 1, w - 1);
        double fx = sx - x0;
        for (int c = 0; c < channels; c++) {
          double top = in[(y0 * w + x0) * channels + c] * (1 - fx) + in[(y0 * w + x1) * channels + c] * fx;
          double bottom = in[(y1 * w + x0) * channels + c] * (1 - fx) + in[(y1 * w + x1) * channels + c] * fx;
          out[(y * tw + x) * channels + c] = (float) (top * (1 - fy) + bottom * fy);
        }
      }
    }
    return out;
  }

  private static boolean isGray(ColorModel cm) {
    return cm.getNumColorComponents() == 1 && !(cm instanceof java.awt.image.IndexColorModel);
  }

  private interface ReaderAction<T> {
    T apply(ImageReader reader) throws IOException;
  }

  private static <T> T withReader(InputStream in, String file, ReaderAction<T> action) {
    try (ImageInputStream stream = new MemoryCacheImageInputStream(in)) {
      Iterator<ImageReader> readers = ImageIO.getImageReaders(stream);
      if (!readers.hasNext()) {
        throw new InvalidDatasetException(file, null, "Image " + file + " is not a readable PNG or JPEG file"
            + " (no image reader recognizes its content)");
      }
      ImageReader reader = readers.next();
      try {
        reader.setInput(stream, true, true);
        reader.addIIOReadWarningListener(new WarningsAreErrors());
        return action.apply(reader);
      } finally {
        reader.dispose();
      }
    } catch (IOException | RuntimeException e) {
      if (e instanceof InvalidDatasetException ide) {
        throw ide;
      }
      String why = e instanceof WarningException ? e.getMessage() : e.toString();
      throw new InvalidDatasetException(file, null, "Image " + file + " is corrupt or unreadable: " + why, e);
    }
  }

  private static final class WarningException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    WarningException(String message) {
      super(message);
    }
  }

  /** A truncated JPEG decodes with only a warning: make it an error. */
  private static final class WarningsAreErrors implements IIOReadWarningListener {
    @Override
    public void warningOccurred(ImageReader source, String warning) {
      throw new WarningException(warning);
    }
  }
}
