# What .ci/run and .ci/warm share: the package lists, the releases, the compiler caches and each leg's build command
# (sourced; SUDO set by the caller).
# LibTorch (CPU) for the addon; python3-torch and python3-torchvision: the tests' independent reference and the
# benchmark's peer; dataset-fashion-mnist: a real dataset in its shipped format (and a pretraining source); chromium:
# the browser the HTML report is checked in; libgloo-dev: the Gloo headers LibTorch's c10d (data-parallel training)
# needs; python3-pydicom with python3-gdcm (its JPEG-LS / JPEG 2000 / JPEG handlers) and real DICOM files: the DICOM
# reader's reference; python3-sklearn: the metrics' reference (AUPRC, kappa). python3-sklearn pulls in OpenBLAS
# (libopenblas0-pthread, through python3-pythran), which becomes the system BLAS that Debian's LibTorch takes its gemm
# from: the 2-rank training test's tolerance (1e-5 on the weights) covers OpenBLAS's summation order (1.5e-5 measured
# against 5e-8 with the reference BLAS), and the whole suite passed twice on the host with it (2026-12-02).
# libjemalloc2: the benchmarks' tuned Python peer preloads it (issue 34).
SUITE_PACKAGES=(libtorch-dev python3-torch python3-torchvision dataset-fashion-mnist chromium libgloo-dev cmake g++ make python3-pydicom python3-gdcm python3-sklearn libjemalloc2)
# Debian 13's CUDA LibTorch (contrib) with the CUDA toolkit and NCCL (non-free). nvidia-cudnn-placeholder: an equivs
# package in place of nvidia-cudnn, whose installer downloads cuDNN and fails offline (see .ci/chroot).
CUDA_PACKAGES=(nvidia-cudnn-placeholder libtorch-cuda-dev nvidia-cuda-toolkit libnccl-dev libgloo-cuda-dev cmake g++ make)
# sid: the suite's packages, with the CUDA toolkit and NCCL (non-free) for the CUDA headers' compile; sid's libtorch-dev
# is a CPU build that ships the ATen/cuda, c10/cuda and c10d NCCL headers.
SID_PACKAGES=("${SUITE_PACKAGES[@]}" nvidia-cuda-toolkit libnccl-dev)
# Every leg compiles the addon through ccache, whose cache is kept per leg under /var/cache/transfusion-native/ccache
# (bound into a chroot at /var/cache/ccache: a chroot made again keeps its leg's cache). A warm cache builds the host's
# addon in 31 s instead of 223 s (2026-12-08); an edited file, or a header it includes, is compiled again (.ci/warm fills
# the caches after such a change). CI's tool, not the project's: the README's commands do not use it.
CCACHE_ROOT=/var/cache/transfusion-native/ccache
CCACHE_SETTINGS="CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime CCACHE_MAXSIZE=2G CMAKE_C_COMPILER_LAUNCHER=ccache CMAKE_CXX_COMPILER_LAUNCHER=ccache"
# host_ccache: this shell's builds (in the current folder, a checkout) through the host leg's cache, its counts zeroed.
host_ccache() {
  $SUDO mkdir -p "$CCACHE_ROOT/host-$host"
  $SUDO chown "$(id -u):$(id -g)" "$CCACHE_ROOT/host-$host"
  # shellcheck disable=SC2086  # the settings are NAME=VALUE words
  export CCACHE_DIR="$CCACHE_ROOT/host-$host" CCACHE_BASEDIR="$PWD" $CCACHE_SETTINGS
  ccache -z >/dev/null
}
# in_chroot LEG ROOT COMMAND: .ci/in-chroot with LEG's compiler cache; the command's build reports its hits.
in_chroot() {
  $SUDO env TRANSFUSION_CHROOT_CCACHE="$CCACHE_ROOT/$1" .ci/in-chroot "$2" "export CCACHE_DIR=/var/cache/ccache $CCACHE_SETTINGS && ccache -z >/dev/null && $3"
}
# The addon's build's hits and misses, from ccache's statistics since it was zeroed (CMake's own probes of the compiler,
# in folders of random names, are the few misses of a warm chroot build).
CCACHE_REPORT="{ ccache --print-stats | grep -E '^(direct_cache_hit|preprocessed_cache_hit|cache_miss)\s' | tr '\\t\\n' '= '; echo; }"
SUITE_PACKAGES_CHROOT=("${SUITE_PACKAGES[@]}" ccache)
CUDA_PACKAGES+=(ccache)
SID_PACKAGES+=(ccache)

host=$(. /etc/os-release && echo "${VERSION_CODENAME:-unknown}")
if [ "$host" = trixie ]; then other=bookworm; else other=trixie; fi
# Each leg's build of the addon, as .ci/run runs it and .ci/warm fills its cache.
LEG2_BUILD="export TRANSFUSION_CXX_STANDARD=17 TRANSFUSION_SAVE_PREBUILT=1 && npm run build"
LEG3_BUILD="TRANSFUSION_BUILD_JOBS=1 node scripts/build-native.js"
LEG4_BUILD="npm run build"
