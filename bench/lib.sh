# Shared by the bench scripts (sourced, not run): installing a Debian peer, a
# temporary build directory that is removed on exit, building m4sc, pasting results.

# install_peer PKG: install gcc and the Debian package PKG when either is missing; stop
# with a message when PKG is not in this system's Debian release.
install_peer() {
	local pkg=$1 need=()
	command -v gcc >/dev/null 2>&1 || need+=(gcc)
	dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
	if ((${#need[@]})); then
		echo "installing ${need[*]}" >&2
		apt-get update -qq
		if ! apt-cache show "$pkg" >/dev/null 2>&1; then
			echo "$pkg is not in this system's Debian release: no peer to compare with" >&2
			exit 1
		fi
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
	fi
}

# remove_on_exit DIR: remove DIR when the script exits, with every other directory
# given so far (one EXIT trap for all of them, so helpers do not replace each other's).
lib_cleanup=()
remove_on_exit() {
	lib_cleanup+=("$1")
	trap 'rm -rf "${lib_cleanup[@]}"' EXIT
}

# make_tmp: set tmp to a new directory removed when the script exits.
make_tmp() {
	tmp=$(mktemp -d)
	remove_on_exit "$tmp"
}

# build_m4sc: build the checkout's cmd/m4sc (with the openblas tag when libopenblas-dev
# is installed) into a temporary directory removed on exit, and set bin to its path.
build_m4sc() {
	local tags=()
	if dpkg -s libopenblas-dev >/dev/null 2>&1; then tags=(-tags openblas); fi
	bin=$(mktemp -d)/m4sc
	remove_on_exit "$(dirname "$bin")"
	go build "${tags[@]}" -o "$bin" ./cmd/m4sc
}

# machine PKG: one line naming the peer's version, Go and the CPU.
machine() {
	echo "$1 $(dpkg-query -W -f '${Version}' "$1"); $(go version); $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
}

# splice DOC: rewrite every block of the markdown file DOC that lies between a line
# "<!-- begin results/NAME.md -->" and the next "<!-- end -->" with the named file
# (a path relative to DOC's folder), so measured tables are pasted by the script that
# measured them, never by hand. A named file that is missing or empty, or a begin
# marker without its end, stops it with a message and DOC unchanged.
splice() {
	local doc=$1 dir
	dir=$(dirname "$doc")
	awk -v dir="$dir" '
		function fail(msg) {
			print "splice: " FILENAME ":" FNR ": " msg > "/dev/stderr"
			failed = 1
			exit 1
		}
		/^<!-- begin [^ ]+ -->$/ {
			if (skipping) fail("begin marker inside the block begun at line " begun)
			print
			f = dir "/" $3
			n = 0
			while ((r = (getline line < f)) > 0) {
				print line
				n++
			}
			if (r < 0) fail("cannot read " f)
			if (n == 0) fail(f " is empty")
			close(f)
			skipping = 1
			begun = FNR
			next
		}
		/^<!-- end -->$/ { skipping = 0 }
		!skipping { print }
		END {
			if (!failed && skipping) {
				FNR = begun
				fail("no end marker after this begin marker")
			}
		}
	' "$doc" >"$doc.new" || {
		rm -f "$doc.new"
		return 1
	}
	mv "$doc.new" "$doc"
}

# openblas_own_choice: let OpenBLAS size its kernels from the processor, as it does
# on a machine whose environment says nothing: unset OPENBLAS_CORETYPE and
# OPENBLAS_L2_SIZE when set (some machines set them for every process; on the Zen 5
# reference machine they hold OpenBLAS to its AVX2 kernels and half the real level-2
# cache, 20% slower a training step), saying so. BLAS_ENV=keep leaves them.
openblas_own_choice() {
	[ "${BLAS_ENV:-}" = keep ] && return 0
	local v
	for v in OPENBLAS_CORETYPE OPENBLAS_L2_SIZE; do
		if [ -n "${!v+x}" ]; then
			echo "unsetting $v=${!v} (OpenBLAS chooses from the processor; BLAS_ENV=keep keeps it)" >&2
			unset "$v"
		fi
	done
}
