# Shared by the peer scripts (sourced, not run): installing a Debian peer and a
# temporary build directory that is removed on exit.

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

# make_tmp: set tmp to a new directory removed when the script exits.
make_tmp() {
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
}

# machine PKG: one line naming the peer's version, Go and the CPU.
machine() {
	echo "$1 $(dpkg-query -W -f '${Version}' "$1"); $(go version); $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
}
