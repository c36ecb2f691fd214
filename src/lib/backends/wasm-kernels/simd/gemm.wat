;; The GEMM of a convolution's filter gradient in wasm SIMD, on the wasm backend's own memory (see module.ts).
;;   C[K×N] += Aᵀ·B   with A rows × K (leading dimension lda floats) and B rows × N (ldb floats), C row-major.
;; For a 1×1 convolution A is the layer's input and B its output gradient, both used where they lie (no
;; transpose, no packing). Each 4×8 block of C sums its outer products over the rows in eight f32x4
;; registers; the rows are taken in chunks that fit in L2 together, so the passes over one chunk for
;; every block of C read cache, not memory. K and N must be multiples of 4 (the caller pads otherwise).
(module
  (import "env" "memory" (memory 1 65536 @SHARED@))

  ;; C[k..k+4][n..n+8] += Σ_{m < rows} A[m][k..k+4]ᵀ · B[m][n..n+8], pa = &A[0][k], pb = &B[0][n], pc = &C[k][n].
  (func $block_4x8 (param $pa i32) (param $lda i32) (param $pb i32) (param $ldb i32) (param $rows i32) (param $pc i32) (param $ldc i32)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $b0 v128) (local $b1 v128) (local $a v128)
    (loop $rows
      (local.set $b0 (v128.load (local.get $pb)))
      (local.set $b1 (v128.load offset=16 (local.get $pb)))
      (local.set $a (v128.load32_splat (local.get $pa)))
      (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $a) (local.get $b0))))
      (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $a) (local.get $b1))))
      (local.set $a (v128.load32_splat offset=4 (local.get $pa)))
      (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $a) (local.get $b0))))
      (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $a) (local.get $b1))))
      (local.set $a (v128.load32_splat offset=8 (local.get $pa)))
      (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $a) (local.get $b0))))
      (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $a) (local.get $b1))))
      (local.set $a (v128.load32_splat offset=12 (local.get $pa)))
      (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $a) (local.get $b0))))
      (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $a) (local.get $b1))))
      (local.set $pa (i32.add (local.get $pa) (local.get $lda)))
      (local.set $pb (i32.add (local.get $pb) (local.get $ldb)))
      (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
      (br_if $rows (local.get $rows)))
    (v128.store (local.get $pc) (f32x4.add (v128.load (local.get $pc)) (local.get $c00)))
    (v128.store offset=16 (local.get $pc) (f32x4.add (v128.load offset=16 (local.get $pc)) (local.get $c01)))
    (local.set $pc (i32.add (local.get $pc) (local.get $ldc)))
    (v128.store (local.get $pc) (f32x4.add (v128.load (local.get $pc)) (local.get $c10)))
    (v128.store offset=16 (local.get $pc) (f32x4.add (v128.load offset=16 (local.get $pc)) (local.get $c11)))
    (local.set $pc (i32.add (local.get $pc) (local.get $ldc)))
    (v128.store (local.get $pc) (f32x4.add (v128.load (local.get $pc)) (local.get $c20)))
    (v128.store offset=16 (local.get $pc) (f32x4.add (v128.load offset=16 (local.get $pc)) (local.get $c21)))
    (local.set $pc (i32.add (local.get $pc) (local.get $ldc)))
    (v128.store (local.get $pc) (f32x4.add (v128.load (local.get $pc)) (local.get $c30)))
    (v128.store offset=16 (local.get $pc) (f32x4.add (v128.load offset=16 (local.get $pc)) (local.get $c31))))

  ;; The same for a 4×4 block (N's last four columns when N is not a multiple of 8).
  (func $block_4x4 (param $pa i32) (param $lda i32) (param $pb i32) (param $ldb i32) (param $rows i32) (param $pc i32) (param $ldc i32)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128) (local $b v128)
    (loop $rows
      (local.set $b (v128.load (local.get $pb)))
      (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (v128.load32_splat (local.get $pa)) (local.get $b))))
      (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (v128.load32_splat offset=4 (local.get $pa)) (local.get $b))))
      (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (v128.load32_splat offset=8 (local.get $pa)) (local.get $b))))
      (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (v128.load32_splat offset=12 (local.get $pa)) (local.get $b))))
      (local.set $pa (i32.add (local.get $pa) (local.get $lda)))
      (local.set $pb (i32.add (local.get $pb) (local.get $ldb)))
      (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
      (br_if $rows (local.get $rows)))
    (v128.store (local.get $pc) (f32x4.add (v128.load (local.get $pc)) (local.get $c0)))
    (local.set $pc (i32.add (local.get $pc) (local.get $ldc)))
    (v128.store (local.get $pc) (f32x4.add (v128.load (local.get $pc)) (local.get $c1)))
    (local.set $pc (i32.add (local.get $pc) (local.get $ldc)))
    (v128.store (local.get $pc) (f32x4.add (v128.load (local.get $pc)) (local.get $c2)))
    (local.set $pc (i32.add (local.get $pc) (local.get $ldc)))
    (v128.store (local.get $pc) (f32x4.add (v128.load (local.get $pc)) (local.get $c3))))

  ;; C += Aᵀ·B (see the top). lda, ldb in floats; C's leading dimension is N. rows ≥ 0.
  (func (export "gemm_atb") (param $A i32) (param $lda i32) (param $B i32) (param $ldb i32) (param $rows i32)
    (param $K i32) (param $N i32) (param $C i32)
    (local $chunk i32) (local $m0 i32) (local $count i32) (local $k i32) (local $n i32)
    (local $ldaBytes i32) (local $ldbBytes i32) (local $ldcBytes i32) (local $pa i32) (local $pb i32)
    (local.set $ldaBytes (i32.shl (local.get $lda) (i32.const 2)))
    (local.set $ldbBytes (i32.shl (local.get $ldb) (i32.const 2)))
    (local.set $ldcBytes (i32.shl (local.get $N) (i32.const 2)))
    ;; Rows per chunk: the chunk's A and B rows (K + N floats each) within ~192 KiB, at least 16.
    (local.set $chunk (i32.div_u (i32.const 49152) (i32.add (local.get $K) (local.get $N))))
    (if (i32.lt_u (local.get $chunk) (i32.const 16)) (then (local.set $chunk (i32.const 16))))
    (block $done (loop $chunks
      (br_if $done (i32.ge_u (local.get $m0) (local.get $rows)))
      (local.set $count (i32.sub (local.get $rows) (local.get $m0)))
      (if (i32.gt_u (local.get $count) (local.get $chunk)) (then (local.set $count (local.get $chunk))))
      (local.set $pa (i32.add (local.get $A) (i32.mul (local.get $m0) (local.get $ldaBytes))))
      (local.set $pb (i32.add (local.get $B) (i32.mul (local.get $m0) (local.get $ldbBytes))))
      (local.set $k (i32.const 0))
      (block $k_done (loop $k_blocks
        (br_if $k_done (i32.ge_u (local.get $k) (local.get $K)))
        (local.set $n (i32.const 0))
        (block $n8_done (loop $n8_blocks
          (br_if $n8_done (i32.gt_u (i32.add (local.get $n) (i32.const 8)) (local.get $N)))
          (call $block_4x8
            (i32.add (local.get $pa) (i32.shl (local.get $k) (i32.const 2))) (local.get $ldaBytes)
            (i32.add (local.get $pb) (i32.shl (local.get $n) (i32.const 2))) (local.get $ldbBytes)
            (local.get $count)
            (i32.add (local.get $C) (i32.shl (i32.add (i32.mul (local.get $k) (local.get $N)) (local.get $n)) (i32.const 2)))
            (local.get $ldcBytes))
          (local.set $n (i32.add (local.get $n) (i32.const 8)))
          (br $n8_blocks)))
        (if (i32.lt_u (local.get $n) (local.get $N)) (then
          (call $block_4x4
            (i32.add (local.get $pa) (i32.shl (local.get $k) (i32.const 2))) (local.get $ldaBytes)
            (i32.add (local.get $pb) (i32.shl (local.get $n) (i32.const 2))) (local.get $ldbBytes)
            (local.get $count)
            (i32.add (local.get $C) (i32.shl (i32.add (i32.mul (local.get $k) (local.get $N)) (local.get $n)) (i32.const 2)))
            (local.get $ldcBytes))))
        (local.set $k (i32.add (local.get $k) (i32.const 4)))
        (br $k_blocks)))
      (local.set $m0 (i32.add (local.get $m0) (local.get $count)))
      (br $chunks)))
  )
)
