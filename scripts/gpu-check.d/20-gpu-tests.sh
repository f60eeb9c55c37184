#!/usr/bin/env bash
# timeout: 180
# The gpu-labelled test executables built on the build machine (doctest
# binaries named test_*gpu* under BUILD_DIR/tests), run directly: the GPU
# machine need not have cmake/ctest. Each gets its own time limit; a binary
# that exits 77 found no usable GPU (skipped).
set -u
status=0
found=0
results=$GPU_CHECK_TMP/gpu-tests.tsv
: >"$results"
while IFS= read -r bin; do
  found=1
  echo "---- $bin"
  run_with_timeout 170 "$bin" --duration=true
  rc=$?
  echo "---- $bin exit $rc"
  printf '%s\t%s\n' "$bin" "$rc" >>"$results"
  [ "$rc" -eq 0 ] || status=1
done < <(find "$BUILD_DIR/tests" -type f -name 'test_*gpu*' -perm -u+x 2>/dev/null | sort)
if [ "$found" = 0 ]; then
  echo "no GPU test executables under $BUILD_DIR/tests (build with CUDA on the build machine)"
  exit 1
fi
exit $status
