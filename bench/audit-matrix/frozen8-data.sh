#!/bin/sh
# One-off builder of the frozen8 datasets of the audit benchmark matrix (DATASETS.md, split.ts).
# Writes ../shared/data/frozen8/<name>/ (data file + SOURCE.md with source and licence). R (Rscript) is used
# here ONLY as a converter from R's binary data packages to CSV; nothing in the project runs R or Python.
# Run as root once; the outputs are read by src/data/generators/matrix-datasets.ts.
set -eu
OUT=${1:-$(dirname "$0")/../../../shared/data/frozen8}
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends r-base-core r-cran-mlbench r-cran-kernlab fortune-mod fortunes-ru \
  fortunes-cs >/dev/null
for d in fortunes-ru fortunes-cs letter-recognition ionosphere shuttle income-survey; do mkdir -p "$OUT/$d"; done

Rscript --vanilla -e "source('$(dirname "$0")/write-csv.R')" -e '
library(mlbench)
data(LetterRecognition); w(LetterRecognition, "letter-recognition/letter-recognition.csv")
data(Ionosphere); w(Ionosphere, "ionosphere/ionosphere.csv")
data(Shuttle); w(Shuttle, "shuttle/shuttle.csv")
data(income, package = "kernlab"); w(income, "income-survey/income-survey.csv")
' "$OUT"

# Fortune files as Debian ships them (records separated by "%" lines).
for c in armenian computer fomenko love murphy polit war; do
  cp /usr/share/games/fortunes/ru/$c "$OUT/fortunes-ru/$c"
done
cp /usr/share/doc/fortunes-ru/copyright "$OUT/fortunes-ru/COPYRIGHT"
for c in citace citat klasik-cz klasik-sk market zemeplocha; do
  cp /usr/share/games/fortunes/cs/$c "$OUT/fortunes-cs/$c"
done
cp /usr/share/doc/fortunes-cs/copyright "$OUT/fortunes-cs/COPYRIGHT"

v() { dpkg-query -W -f='${Version}' "$1"; }
note() { printf '%s\n' "$2" > "$OUT/$1/SOURCE.md"; }
note fortunes-ru "Russian fortune cookies of seven files (armenian, computer, fomenko, love, murphy, polit, war) of Debian package fortunes-ru $(v fortunes-ru) (fortune-mod-ru, Pavel Maryanov), copied as shipped; each file a class. Licence: GPL-2 (/usr/share/doc/fortunes-ru/copyright, copied beside as COPYRIGHT)."
note fortunes-cs "Czech and Slovak fortune cookies of six files (citace, citat, klasik-cz, klasik-sk, market, zemeplocha) of Debian package fortunes-cs $(v fortunes-cs) (Zdenek Pytela), copied as shipped; each file a class. Licence: GPL-3+ (/usr/share/doc/fortunes-cs/copyright, copied beside as COPYRIGHT)."
note letter-recognition "Letter image recognition, 20,000 black-and-white capital letters of 20 fonts, randomly distorted, described by 16 integer features 0-15 (box position and size, pixel counts, moments, edge counts), the letter as 26 classes A-Z (LetterRecognition of R package mlbench $(v r-cran-mlbench), Debian r-cran-mlbench; UCI Letter Recognition, Frey & Slate 1991), every column kept, label lettr, written to CSV by Rscript. Licence: GPL-2 (mlbench DESCRIPTION; /usr/share/doc/r-cran-mlbench/copyright)."
note ionosphere "Johns Hopkins ionosphere radar returns, 351 returns of 16 high-frequency antennas, 34 numbers (17 pulse numbers, real and imaginary parts of the autocorrelation; V1 0/1 and V2 always 0 as R factors), the return as good (structure in the ionosphere) or bad (Ionosphere of R package mlbench $(v r-cran-mlbench); UCI Ionosphere, Sigillito et al. 1989), every column kept, label Class, written to CSV by Rscript. Licence: GPL-2 (mlbench DESCRIPTION; /usr/share/doc/r-cran-mlbench/copyright)."
note shuttle "Space shuttle radiator positions, 58,000 rows (the UCI training and test files together), 9 integer sensor readings, the radiator state as 7 heavily imbalanced classes (Rad.Flow about 79%; Bpv.Close 10 rows) (Shuttle of R package mlbench $(v r-cran-mlbench); UCI Statlog (Shuttle), NASA, Jason Catlett), every column kept, label Class, written to CSV by Rscript. Licence: GPL-2 (mlbench DESCRIPTION; /usr/share/doc/r-cran-mlbench/copyright)."
note income-survey "Customer income from a marketing survey, 8,993 shopping-mall customers of the San Francisco Bay area, 13 coded demographic attributes (nominal and ordinal, many missing, kept as empty cells), the annual household income as 9 ordered bands (income of R package kernlab $(v r-cran-kernlab), Debian r-cran-kernlab; Impact Resources, Inc., Columbus OH, 1987; Hastie, Tibshirani & Friedman, The Elements of Statistical Learning), every column kept, label INCOME, written to CSV by Rscript. Licence: GPL-2 (kernlab DESCRIPTION; /usr/share/doc/r-cran-kernlab/copyright)."
echo "wrote $OUT"
