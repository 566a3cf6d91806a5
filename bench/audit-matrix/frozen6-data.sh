#!/bin/sh
# One-off builder of the frozen6 datasets of the audit benchmark matrix (DATASETS.md, split.ts).
# Writes ../shared/data/frozen6/<name>/ (data file + SOURCE.md with source and licence). R (Rscript) is used
# here ONLY as a converter from R's binary data packages to CSV; nothing in the project runs R or Python.
# Run as root once; the outputs are read by src/data/generators/matrix-datasets.ts.
set -eu
OUT=${1:-$(dirname "$0")/../../../shared/data/frozen6}
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends r-base-core r-cran-janeaustenr r-cran-cardata r-cran-aer \
  r-cran-modeldata >/dev/null
for d in austen-paragraphs wvs swiss-labor credit-data credit-card salaries; do mkdir -p "$OUT/$d"; done

Rscript --vanilla -e "source('$(dirname "$0")/write-csv.R')" -e '
data(WVS, package = "carData"); w(WVS, "wvs/wvs.csv")
data(SwissLabor, package = "AER"); w(SwissLabor, "swiss-labor/swiss-labor.csv")
data(credit_data, package = "modeldata"); w(credit_data, "credit-data/credit-data.csv")
data(CreditCard, package = "AER"); w(CreditCard, "credit-card/credit-card.csv")
data(Salaries, package = "carData"); w(Salaries, "salaries/salaries.csv")
# Jane Austen: the paragraphs of her six novels (runs of non-blank lines of austen_books(), joined by a space),
# in book order; title and chapter headings (no lower-case letter) left out. Labelled by the novel.
b <- janeaustenr::austen_books()
t <- b$text; bk <- as.character(b$book)
blank <- trimws(t) == ""
grp <- cumsum(blank | c(TRUE, bk[-1] != bk[-length(bk)]))
keep <- !blank
p <- tapply(trimws(t[keep]), grp[keep], paste, collapse = " ")
pb <- tapply(bk[keep], grp[keep], function(x) x[1])
p <- gsub("\\s+", " ", p)
ok <- grepl("[a-z]", p)
w(data.frame(paragraph = unname(p[ok]), book = unname(pb[ok])), "austen-paragraphs/austen-paragraphs.csv")
' "$OUT"

v() { dpkg-query -W -f='${Version}' "$1"; }
note() { printf '%s\n' "$2" > "$OUT/$1/SOURCE.md"; }
note austen-paragraphs "The paragraphs of Jane Austen's six completed novels (Sense and Sensibility, Pride and Prejudice, Mansfield Park, Emma, Northanger Abbey, Persuasion), from austen_books() of R package janeaustenr $(v r-cran-janeaustenr) (Debian r-cran-janeaustenr; Julia Silge; the texts from Project Gutenberg): runs of non-blank lines joined by a space, headings without a lower-case letter left out (10,068 paragraphs; the benchmark reads those of 20-300 characters), label book, written to CSV by Rscript. Licence: the novels are in the public domain; the package is MIT (janeaustenr DESCRIPTION; /usr/share/doc/r-cran-janeaustenr/copyright)."
note wvs "World Values Survey 1995-1997, 5,381 respondents of Australia, Norway, Sweden and the USA (WVS of R package carData $(v r-cran-cardata), Debian r-cran-cardata; Fox & Weisberg), every column kept, label poverty (is the government doing too little, about right or too much for people in poverty), written to CSV by Rscript. Licence: GPL (>= 2) (carData DESCRIPTION; /usr/share/doc/r-cran-cardata/copyright)."
note swiss-labor "Labour force participation of 872 Swiss women, 1981 health survey (SwissLabor of R package AER $(v r-cran-aer), Debian r-cran-aer; Gerfin 1996, Journal of Applied Econometrics), every column kept (income is the log of non-labour income, age in decades), label participation, written to CSV by Rscript. Licence: GPL-2 | GPL-3 (AER DESCRIPTION; Debian's copyright file: GPL-2+)."
note credit-data "Credit scoring data of 4,454 applicants (credit_data of R package modeldata $(v r-cran-modeldata), Debian r-cran-modeldata; from the website of Lluis A. Belanche Munoz by way of Gaston Sanchez's CreditScoring repository; the one row with a missing outcome removed by modeldata), every column kept (missing values kept as empty cells), label Status (good/bad), written to CSV by Rscript. Licence: MIT (modeldata DESCRIPTION; /usr/share/doc/r-cran-modeldata/copyright)."
note credit-card "Credit card applications of 1,319 people (CreditCard of R package AER $(v r-cran-aer), Debian r-cran-aer; Greene 2003, Econometric Analysis, Table F21.4), every column kept (reports, age, income, share, expenditure, owner, selfemp, dependents, months, majorcards, active), label card (was the application accepted: no/yes), written to CSV by Rscript. Licence: GPL-2 | GPL-3 (AER DESCRIPTION; Debian's copyright file: GPL-2+)."
note salaries "Nine-month salaries 2008-09 of 397 professors of a US college (Salaries of R package carData $(v r-cran-cardata); Fox & Weisberg), every column kept, label rank (AsstProf, AssocProf, Prof), written to CSV by Rscript. Licence: GPL (>= 2) (carData DESCRIPTION; /usr/share/doc/r-cran-cardata/copyright)."
echo "wrote $OUT"
