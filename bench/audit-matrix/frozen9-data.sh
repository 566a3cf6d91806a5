#!/bin/sh
# One-off builder of the frozen9 datasets of the audit benchmark matrix (DATASETS.md, split.ts).
# Writes ../shared/data/frozen9/<name>/ (data file + SOURCE.md with source and licence). R (Rscript) is used
# here ONLY as a converter from R's binary data packages to CSV; nothing in the project runs R or Python.
# Run as root once; the outputs are read by src/data/generators/matrix-datasets.ts.
set -eu
OUT=${1:-$(dirname "$0")/../../../shared/data/frozen9}
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends r-base-core r-cran-mlbench r-cran-modeldata r-cran-cardata fortune-mod \
  fortunes-mario >/dev/null
for d in fortunes-mario fine-foods vowel sonar cowles lending-club; do mkdir -p "$OUT/$d"; done

Rscript --vanilla -e "source('$(dirname "$0")/write-csv.R')" -e '
library(mlbench); library(modeldata); library(carData)
data(Vowel); w(Vowel, "vowel/vowel.csv")
data(Sonar); w(Sonar, "sonar/sonar.csv")
data(Cowles); w(Cowles, "cowles/cowles.csv")
data(lending_club); w(lending_club, "lending-club/lending-club.csv")
data(small_fine_foods); w(rbind(training_data, testing_data), "fine-foods/fine-foods.csv")
' "$OUT"

# Fortune files as Debian ships them (records separated by "%" lines).
for c in geral computadores piadas anagramas gauchismos palindromos; do
  cp /usr/share/games/fortunes/mario.$c "$OUT/fortunes-mario/$c"
done
cp /usr/share/doc/fortunes-mario/copyright "$OUT/fortunes-mario/COPYRIGHT"

v() { dpkg-query -W -f='${Version}' "$1"; }
note() { printf '%s\n' "$2" > "$OUT/$1/SOURCE.md"; }
note fortunes-mario "Brazilian Portuguese fortune cookies of six files (geral, computadores, piadas, anagramas, gauchismos, palindromos) of Debian package fortunes-mario $(v fortunes-mario) (Mario Domenech Goulart), copied as shipped; each file a class. Licence: GPL-2+ (/usr/share/doc/fortunes-mario/copyright, copied beside as COPYRIGHT)."
note fine-foods "Amazon fine food reviews, 5,000 reviews (training and test sets together), the review text and its score as great (5 stars) or other (small_fine_foods of R package modeldata $(v r-cran-modeldata), Debian r-cran-modeldata; McAuley & Leskovec 2013, SNAP), written to CSV by Rscript. Licence: MIT (modeldata DESCRIPTION; /usr/share/doc/r-cran-modeldata/copyright)."
note vowel "Deterding vowel recognition, 990 utterances of 11 British English vowels by 15 speakers, the speaker (V1, 15 levels) and 9 log-area-ratio numbers, the vowel as 11 classes whose names differ by case only (hid, hId, hEd, ...) (Vowel of R package mlbench $(v r-cran-mlbench); UCI Connectionist Bench (Vowel Recognition)), every column kept, label Class, written to CSV by Rscript. Licence: GPL-2 (mlbench DESCRIPTION; /usr/share/doc/r-cran-mlbench/copyright)."
note sonar "Gorman and Sejnowski sonar returns, 208 returns of 60 energy bands each, metal cylinder (M) or rock (R) (Sonar of R package mlbench $(v r-cran-mlbench); UCI Connectionist Bench (Sonar, Mines vs. Rocks)), every column kept, label Class, written to CSV by Rscript. Licence: GPL-2 (mlbench DESCRIPTION; /usr/share/doc/r-cran-mlbench/copyright)."
note cowles "Cowles and Davis's data on volunteering for a psychological experiment, 1,421 students, neuroticism and extraversion scores (integers) and sex, many exact duplicates, volunteer yes/no (Cowles of R package carData $(v r-cran-cardata), Debian r-cran-cardata; Cowles & Davis 1987), every column kept, label volunteer, written to CSV by Rscript. Licence: GPL-2+ (carData DESCRIPTION; /usr/share/doc/r-cran-cardata/copyright)."
note lending-club "Lending Club loans, 9,857 loans of 2016, 22 mixed columns (term, rate, grade, income, revolving utilisation, delinquencies and more), the loan as bad or good (about 5% bad) (lending_club of R package modeldata $(v r-cran-modeldata), Debian r-cran-modeldata; Lending Club statistics), every column kept, label Class, written to CSV by Rscript. Licence: MIT (modeldata DESCRIPTION; /usr/share/doc/r-cran-modeldata/copyright)."
echo "wrote $OUT"
