# Sourced by scripts/kube-up, scripts/kube-down and scripts/lib/kube-build. The versions are read
# from the wrapper modules in test/fixtures/kube/, so their go.mod stays the one place that pins them.

kube_repo_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
kube_fixture_dir="$kube_repo_dir/test/fixtures/kube"

# wrapper module -> the version the wrapper's go.mod requires (or replaces it with).
kube_required_version() {
  awk -v m="$2" '
    $1 == "require" && $2 == m { print $3; exit }
    $1 == m && $2 ~ /^v/ { print $2; exit }' "$kube_fixture_dir/$1/go.mod"
}

kube_version=$(kube_required_version kubernetes k8s.io/kubernetes)

kube_state_dir=${CMESH_KUBE_DIR:-/tmp/cmesh-kube}
