package io.sparkquant.data;

import java.util.Optional;

/**
 * Bad input data: a wrong or missing column, a row that contradicts the dataset's shape or classes, an
 * unreadable file, or no rows at all. The message names the source (file or directory), the column and the
 * row where known, the expected and the actual value.
 *
 * <p>Thrown on executors too: Spark wraps it, so callers of Spark actions use {@link #findIn(Throwable)}.
 */
public class InvalidDatasetException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final String source;
  private final String column;

  public InvalidDatasetException(String source, String column, String message) {
    this(source, column, message, null);
  }

  public InvalidDatasetException(String source, String column, String message, Throwable cause) {
    super(message, cause);
    this.source = source;
    this.column = column;
  }

  /** Re-raises an exception found inside a Spark failure on the driver, keeping the Spark failure as cause. */
  public InvalidDatasetException(InvalidDatasetException found, Throwable sparkFailure) {
    super(found.getMessage(), sparkFailure);
    this.source = found.source;
    this.column = found.column;
  }

  /** Builds the standard message for one bad value in one row. */
  public static InvalidDatasetException atRow(
      String source, String column, String row, String expected, String actual) {
    return new InvalidDatasetException(source, column,
        "Invalid row in " + source + ": column '" + column + "', " + row + ": expected " + expected
            + ", found " + actual);
  }

  /** The file or directory (or a description of an in-memory source) that holds the bad data. */
  public String source() {
    return source;
  }

  /** The column at fault, or null when the problem is not about one column. */
  public String column() {
    return column;
  }

  /** The first InvalidDatasetException in the cause chain of {@code t} (t itself included). */
  public static Optional<InvalidDatasetException> findIn(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof InvalidDatasetException ide) {
        return Optional.of(ide);
      }
      if (c.getCause() == c) {
        break;
      }
    }
    return Optional.empty();
  }
}
