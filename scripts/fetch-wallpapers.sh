#!/usr/bin/env bash
# Fetches the training images: the DFSG-free wallpaper packages named in DEVELOPERS.md, and
# nothing else (any other photo collection stays an independent test set).
#
#   scripts/fetch-wallpapers.sh [OUTDIR]      (default: data/wallpapers)
#
# Downloads the .deb files with apt-get download, unpacks them with dpkg -x, and copies every
# raster image (PNG, JPEG, WebP; not the SVGs, not the downscaled screenshot.* previews) into
# OUTDIR/train or OUTDIR/val. The split is by image *group* (all sizes and light/dark variants
# of one wallpaper form a group), listed in scripts/validation-groups.txt, so no validation
# image, nor a resized copy of one, is ever seen in training.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-data/wallpapers}
pkgs=(mate-backgrounds plasma-workspace-wallpapers ukui-wallpapers gnome-backgrounds
      lomiri-wallpapers lomiri-wallpapers-20.04 lomiri-wallpapers-16.04 sway-backgrounds)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if ! (cd "$work" && apt-get download "${pkgs[@]}" >/dev/null 2>&1); then
  echo "apt-get download failed; running apt-get update first" >&2
  apt-get update >/dev/null
  (cd "$work" && apt-get download "${pkgs[@]}" >/dev/null)
fi
for deb in "$work"/*.deb; do
  pkg=$(dpkg-deb -f "$deb" Package)
  ver=$(dpkg-deb -f "$deb" Version)
  mkdir -p "$work/x/$pkg"
  dpkg -x "$deb" "$work/x/$pkg"
  echo "$pkg $ver" >> "$work/versions"
done

# group KEY for an image path inside a package.
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

mkdir -p "$out/train" "$out/val"
rm -f "$out/train/"* "$out/val/"* "$out/groups.tsv"
n=0
while IFS= read -r f; do
  rel=${f#"$work/x/"}
  pkg=${rel%%/*}
  g=$(group "$rel")
  split=train
  grep -qxF "$g" "$here/validation-groups.txt" && split=val
  name="${pkg}__$(echo "${rel#*/usr/share/}" | tr '/' '_')"
  cp "$f" "$out/$split/$name"
  printf '%s\t%s\t%s\n' "$split" "$g" "$name" >> "$out/groups.tsv"
  n=$((n+1))
done < <(find "$work/x" -type f \( -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.png' -o -iname '*.webp' \) ! -name 'screenshot.*' | sort)
sort -u "$work/versions" > "$out/packages.txt"
echo "$n images: $(ls "$out/train" | wc -l) train, $(ls "$out/val" | wc -l) val in $out" >&2
