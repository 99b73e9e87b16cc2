# Sourced by the device scripts: points RLVR_CUBLAS_PATH at a libcublas when
# the loader's default names (libcublas.so.13 / .12 on the library path, or
# /usr/local/cuda/lib64) would not find one, e.g. only PyTorch's pip copy.
if [ -z "${RLVR_CUBLAS_PATH:-}" ] && ! ldconfig -p 2>/dev/null | grep -qE 'libcublas\.so\.1[23] ' &&
   ! ls /usr/local/cuda/lib64/libcublas.so.1[23] > /dev/null 2>&1; then
  p=$(find / -xdev \( -name 'libcublas.so.13' -o -name 'libcublas.so.12' \) 2>/dev/null | sort -r | head -1)
  [ -n "$p" ] && export RLVR_CUBLAS_PATH=$p
fi
echo "cuBLAS: ${RLVR_CUBLAS_PATH:-default search} (RLVR_CUBLAS=${RLVR_CUBLAS:-unset})"
