# Clean controls from R's bundled datasets: every data frame of the listed packages with 250 to 30,000 rows,
# 2 to 60 columns and a text or logical column of 2 to 8 values, each at least 10 times (the last such column is
# the label). Written to the folder given as the first argument as <package>__<dataset>__<label>.csv, with an
# added row_id; the trusted and incoming files of each split beside it (a seeded shuffle: 100 rows, and 20%).
# Datasets the audit matrix uses are left out (bench/audit-matrix/DATASETS.md).
out <- commandArgs(TRUE)[1]
seed <- as.integer(commandArgs(TRUE)[2])
pk <- c("MASS", "datasets", "rpart", "survival", "AER", "carData", "dslabs", "mlbench", "modeldata",
        "palmerpenguins", "kernlab", "e1071", "ipred", "lme4", "boot", "nlme", "caret", "forcats", "ggplot2",
        "dplyr", "tidyr")
used <- c("ad_data", "scat", "oils", "two_class_dat", "mlc_churn", "pathology", "DNA", "Glass", "Zoo",
          "BreastCancer", "HMDA", "Mroz", "Womenlf", "Sonar", "adult", "iris", "biopsy", "lending_club",
          "spam", "Satellite", "penguins")
dir.create(out, showWarnings = FALSE, recursive = TRUE)
split <- function(x, name, n) {
  d <- file.path(out, paste0(name, "-", n))
  dir.create(d, showWarnings = FALSE)
  set.seed(seed)
  o <- sample(nrow(x))
  k <- if (n < 1) round(nrow(x) * n) else n
  write.csv(x[o[1:k], ], file.path(d, "trusted.csv"), row.names = FALSE)
  write.csv(x[o[(k + 1):nrow(x)], ], file.path(d, "incoming.csv"), row.names = FALSE)
}
for (p in pk) {
  if (!requireNamespace(p, quietly = TRUE)) next
  for (d in sub(" .*", "", data(package = p)$results[, "Item"])) {
    if (d %in% used) next
    e <- new.env()
    ok <- tryCatch({ data(list = d, package = p, envir = e); TRUE }, error = function(e) FALSE,
                   warning = function(w) FALSE)
    if (!ok || !exists(d, envir = e)) next
    x <- get(d, envir = e)
    if (!is.data.frame(x)) next
    x <- as.data.frame(x)
    if (nrow(x) < 250 || nrow(x) > 30000 || ncol(x) < 2 || ncol(x) > 60) next
    few <- sapply(x, function(v) {
      u <- unique(v[!is.na(v)])
      (is.factor(v) || is.character(v) || is.logical(v)) && length(u) >= 2 && length(u) <= 8
    })
    if (!any(few)) next
    label <- names(x)[max(which(few))]
    if (min(table(x[[label]])) < 10) next
    x <- cbind(row_id = seq_len(nrow(x)), x)
    name <- paste0(p, "__", d, "__", label)
    split(x, name, 100)
    split(x, name, 0.2)
  }
}
