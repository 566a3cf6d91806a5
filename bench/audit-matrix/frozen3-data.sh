#!/bin/sh
# One-off builder of the frozen3 datasets of the audit benchmark matrix (DATASETS.md, split.ts).
# Writes ../shared/data/frozen3/<name>/ (data file + SOURCE.md with source and licence). R (Rscript) is used
# here ONLY as a converter from R's binary data packages to CSV; nothing in the project runs R or Python.
# Run as root once; the outputs are read by src/data/generators/matrix-datasets.ts.
set -eu
OUT=${1:-$(dirname "$0")/../../../shared/data/frozen3}
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends r-base-core r-cran-mass r-cran-dslabs r-cran-ggplot2 \
  fortune-mod fortunes-es >/dev/null
for d in mpg midwest biopsy pima gapminder trump-tweets fortunes-es; do mkdir -p "$OUT/$d"; done

Rscript --vanilla -e '
out <- commandArgs(TRUE)[1]
# Numbers rounded to 8 significant digits (write.csv would print binary noise such as 3.00999999999999).
w <- function(d, f) {
  d[] <- lapply(d, function(x) if (is.numeric(x)) signif(x, 8) else as.character(x))
  write.csv(d, file.path(out, f), row.names = FALSE, na = "")
}
library(ggplot2); library(MASS); library(dslabs)
m <- as.data.frame(mpg); w(m[, setdiff(names(m), "model")], "mpg/mpg.csv")
mw <- as.data.frame(midwest); w(mw[, setdiff(names(mw), c("PID", "county", "category"))], "midwest/midwest.csv")
w(biopsy[, setdiff(names(biopsy), "ID")], "biopsy/biopsy.csv")
w(rbind(Pima.tr, Pima.te), "pima/pima.csv")
data(gapminder); w(gapminder[, setdiff(names(gapminder), c("country", "region"))], "gapminder/gapminder.csv")
data(trump_tweets)
t <- trump_tweets[trump_tweets$source %in% c("Twitter for Android", "Twitter for iPhone", "Twitter Web Client"), ]
t$text <- gsub("[\r\n]+", " ", t$text)
w(data.frame(text = t$text, source = t$source), "trump-tweets/trump-tweets.csv")
' "$OUT"

# Spanish fortune files as Debian ships them (records separated by "%" lines; the UTF-8 copies).
for c in refranes sentimientos leydemurphy poder ciencia; do
  cp /usr/share/games/fortunes/es/$c.fortunes.u8 "$OUT/fortunes-es/$c"
done
cp /usr/share/doc/fortunes-es/copyright "$OUT/fortunes-es/COPYRIGHT"

v() { dpkg-query -W -f='${Version}' "$1"; }
note() { printf '%s\n' "$2" > "$OUT/$1/SOURCE.md"; }
note mpg "Fuel economy of 234 cars (mpg, column model dropped: it names the class), R package ggplot2 $(v r-cran-ggplot2) (Debian r-cran-ggplot2), written to CSV by Rscript. EPA fueleconomy.gov data. Licence: MIT per the package DESCRIPTION; Debian's copyright file lists GPL-2.0+."
note midwest "Demographics of 437 Midwest counties (midwest; PID, county and category dropped), label state, R package ggplot2 $(v r-cran-ggplot2), written to CSV by Rscript. US Census 2000. Licence: as mpg."
note biopsy "Wisconsin breast cancer biopsies, 699 rows, nine integer scores 1-10 (many exact duplicates), column ID dropped, R package MASS $(v r-cran-mass) (Debian r-cran-mass), written to CSV by Rscript. Wolberg & Mangasarian 1990, UCI. Licence: GPL-2 | GPL-3 (MASS)."
note pima "Pima Indians diabetes (Pima.tr and Pima.te of MASS $(v r-cran-mass), 532 rows), written to CSV by Rscript. Smith et al. 1988, UCI/NIDDK. Licence: GPL-2 | GPL-3 (MASS)."
note gapminder "Gapminder country-years 1960-2016 (10,545 rows, missing values kept), label continent, country and region dropped (they name the continent), R package dslabs $(v r-cran-dslabs) (Debian r-cran-dslabs), written to CSV by Rscript. Licence: Artistic-2.0 (dslabs); Gapminder data CC BY 4.0."
note trump-tweets "Tweets of the account @realDonaldTrump 2009-2018 (trump_tweets of dslabs $(v r-cran-dslabs)), the three main sources kept (Twitter Web Client, Twitter for Android, Twitter for iPhone), line breaks in a tweet turned into spaces, written to CSV by Rscript. Licence: Artistic-2.0 (dslabs); public statements."
note fortunes-es "Spanish fortune files refranes, sentimientos, leydemurphy, poder and ciencia (the .u8 UTF-8 copies) from Debian package fortunes-es $(v fortunes-es), copied verbatim. Licence: GPL-2+ for the package; the fortunes presumed public domain (see COPYRIGHT beside this file)."
echo "wrote $OUT"
