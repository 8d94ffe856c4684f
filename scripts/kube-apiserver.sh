#!/usr/bin/env bash
# Builds a real kube-apiserver (v1.20.2) for the tests that need a Kubernetes API server
# (motif-test-support's `Cluster`), offline from Debian's own pool: the `kubernetes`
# source archive (the full upstream tree with vendor/; Debian itself builds only kubectl
# from it) and Go 1.15, the release Kubernetes 1.20 was built with, from bullseye.
#
# Prints the binary's path on stdout; progress goes to stderr. The binary is cached at
# ${MOTIF_TEST_CACHE:-$HOME/.cache/motif-test}/kube-apiserver-v1.20.2, so a second run
# returns at once. A build takes ~200 s on 2 cores and ~2 GB of scratch space in $TMPDIR,
# removed on exit. Installs rsync, make, curl and etcd-server with apt-get if missing.
set -euo pipefail

version=1.20.2
cache=${MOTIF_TEST_CACHE:-$HOME/.cache/motif-test}
bin=$cache/kube-apiserver-v$version
if [[ -x $bin ]]; then
  echo "$bin"
  exit 0
fi

# The archive is Debian's orig tarball of the `1.20.5+really1.20.2` upload; the checksums
# pin what was built and tested.
sources=(
  "k/kubernetes/kubernetes_1.20.5+really1.20.2.orig.tar.gz b83c0780efb182d928dc63d46488a847f161f04e40a94b96bf5247dd671ecdfc"
  "g/golang-1.15/golang-1.15-go_1.15.15-1~deb11u4_amd64.deb 33f6680406698b60370322aa5710be199006b3d66fbb0974b44da012de3aa82a"
  "g/golang-1.15/golang-1.15-src_1.15.15-1~deb11u4_amd64.deb e580f570f706d801191f9a17e55156736fc5979a6a878bab9304ca007ae29941"
)

arch=$(dpkg --print-architecture)
if [[ $arch != amd64 ]]; then
  echo "error: kube-apiserver is built from Debian's amd64 Go packages, this machine is $arch" >&2
  exit 1
fi

# rsync is needed by Kubernetes' make: without it the first run leaves a 0-byte
# `_output/bin/prerelease-lifecycle-gen` behind. etcd is what the apiserver stores into.
packages=()
for tool in rsync:rsync make:make curl:curl etcd:etcd-server; do
  command -v "${tool%%:*}" >/dev/null || packages+=("${tool#*:}")
done
if ((${#packages[@]})); then
  echo "installing ${packages[*]}" >&2
  apt-get update -qq &&
    apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi

# The Debian mirror this machine already uses.
mirror=${DEBIAN_MIRROR:-$(awk '/^URIs:/ { print $2; exit }' \
  /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)}
if [[ -z $mirror && -f /etc/apt/sources.list ]]; then
  mirror=$(awk '/^deb / { print $2; exit }' /etc/apt/sources.list)
fi
if [[ -z $mirror ]]; then
  echo "error: no Debian mirror in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list" >&2
  echo "hint: set DEBIAN_MIRROR to the mirror's URL" >&2
  exit 1
fi

mkdir -p "$cache"
# One build at a time: two test runs starting together wait for the same binary.
exec 9>"$cache/.kube-apiserver.lock"
flock 9
if [[ -x $bin ]]; then
  echo "$bin"
  exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/motif-kube-apiserver.XXXXXX")
# Go marks parts of its caches read-only; make them writable so that rm can remove them.
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
cd "$work"

echo "downloading the kubernetes $version source and Go 1.15 from $mirror" >&2
for source in "${sources[@]}"; do
  path=${source% *} sum=${source#* }
  curl -fsSLO "$mirror/pool/main/$path"
  echo "$sum  ${path##*/}" | sha256sum --quiet -c - >&2
done
for deb in golang-1.15-*.deb; do
  dpkg -x "$deb" go
done
tar xzf "kubernetes_1.20.5+really$version.orig.tar.gz"

export GOROOT=$work/go/usr/lib/go-1.15 GOPATH=$work/gopath GOCACHE=$work/gocache
# Everything is vendored: Go must not reach for a module proxy.
export GOPROXY=off GOFLAGS=-mod=vendor
export PATH=$GOROOT/bin:$PATH
cd "kubernetes-$version"
# The OpenAPI definitions (pkg/generated/openapi) are generated, not in the archive (~50 s).
echo "generating the sources that are not in the archive" >&2
make generated_files >&2
echo "building kube-apiserver (~3 min)" >&2
make WHAT=cmd/kube-apiserver >&2

built=_output/local/bin/linux/amd64/kube-apiserver
"$built" --version >&2
cp "$built" "$bin.tmp"
mv "$bin.tmp" "$bin"
echo "$bin"
