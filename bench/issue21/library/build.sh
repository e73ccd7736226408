#!/bin/sh
# Builds libcolt_kernels.a from kernels/*.c with the flags colt measured them with.
set -e
cd "$(dirname "$0")"
CC=${CC:-cc}
mkdir -p obj
for c in kernels/*.c; do
  $CC -O3 -march=native -fno-math-errno -ffreestanding -fno-tree-loop-distribute-patterns -fPIC -c "$c" -o "obj/$(basename "$c" .c).o"
done
rm -f libcolt_kernels.a
ar rcs libcolt_kernels.a obj/*.o
echo "$(pwd)/libcolt_kernels.a"
