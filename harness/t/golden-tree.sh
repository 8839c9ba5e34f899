# golden-tree.sh - sourced by 10-golden.t and golden-record.sh: a scratch
# dir ($gscratch, removed at exit) and golden_tree DIR, the listing of
# everything under DIR: "f <md5> ./path" for files, "<type> ./path" else.
gscratch=$(mktemp -d "${TMPDIR:-/tmp}/vkci-golden.XXXXXX")
trap 'rm -rf "$gscratch"' EXIT
golden_tree() {
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort | while IFS= read -r f; do
		if [ -f "$f" ] && [ ! -L "$f" ]; then
			echo "f $(md5sum <"$f" | cut -c1-32) $f"
		else
			echo "$(stat -c %F "$f") $f"
		fi
	done)
}
