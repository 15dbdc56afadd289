#!/usr/bin/env bash
# Fetches the training and validation images: the DFSG-free Debian packages named in
# ../shared/DATA.md, and nothing else (any other photo collection stays an independent test).
#
#   scripts/fetch-data.sh [OUTDIR]      (default: data)
#
# makes two data sets, each with train/, val/, groups.tsv (split, group, file) and
# packages.txt (package versions):
#
#   OUTDIR/photos      the primary set: every photograph of the photographic packages and of
#                      the wallpaper packages; train/ also holds 2x and 4x area-filtered
#                      downscales (*.d2.png, *.d4.png) of the photographs whose shorter side
#                      stays >= 256 pixels. gcompris' photographs are heavily compressed lossy
#                      WebP: train/ has only their downscales, val/ the originals.
#   OUTDIR/photos-d2   val/: the validation photographs downscaled 2x (not decoded JPEGs).
#   OUTDIR/photos-nj   links: photos/train without its JPEG originals, photos-d2/val (the
#                      data of the shipped model from run p3 to s6).
#   OUTDIR/photos-lj   photos-nj plus the JPEG originals of photos/train decoded by libjpeg
#                      (djpeg: smooth chroma upsampling, as most tools decode a JPEG), in
#                      photos-lj/train/*.lj.png (the data of run s7 on).
#   OUTDIR/photos-dec  val/: the validation photographs as most software decodes them
#                      (JPEG by libjpeg, WebP by libwebp, both with smooth chroma; the PNGs
#                      as they are): the model's inputs when a decoded JPEG arrives as PNG.
#   OUTDIR/photos-ycc  the Y'CbCr planes (datatool ycc: R = Y', G = Cb, B = Cr, chroma repeated
#                      over its block) of every JPEG and WebP original of the photographic split,
#                      gcompris' training WebPs included: what payload mode 2 codes, the data of
#                      a model of those planes (run y1 on).
#   OUTDIR/wallpapers  the secondary set: every raster image of the wallpaper packages.
#
# Splits are by *group* (all sizes, light/dark variants and downscales of one picture), listed
# in scripts/validation-groups.txt (wallpapers) and scripts/photo-validation.txt (photos), so
# no validation image, nor a resized copy of one, is ever seen in training. The photographic
# validation groups of the new packages were drawn by the lowest sha256 of the group name
# within each package (3 enlightenment, 8 gcompris, 3 lxqt, 4 tuxpaint, 1 palapeli), plus
# the six wallpaper photographs that were already validation images.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-data}
wallpkgs=(mate-backgrounds=1.26.0-1 plasma-workspace-wallpapers=4:5.27.5-2
          ukui-wallpapers=20.04.3-1.1 gnome-backgrounds=43.1-1 lomiri-wallpapers=20.04.0-2
          lomiri-wallpapers-20.04=20.04.0-2 lomiri-wallpapers-16.04=20.04.0-2 sway-backgrounds=1.7-6)
photopkgs=(enlightenment-data=0.25.4-2 gcompris-qt-data=3.1-2 lxqt-themes=1.2.0-1
           tuxpaint-data=1:0.9.28-sdl2-1 digikam-data=4:7.9.0-1 palapeli-data=4:22.12.3-1
           sddm-theme-maldives=0.19.0-5)
# Tools, not images: libjpeg-turbo's djpeg and libwebp's dwebp decode photographs the way most
# software does (unpacked here, not installed). Their outputs do not change between patch
# releases, which security updates replace on the mirrors: if a pinned one is gone, the
# current one is taken (packages.txt records which).
toolpkgs=(libjpeg-turbo-progs=1:2.1.5-2 libjpeg62-turbo=1:2.1.5-2 webp=1.2.4-0.2+deb12u1
          libwebp7=1.2.4-0.2+deb12u1 libwebpdemux2=1.2.4-0.2+deb12u1 libpng16-16)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/datatool" "$here/datatool"
dt=$work/datatool

# Download and unpack every package into $work/x/PKG.
if ! (cd "$work" && apt-get download "${wallpkgs[@]}" "${photopkgs[@]}" >/dev/null 2>&1); then
  echo "apt-get download failed; running apt-get update first" >&2
  apt-get update >/dev/null
  (cd "$work" && apt-get download "${wallpkgs[@]}" "${photopkgs[@]}" >/dev/null)
fi
if ! (cd "$work" && apt-get download "${toolpkgs[@]}" >/dev/null 2>&1); then
  echo "a pinned decoder package is gone from the mirror; taking the current ones" >&2
  (cd "$work" && apt-get download "${toolpkgs[@]%%=*}" >/dev/null)
fi
for deb in "$work"/*.deb; do
  pkg=$(dpkg-deb -f "$deb" Package)
  mkdir -p "$work/x/$pkg"
  dpkg -x "$deb" "$work/x/$pkg"
  echo "$pkg $(dpkg-deb -f "$deb" Version)" >> "$work/versions"
  rm "$deb"
done

# ---- wallpapers ----

# group KEY for an image path inside a wallpaper package.
group() {
  local p=$1 b
  case "$p" in
    */usr/share/wallpapers/*) p=${p#*/usr/share/wallpapers/}; echo "plasma/${p%%/*}"; return;;
    */backgrounds/sway/*) echo "sway/Sway_Wallpaper_Blue"; return;;
  esac
  b=$(basename "$p"); b=${b%.*}
  b=$(echo "$b" | sed -E 's/-(l|d)$//; s/_[0-9]+x[0-9]+$//')
  echo "$(basename "$(dirname "$p")")/$b"
}

# Which wallpaper groups are photographs (../shared/DATA.md: 38 of the 129 images).
is_photo() {
  case "$1" in
    nature/*) return 0;;
    plasma/BytheWater|plasma/ColdRipple|plasma/ColorfulCups|plasma/DarkestHour|plasma/EveningGlow|\
    plasma/FallenLeaf|plasma/Grey|plasma/Kite|plasma/OneStandsOut|plasma/Path|plasma/summer_1am) return 0;;
    backgrounds/Kleiber_by_Lukas_Baubkus) return 0;;
  esac
  return 1
}

mkdir -p "$out/wallpapers/train" "$out/wallpapers/val" "$out/photos/train" "$out/photos/val"
rm -f "$out/wallpapers/train/"* "$out/wallpapers/val/"* "$out/wallpapers/groups.tsv"
rm -f "$out/photos/train/"* "$out/photos/val/"* "$out/photos/groups.tsv"
photos=$work/photos.tsv # group TAB file, the photographs before the split
for pkg in "${wallpkgs[@]}"; do pkg=${pkg%%=*}
  while IFS= read -r f; do
    rel=${f#"$work/x/"}
    g=$(group "$rel")
    split=train
    grep -qxF "$g" "$here/validation-groups.txt" && split=val
    name="${pkg}__$(echo "${rel#*/usr/share/}" | tr '/' '_')"
    cp "$f" "$out/wallpapers/$split/$name"
    printf '%s\t%s\t%s\n' "$split" "$g" "$name" >> "$out/wallpapers/groups.tsv"
    photo=0
    is_photo "$g" && photo=1
    # lomiri-wallpapers-16.04: all photographs but one pattern.
    [[ $pkg == lomiri-wallpapers-16.04 && $g != backgrounds/analogpattern_by_Peter_Nerlich ]] && photo=1
    [[ $photo == 1 ]] && printf '%s\t%s\n' "$g" "$f" >> "$photos"
  done < <(find "$work/x/$pkg" -type f \( -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.png' -o -iname '*.webp' \) ! -name 'screenshot.*' | sort)
done

# ---- photographs of the photographic packages ----
px=$work/px
mkdir -p "$px"
for f in "$work/x/enlightenment-data/usr/share/enlightenment/data/backgrounds/"*.edj; do
  b=$(basename "$f" .edj)
  case $b in Dunes|Flat-Fan|Sunset-Hills|Flat-Stone-Pattern|Squiggle*) continue;; esac # synthetic
  "$dt" eet "$f" "$px/enlightenment-data__$b.jpg"
  printf 'enlightenment-data/%s\t%s\n' "$b" "$px/enlightenment-data__$b.jpg" >> "$photos"
done
mkdir -p "$px/gcompris"
for r in erase explore_monuments explore_world_animals clickgame explore_farm_animals explore_world_music; do
  "$dt" rcc "$work/x/gcompris-qt-data/usr/share/gcompris-qt/rcc/$r.rcc" "$px/gcompris" "gcompris-qt-data__${r}_" 256
done
rm -f "$px/gcompris/gcompris-qt-data__erase_squirrel.webp"
for f in "$px/gcompris/"*.webp; do
  b=$(basename "$f" .webp)
  # The same animal appears in several activities: one group per animal.
  printf 'gcompris-qt-data/%s\t%s\n' "${b##*_}" "$f" >> "$photos"
done
for b in butterfly flowers appleflower beam cloud drop Valendas after-the-rain fog this-is-not-windows Butterfly-Kenneth-Wimer; do
  f=$(ls "$work/x/lxqt-themes/usr/share/lxqt/wallpapers/$b".*)
  printf 'lxqt-themes/%s\t%s\n' "$b" "$f" >> "$photos"
done
for f in "$work/x/tuxpaint-data/usr/share/tuxpaint/templates/"*.jpg; do
  printf 'tuxpaint-data/%s\t%s\n' "$(basename "$f" .jpg)" "$f" >> "$photos"
done
for f in "$work/x/palapeli-data/usr/share/palapeli/collection/"*.jpg; do
  printf 'palapeli-data/%s\t%s\n' "$(basename "$f" .jpg)" "$f" >> "$photos"
done
printf 'digikam-data/body-background\t%s\n' "$work/x/digikam-data/usr/share/digikam/about/images/body-background.jpg" >> "$photos"
printf 'sddm-theme-maldives/background\t%s\n' "$work/x/sddm-theme-maldives/usr/share/sddm/themes/maldives/background.jpg" >> "$photos"

# ---- the photographic split, with downscales on the training side ----
rm -rf "$out/photos-ycc"
mkdir -p "$out/photos-ycc/train" "$out/photos-ycc/val"
while IFS=$'\t' read -r g f; do
  split=train
  grep -qxF "$g" "$here/photo-validation.txt" && split=val
  case $f in
    "$px"/*) name=$(basename "$f");;
    *) rel=${f#"$work/x/"}; name="${rel%%/*}__$(echo "${rel#*/usr/share/}" | tr '/' '_')";;
  esac
  gc=0
  [[ $g == gcompris-qt-data/* ]] && gc=1
  if [[ $split == val || $gc == 0 ]]; then
    cp "$f" "$out/photos/$split/$name"
    printf '%s\t%s\t%s\n' "$split" "$g" "$name" >> "$out/photos/groups.tsv"
  fi
  case $f in
    *.jpg|*.jpeg|*.webp) # grayscale and CMYK JPEGs have no such planes: skipped
      if "$dt" ycc "$f" "$out/photos-ycc/$split/${name%.*}.ycc.png" 2>/dev/null; then
        printf '%s\t%s\t%s\n' "$split" "$g" "${name%.*}.ycc.png" >> "$out/photos-ycc/groups.tsv"
      fi;;
  esac
  if [[ $split == train ]]; then
    "$dt" down "$f" "$out/photos/train/${name%.*}" 256
    for d in "$out/photos/train/${name%.*}".d?.png; do
      [[ -e $d ]] && printf '%s\t%s\t%s\n' train "$g" "$(basename "$d")" >> "$out/photos/groups.tsv"
    done
  fi
done < "$photos"

# The validation photographs downscaled 2x (area filter): photographs that are not decoded
# JPEGs, the model's actual inputs since decoded JPEGs go through their Y'CbCr planes.
mkdir -p "$out/photos-d2/val" "$out/photos-d2/train"
rm -f "$out/photos-d2/val/"*
for f in "$out/photos/val/"*; do
  b=$(basename "$f")
  "$dt" down "$f" "$work/d2" 128
  mv "$work/d2.d2.png" "$out/photos-d2/val/${b%.*}.d2.png"
  rm -f "$work/d2.d4.png"
done

# The training set of the model since run p3: photos/train without the JPEG originals (the
# model never codes a decoded JPEG: those go through their Y'CbCr planes), validated on
# photos-d2/val. Links, not copies.
rm -rf "$out/photos-nj"
mkdir -p "$out/photos-nj/train" "$out/photos-nj/val"
for f in "$out/photos/train/"*; do
  [[ $f == *.jpg ]] || ln -s "../../photos/train/$(basename "$f")" "$out/photos-nj/train/"
done
for f in "$out/photos-d2/val/"*; do
  ln -s "../../photos-d2/val/$(basename "$f")" "$out/photos-nj/val/"
done

# photos-nj plus the JPEG training originals decoded by libjpeg (default settings: smooth
# "fancy" chroma upsampling, the accurate integer IDCT). Go's decoder repeats each chroma
# sample over its block, so those images go through their Y'CbCr planes and never reach the
# model; a JPEG turned into PNG by almost any other software is decoded like this, and does.
rm -rf "$out/photos-lj" "$out/lj-src"
mkdir -p "$out/photos-lj/train" "$out/photos-lj/val" "$out/lj-src"
djpeg=$work/x/libjpeg-turbo-progs/usr/bin/djpeg
dwebp=$work/x/webp/usr/bin/dwebp
libs=$(printf '%s:' "$work"/x/{libjpeg62-turbo,libwebp7,libwebpdemux2,libpng16-16}/usr/lib/*/)
export LD_LIBRARY_PATH="${libs%:}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
for f in "$out/photos-nj/train/"*; do
  ln -s "../../photos-nj/train/$(basename "$f")" "$out/photos-lj/train/"
done
for f in "$out/photos/train/"*.jpg; do
  b=$(basename "$f" .jpg)
  "$djpeg" -outfile "$work/lj.ppm" "$f"
  "$dt" ppm "$work/lj.ppm" "$out/lj-src/$b.lj.png"
  ln -s "../../lj-src/$b.lj.png" "$out/photos-lj/train/"
  g=$(awk -F'\t' -v n="$b.jpg" '$3 == n {print $2}' "$out/photos/groups.tsv")
  printf '%s\t%s\t%s\n' train "$g" "$b.lj.png" >> "$out/photos-lj/groups.tsv"
done
for f in "$out/photos-d2/val/"*; do
  ln -s "../../photos-d2/val/$(basename "$f")" "$out/photos-lj/val/"
done

# The validation photographs as most software decodes them.
rm -rf "$out/photos-dec"
mkdir -p "$out/photos-dec/val" "$out/photos-dec/train"
for f in "$out/photos/val/"*; do
  b=$(basename "$f")
  case $b in
    *.jpg) "$djpeg" -outfile "$work/lj.ppm" "$f";;
    *.webp) "$dwebp" -quiet -ppm "$f" -o "$work/lj.ppm";;
    *) ln -s "../../photos/val/$b" "$out/photos-dec/val/"; continue;;
  esac
  "$dt" ppm "$work/lj.ppm" "$out/photos-dec/val/${b%.*}.dec.png"
done
rm -f "$work/lj.ppm"

sort -u "$work/versions" > "$work/versions.sorted"
cp "$work/versions.sorted" "$out/wallpapers/packages.txt"
cp "$work/versions.sorted" "$out/photos/packages.txt"
cp "$work/versions.sorted" "$out/photos-ycc/packages.txt"
for s in wallpapers photos photos-d2 photos-nj photos-lj photos-dec photos-ycc; do
  echo "$s: $(ls "$out/$s/train" | wc -l) train, $(ls "$out/$s/val" | wc -l) val images in $out/$s" >&2
done
