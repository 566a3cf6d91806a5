# Shared by the frozen*-data.sh builders: w(d, f) writes data frame d as CSV to f under the output folder given
# as the first argument. Numbers rounded to 8 significant digits (write.csv would print binary noise such as
# 3.00999999999999); missing values as empty cells.
out <- commandArgs(TRUE)[1]
w <- function(d, f) {
  d <- as.data.frame(d)
  d[] <- lapply(d, function(x) if (is.numeric(x)) signif(x, 8) else as.character(x))
  write.csv(d, file.path(out, f), row.names = FALSE, na = "")
}
