#!/bin/sh
# One-off builder of the frozen4 datasets of the audit benchmark matrix (DATASETS.md, split.ts).
# Writes ../shared/data/frozen4/<name>/ (data file + SOURCE.md with source and licence). R (Rscript) is used
# here ONLY as a converter from R's binary data packages to CSV; nothing in the project runs R or Python.
# Run as root once; the outputs are read by src/data/generators/matrix-datasets.ts.
set -eu
OUT=${1:-$(dirname "$0")/../../../shared/data/frozen4}
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends r-base-core r-cran-cardata r-cran-dslabs fortune-mod fortunes >/dev/null
for d in arrests chile beps wells contagious-diseases fortunes-topics; do mkdir -p "$OUT/$d"; done

Rscript --vanilla -e '
out <- commandArgs(TRUE)[1]
# Numbers rounded to 8 significant digits (write.csv would print binary noise such as 3.00999999999999).
w <- function(d, f) {
  d[] <- lapply(d, function(x) if (is.numeric(x)) signif(x, 8) else as.character(x))
  write.csv(d, file.path(out, f), row.names = FALSE, na = "")
}
library(carData); library(dslabs)
w(Arrests, "arrests/arrests.csv")
w(Chile[!is.na(Chile$vote), ], "chile/chile.csv")
w(BEPS, "beps/beps.csv")
w(Wells, "wells/wells.csv")
data(us_contagious_diseases); w(us_contagious_diseases, "contagious-diseases/contagious-diseases.csv")
' "$OUT"

# English fortune files as Debian ships them (records separated by "%" lines); none of the files frozen2's
# fortunes-en copied (computers, politics, science, work, men-women, art).
for c in drugs education food law literature love sports; do
  cp /usr/share/games/fortunes/$c "$OUT/fortunes-topics/$c"
done
cp /usr/share/doc/fortunes/copyright "$OUT/fortunes-topics/COPYRIGHT"

v() { dpkg-query -W -f='${Version}' "$1"; }
note() { printf '%s\n' "$2" > "$OUT/$1/SOURCE.md"; }
note arrests "Arrests for possession of small quantities of marijuana in Toronto (Toronto Star data; Arrests, 5,226 rows, every column kept), label released, R package carData $(v r-cran-cardata) (Debian r-cran-cardata; Fox & Weisberg, An R Companion to Applied Regression), written to CSV by Rscript. Licence: GPL (>= 2) (carData DESCRIPTION; /usr/share/doc/r-cran-cardata/copyright)."
note chile "Survey of voting intentions before the 1988 Chilean plebiscite (FLACSO/Chile; Chile of carData $(v r-cran-cardata)), the 168 rows with no vote dropped (2,532 rows; missing age, education, income and statusquo kept as empty cells), written to CSV by Rscript. Licence: GPL (>= 2) (carData)."
note beps "British Election Panel Study 1997-2001 (BEPS of carData $(v r-cran-cardata), 1,525 rows, every column kept), label vote, written to CSV by Rscript. Licence: GPL (>= 2) (carData)."
note wells "Bangladesh households near wells with high arsenic: did they switch wells (Gelman & Hill 2007; Wells of carData $(v r-cran-cardata), 3,020 rows, every column kept), written to CSV by Rscript. Licence: GPL (>= 2) (carData)."
note contagious-diseases "Yearly reported cases of seven contagious diseases per US state 1928-2011 (us_contagious_diseases of R package dslabs $(v r-cran-dslabs), Debian r-cran-dslabs; original data Project Tycho), 16,065 rows, every column kept (population missing in 214 rows), label disease, written to CSV by Rscript. Licence: Artistic-2.0 (dslabs DESCRIPTION; /usr/share/doc/r-cran-dslabs/copyright)."
note fortunes-topics "English fortune cookie files drugs, education, food, law, literature, love and sports from Debian package fortunes $(v fortunes) (fortune-mod), copied verbatim. Licence: BSD (University of California, see COPYRIGHT beside this file)."
echo "wrote $OUT"
