#!/bin/sh
# One-off builder of the frozen2 datasets of the audit benchmark matrix (DATASETS.md, split.ts).
# Writes ../shared/data/frozen2/<name>/ (data file + SOURCE.md with source and licence). R (Rscript) is used
# here ONLY as a converter from R's binary data packages to CSV; nothing in the project runs R or Python.
# Run as root once; the outputs are read by src/data/generators/matrix-datasets.ts.
set -eu
OUT=${1:-$(dirname "$0")/../../../shared/data/frozen2}
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends r-base-core r-cran-mass r-cran-kernlab r-cran-dslabs r-cran-ggplot2 \
  fortune-mod fortunes fortunes-de >/dev/null
mkdir -p "$OUT/fgl" "$OUT/olive" "$OUT/diamonds" "$OUT/spambase" "$OUT/fortunes-en" "$OUT/fortunes-de"

Rscript --vanilla -e '
out <- commandArgs(TRUE)[1]
# Numbers rounded to 8 significant digits (write.csv would print binary noise such as 3.00999999999999).
w <- function(d, f) {
  d[] <- lapply(d, function(x) if (is.numeric(x)) signif(x, 8) else x)
  write.csv(d, file.path(out, f), row.names = FALSE, na = "")
}
library(MASS); w(fgl, "fgl/fgl.csv")
data(olive, package = "dslabs"); w(olive[, setdiff(names(olive), "region")], "olive/olive.csv")
data(diamonds, package = "ggplot2"); w(as.data.frame(diamonds), "diamonds/diamonds.csv")
data(spam, package = "kernlab"); w(spam, "spambase/spambase.csv")
' "$OUT"

# Fortune files as Debian ships them (records separated by "%" lines).
for c in computers politics science work men-women art; do cp /usr/share/games/fortunes/$c "$OUT/fortunes-en/$c"; done
cp /usr/share/doc/fortunes/copyright "$OUT/fortunes-en/COPYRIGHT"
for c in zitate witze; do cp /usr/share/games/fortunes/de/$c "$OUT/fortunes-de/$c"; done
cp /usr/share/doc/fortunes-de/copyright "$OUT/fortunes-de/COPYRIGHT"

note() { printf '%s\n' "$2" > "$OUT/$1/SOURCE.md"; }
note fgl "Forensic glass (fgl), R package MASS $(dpkg-query -W -f='${Version}' r-cran-mass) (Debian r-cran-mass), written to CSV by Rscript write.csv. Venables & Ripley, Modern Applied Statistics with S; data from the UCI Glass Identification database (German 1987). Licence: GPL-2 | GPL-3 (MASS, /usr/share/doc/r-cran-mass/copyright)."
note olive "Olive oils (olive, column region dropped: it is a coarsening of area), R package dslabs $(dpkg-query -W -f='${Version}' r-cran-dslabs) (Debian r-cran-dslabs), written to CSV by Rscript. Forina et al. 1983, fatty-acid composition of Italian olive oils. Licence: Artistic-2.0 (dslabs, /usr/share/doc/r-cran-dslabs/copyright)."
note diamonds "Diamonds, R package ggplot2 $(dpkg-query -W -f='${Version}' r-cran-ggplot2) (Debian r-cran-ggplot2), written to CSV by Rscript. Licence: MIT per the package DESCRIPTION (ggplot2 3.4.x); Debian's /usr/share/doc/r-cran-ggplot2/copyright lists GPL-2.0+."
note spambase "Spambase (spam), R package kernlab $(dpkg-query -W -f='${Version}' r-cran-kernlab) (Debian r-cran-kernlab), written to CSV by Rscript. Hopkins, Reeber, Forman, Suermondt 1999, UCI Spambase. Licence: GPL-2 (kernlab DESCRIPTION); UCI: CC BY 4.0."
note fortunes-en "Fortune cookie files computers, politics, science, work, men-women, art from Debian package fortunes $(dpkg-query -W -f='${Version}' fortunes) (fortune-mod), copied verbatim. Licence: BSD (University of California, see COPYRIGHT beside this file)."
note fortunes-de "German fortune files zitate (quotations) and witze (jokes) from Debian package fortunes-de $(dpkg-query -W -f='${Version}' fortunes-de), copied verbatim. Licence: GPL-2+ (Andreas Tille, see COPYRIGHT beside this file)."
echo "wrote $OUT"
