package io.sparkquant.data;

import java.util.Arrays;
import java.util.List;

/**
 * How to read a CSV file into the tensor format. At most one of label column name or index, or
 * {@link Builder#unlabelled()}; the features are the named columns, or the columns whose name starts with a
 * prefix, or by default every column that is neither the label nor the id, in file order. Build with
 * {@link #builder()}.
 */
public final class CsvOptions {

  private final String labelName;
  private final Integer labelIndex;
  private final String idName;
  private final boolean header;
  private final String delimiter;
  private final int[] shape;
  private final List<String> classNames;
  private final List<String> featureColumns;
  private final String featurePrefix;

  private CsvOptions(Builder b) {
    this.featureColumns = b.featureColumns;
    this.featurePrefix = b.featurePrefix;
    this.labelName = b.labelName;
    this.labelIndex = b.labelIndex;
    this.idName = b.idName;
    this.header = b.header;
    this.delimiter = b.delimiter;
    this.shape = b.shape == null ? null : b.shape.clone();
    this.classNames = b.classNames == null ? null : List.copyOf(b.classNames);
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Whether the CSV has no label column (data to predict on). */
  public boolean unlabelled() {
    return labelName == null && labelIndex == null;
  }

  /** The feature column names in this order, or null. */
  public List<String> featureColumns() {
    return featureColumns;
  }

  /** The prefix of the feature column names (in file order), or null. */
  public String featurePrefix() {
    return featurePrefix;
  }

  /** Label column name, or null when given by index or unlabelled. */
  public String labelName() {
    return labelName;
  }

  /** 0-based label column index, or null when given by name. */
  public Integer labelIndex() {
    return labelIndex;
  }

  /** Id column name, or null: ids are then the 0-based data row index in read order. */
  public String idName() {
    return idName;
  }

  public boolean header() {
    return header;
  }

  public String delimiter() {
    return delimiter;
  }

  /** Feature shape, or null for {@code [number of feature columns]}. */
  public int[] shape() {
    return shape == null ? null : shape.clone();
  }

  /** Class names, or null for "0".."max label". */
  public List<String> classNames() {
    return classNames;
  }

  @Override
  public String toString() {
    return "CsvOptions[label=" + (labelName != null ? labelName : "#" + labelIndex) + ", id=" + idName
        + ", header=" + header + ", delimiter='" + delimiter + "', shape=" + Arrays.toString(shape)
        + ", classNames=" + classNames
        + (featureColumns != null ? ", features=" + featureColumns : "")
        + (featurePrefix != null ? ", featurePrefix=" + featurePrefix : "") + "]";
  }

  /** Builder: setters check their own value, {@link #build()} checks combinations. */
  public static final class Builder {
    private String labelName;
    private Integer labelIndex;
    private String idName;
    private boolean header = true;
    private String delimiter = ",";
    private int[] shape;
    private List<String> classNames;
    private List<String> featureColumns;
    private String featurePrefix;
    private boolean unlabelled;

    private Builder() {}

    /** The CSV has no label column: rows of features and id only. */
    public Builder unlabelled() {
      this.unlabelled = true;
      return this;
    }

    /** The feature columns, by name, in this order (needs a header). */
    public Builder featureColumns(List<String> names) {
      if (names == null || names.isEmpty() || names.stream().anyMatch(n -> n == null || n.isBlank())) {
        throw new IllegalArgumentException("feature column names must be non-blank, got " + names);
      }
      this.featureColumns = List.copyOf(names);
      return this;
    }

    /** The feature columns are those whose name starts with {@code prefix}, in file order (needs a header). */
    public Builder featurePrefix(String prefix) {
      if (prefix == null || prefix.isEmpty()) {
        throw new IllegalArgumentException("feature column prefix must not be empty");
      }
      this.featurePrefix = prefix;
      return this;
    }

    public Builder labelColumn(String name) {
      if (name == null || name.isBlank()) {
        throw new IllegalArgumentException("label column name must not be blank");
      }
      this.labelName = name;
      return this;
    }

    public Builder labelColumn(int index) {
      if (index < 0) {
        throw new IllegalArgumentException("label column index must be >= 0, got " + index);
      }
      this.labelIndex = index;
      return this;
    }

    /** Requires a header. */
    public Builder idColumn(String name) {
      if (name == null || name.isBlank()) {
        throw new IllegalArgumentException("id column name must not be blank");
      }
      this.idName = name;
      return this;
    }

    public Builder header(boolean header) {
      this.header = header;
      return this;
    }

    public Builder delimiter(String delimiter) {
      if (delimiter == null || delimiter.isEmpty()) {
        throw new IllegalArgumentException("delimiter must not be empty");
      }
      this.delimiter = delimiter;
      return this;
    }

    public Builder shape(int... shape) {
      this.shape = new DatasetInfo(shape, List.of("x")).shape();
      return this;
    }

    public Builder classNames(List<String> classNames) {
      if (classNames == null || classNames.isEmpty()) {
        throw new IllegalArgumentException("classNames must not be empty");
      }
      this.classNames = List.copyOf(classNames);
      return this;
    }

    public CsvOptions build() {
      int labels = (labelName != null ? 1 : 0) + (labelIndex != null ? 1 : 0) + (unlabelled ? 1 : 0);
      if (labels != 1) {
        throw new IllegalArgumentException("give exactly one of label column name, label column index or unlabelled");
      }
      if (featureColumns != null && featurePrefix != null) {
        throw new IllegalArgumentException("give feature columns by name or by prefix, not both");
      }
      if (!header && (labelName != null || idName != null || featureColumns != null || featurePrefix != null)) {
        throw new IllegalArgumentException("columns can be named only when the CSV has a header; use an index");
      }
      return new CsvOptions(this);
    }
  }
}
