#!/bin/sh
# Copies the pictures of the figures listed in content/figures/catalogue.tsv
# from the npm package make figures installed into content/figures/library,
# where the figures package embeds them. Names what is missing and fails.
set -eu
cd "$(dirname "$0")/.."
src=content/figures/npm/node_modules/@lobehub/fluent-emoji-3d/assets
dst=content/figures/library
[ -d "$src" ] || { echo "figures: $src is missing: run make figures (npm ci in content/figures/npm)" >&2; exit 1; }
find "$dst" -name '*.webp' -delete
n=0
for f in $(awk -F'\t' '!/^#/ {print $3}' content/figures/catalogue.tsv | sort -u); do
	cp "$src/$f" "$dst/$f" || { echo "figures: $f (in catalogue.tsv) is not in $src" >&2; exit 1; }
	n=$((n + 1))
done
echo "figures: $n pictures in $dst ($(du -sh "$dst" | cut -f1))"
