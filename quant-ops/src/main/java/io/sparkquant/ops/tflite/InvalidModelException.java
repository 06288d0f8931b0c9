package io.sparkquant.ops.tflite;

/**
 * The one error of the .tflite path ({@link TfliteReader}, {@link ModelCheck}, the Java interpreter): the file is
 * damaged or not a model ({@link Kind#INVALID}: wrong identifier or schema version, offsets outside the file,
 * indices outside their tables, shapes, buffer sizes or quantization parameters that do not fit, an operator with
 * the wrong inputs), or it is a valid model that this runtime does not run ({@link Kind#UNSUPPORTED}: an operator,
 * version or type combination outside the op table). The message is one line: what is wrong, the expected and
 * the actual value, and where (tensor index and name, operator index and op); callers prefix the file.
 *
 * <p>An IllegalArgumentException, so code that refuses bad arguments in general also refuses bad models.
 */
public class InvalidModelException extends IllegalArgumentException {

  private static final long serialVersionUID = 1L;

  /** Damaged or not a model, versus a valid model that this runtime does not run. */
  public enum Kind { INVALID, UNSUPPORTED }

  private final Kind kind;

  public InvalidModelException(String message) {
    this(Kind.INVALID, message, null);
  }

  public InvalidModelException(String message, Throwable cause) {
    this(Kind.INVALID, message, cause);
  }

  public InvalidModelException(Kind kind, String message, Throwable cause) {
    super(oneLine(message), cause);
    this.kind = kind;
  }

  public static InvalidModelException unsupported(String message) {
    return new InvalidModelException(Kind.UNSUPPORTED, message, null);
  }

  public Kind kind() {
    return kind;
  }

  /** The same error located: {@code where + ": " + message}, same kind, this as the cause. */
  public InvalidModelException at(String where) {
    return new InvalidModelException(kind, where + ": " + getMessage(), this);
  }

  /** Names come from the file and may hold line breaks or control characters: keep the message on one line. */
  private static String oneLine(String message) {
    if (message == null) {
      return null;
    }
    StringBuilder sb = new StringBuilder(message.length());
    for (int i = 0; i < message.length(); i++) {
      char c = message.charAt(i);
      sb.append(c < 32 || c == 127 ? ' ' : c);
    }
    return sb.toString();
  }
}
