#!/bin/sh
# One-off builder of the frozen5 datasets of the audit benchmark matrix (DATASETS.md, split.ts).
# Writes ../shared/data/frozen5/<name>/ (data file + SOURCE.md with source and licence). R (Rscript) is used
# here ONLY as a converter from R's binary data packages (and WordNet's data file) to CSV; nothing in the
# project runs R or Python. Run as root once; the outputs are read by src/data/generators/matrix-datasets.ts.
set -eu
OUT=${1:-$(dirname "$0")/../../../shared/data/frozen5}
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends r-base-core r-cran-cardata r-cran-aer r-cran-modeldata \
  r-cran-palmerpenguins wordnet-base >/dev/null
for d in wordnet-nouns penguins titanic hpc-jobs cell-segmentation cps1985; do mkdir -p "$OUT/$d"; done

Rscript --vanilla -e "source('$(dirname "$0")/write-csv.R')" -e '
data(penguins, package = "palmerpenguins"); w(penguins, "penguins/penguins.csv")
data(TitanicSurvival, package = "carData"); w(TitanicSurvival, "titanic/titanic.csv")
data(hpc_data, package = "modeldata"); w(hpc_data, "hpc-jobs/hpc-jobs.csv")
data(cells, package = "modeldata"); w(cells[, setdiff(names(cells), "case")], "cell-segmentation/cell-segmentation.csv")
data(CPS1985, package = "AER"); w(CPS1985, "cps1985/cps1985.csv")
# WordNet 3.0 noun synsets of six lexicographer files (lexnames(5WN): 05 animal, 08 body, 13 food,
# 15 location, 20 plant, 27 substance): the gloss (definition and examples) as WordNet writes it, in file order.
lex <- c("05" = "noun.animal", "08" = "noun.body", "13" = "noun.food", "15" = "noun.location",
         "20" = "noun.plant", "27" = "noun.substance")
l <- readLines("/usr/share/wordnet/data.noun", encoding = "UTF-8")
l <- l[!startsWith(l, "  ")]
f <- substr(l, 10, 11)
l <- l[f %in% names(lex)]; f <- f[f %in% names(lex)]
g <- trimws(sub("^[^|]*\\| ", "", l))
w(data.frame(gloss = g, lexfile = unname(lex[f])), "wordnet-nouns/wordnet-nouns.csv")
' "$OUT"
cp /usr/share/doc/wordnet-base/copyright "$OUT/wordnet-nouns/COPYRIGHT"

v() { dpkg-query -W -f='${Version}' "$1"; }
note() { printf '%s\n' "$2" > "$OUT/$1/SOURCE.md"; }
note wordnet-nouns "Glosses (definition and examples, as WordNet writes them) of the noun synsets of six WordNet 3.0 lexicographer files (noun.animal, noun.body, noun.food, noun.location, noun.plant, noun.substance; 26,320 synsets, label lexfile), read from /usr/share/wordnet/data.noun of Debian package wordnet-base $(v wordnet-base) and written to CSV by Rscript. Princeton University, WordNet 3.0 (Miller 1995; Fellbaum 1998). Licence: WordNet 3.0 licence (BSD-like, permission to use, copy, modify and distribute with the copyright notice kept; see COPYRIGHT beside this file, Debian's copyright file)."
note penguins "Palmer Archipelago (Antarctica) penguins, 344 birds (penguins of R package palmerpenguins $(v r-cran-palmerpenguins), Debian r-cran-palmerpenguins; Gorman, Williams & Fraser 2014, Palmer Station LTER), every column kept (missing measurements and sex kept as empty cells), label species, written to CSV by Rscript. Licence: CC0 (palmerpenguins DESCRIPTION; /usr/share/doc/r-cran-palmerpenguins/copyright)."
note titanic "Survival of 1,309 passengers of the Titanic (TitanicSurvival of R package carData $(v r-cran-cardata), Debian r-cran-cardata; Frank Harrell's titanic3 data, from the Encyclopedia Titanica via Thomas Cason), every column kept (age missing in 263 rows), label survived, written to CSV by Rscript. Licence: GPL (>= 2) (carData DESCRIPTION; /usr/share/doc/r-cran-cardata/copyright)."
note hpc-jobs "Jobs of a high-performance computing system, 4,331 rows (hpc_data of R package modeldata $(v r-cran-modeldata), Debian r-cran-modeldata; Kuhn & Johnson 2013, Applied Predictive Modeling), every column kept, label class (completion time VF, F, M, L), written to CSV by Rscript. Licence: MIT (modeldata DESCRIPTION; /usr/share/doc/r-cran-modeldata/copyright)."
note cell-segmentation "Cell body segmentation of a high-content screen, 2,019 cells and 56 imaging measurements (cells of R package modeldata $(v r-cran-modeldata); Hill, LaPan, Li & Haney 2007, BMC Bioinformatics 8:340), column case (the original train/test split) dropped, label class (PS poorly, WS well segmented), written to CSV by Rscript. Licence: MIT (modeldata)."
note cps1985 "Wages of 534 workers from the May 1985 Current Population Survey (CPS1985 of R package AER $(v r-cran-aer), Debian r-cran-aer; Berndt 1991, The Practice of Econometrics; StatLib CPS_85_Wages), every column kept, label occupation (6 classes), written to CSV by Rscript. Licence: GPL-2 | GPL-3 (AER DESCRIPTION; Debian's copyright file: GPL-2+)."
echo "wrote $OUT"
