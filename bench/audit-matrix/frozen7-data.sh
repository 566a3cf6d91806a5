#!/bin/sh
# One-off builder of the frozen7 datasets of the audit benchmark matrix (DATASETS.md, split.ts).
# Writes ../shared/data/frozen7/<name>/ (data file + SOURCE.md with source and licence). R (Rscript) is used
# here ONLY as a converter from R's binary data packages to CSV; nothing in the project runs R or Python.
# Run as root once; the outputs are read by src/data/generators/matrix-datasets.ts.
set -eu
OUT=${1:-$(dirname "$0")/../../../shared/data/frozen7}
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends r-base-core r-cran-mlbench fortune-mod fortunes-it fortunes-pl >/dev/null
for d in fortunes-it fortunes-pl satellite soybean house-votes vehicle; do mkdir -p "$OUT/$d"; done

Rscript --vanilla -e "source('$(dirname "$0")/write-csv.R')" -e '
library(mlbench)
data(Satellite); w(Satellite, "satellite/satellite.csv")
data(Soybean); w(Soybean, "soybean/soybean.csv")
data(HouseVotes84); w(HouseVotes84, "house-votes/house-votes.csv")
data(Vehicle); w(Vehicle, "vehicle/vehicle.csv")
' "$OUT"

# Fortune files as Debian ships them (records separated by "%" lines).
for c in computer definizioni formiche leggi luke norm paolotedeschi zuse italia; do
  cp /usr/share/games/fortunes/it/$c "$OUT/fortunes-it/$c"
done
cp /usr/share/doc/fortunes-it/copyright "$OUT/fortunes-it/COPYRIGHT"
for c in argante bajki chuck-norris debian.pl dowcipy imiona linuxpl matura pld; do
  cp /usr/share/games/fortunes/pl/$c "$OUT/fortunes-pl/$c"
done
cp /usr/share/doc/fortunes-pl/copyright "$OUT/fortunes-pl/COPYRIGHT"

v() { dpkg-query -W -f='${Version}' "$1"; }
note() { printf '%s\n' "$2" > "$OUT/$1/SOURCE.md"; }
note fortunes-it "Italian fortune cookies of nine files (computer, definizioni, formiche, leggi, luke, norm, paolotedeschi, zuse, italia) of Debian package fortunes-it $(v fortunes-it), copied as shipped; each file a class. Licence: public domain (\"Consider this package freeware (public domain)\", /usr/share/doc/fortunes-it/copyright, copied beside as COPYRIGHT)."
note fortunes-pl "Polish fortune cookies of nine files (argante, bajki, chuck-norris, debian.pl, dowcipy, imiona, linuxpl, matura, pld) of Debian package fortunes-pl $(v fortunes-pl), copied as shipped; each file a class. Licence: GPL-2+ (/usr/share/doc/fortunes-pl/copyright, copied beside as COPYRIGHT)."
note satellite "Landsat multi-spectral scanner image data, 6,435 3x3 pixel neighbourhoods, 36 numbers (4 spectral bands x 9 pixels, 0-255) and the central pixel's soil or crop class (6 classes) (Satellite of R package mlbench $(v r-cran-mlbench), Debian r-cran-mlbench; UCI Statlog (Landsat Satellite)), every column kept, label classes, written to CSV by Rscript. Licence: GPL-2 (mlbench DESCRIPTION; /usr/share/doc/r-cran-mlbench/copyright)."
note soybean "Soybean disease diagnosis, 683 plants, 35 categorical attributes (many missing, kept as empty cells), the disease as 19 classes (Soybean of R package mlbench $(v r-cran-mlbench); UCI Soybean (Large)), every column kept, label Class, written to CSV by Rscript. Licence: GPL-2 (mlbench DESCRIPTION; /usr/share/doc/r-cran-mlbench/copyright)."
note house-votes "1984 United States Congressional voting records, 435 representatives, 16 key votes (y, n, or empty for not voting), party democrat/republican (HouseVotes84 of R package mlbench $(v r-cran-mlbench); UCI Congressional Voting Records), every column kept, label Class, written to CSV by Rscript. Licence: GPL-2 (mlbench DESCRIPTION; /usr/share/doc/r-cran-mlbench/copyright)."
note vehicle "Vehicle silhouettes, 846 images of four model vehicles described by 18 shape features (compactness, circularity, moments...), the vehicle as 4 classes bus, opel, saab, van (Vehicle of R package mlbench $(v r-cran-mlbench); UCI Statlog (Vehicle Silhouettes), Turing Institute), every column kept, label Class, written to CSV by Rscript. Licence: GPL-2 (mlbench DESCRIPTION; /usr/share/doc/r-cran-mlbench/copyright)."
echo "wrote $OUT"
