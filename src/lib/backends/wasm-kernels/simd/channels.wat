;; Per-channel elementwise work in wasm SIMD, on the wasm backend's own memory (see module.ts): an NHWC
;; tensor against a vector of its channels (BatchNorm's gradient, squeeze-and-excite scaling, a bias), where
;; tfjs-backend-wasm 4.22 takes its generic broadcasting loop (3–7 ns an element instead of ~1), and the
;; per-channel sums of BatchNorm's gradient. C must be a multiple of 4.
(module
  (import "env" "memory" (memory 1 65536 @SHARED@))

  ;; out[o, p, c] = x[o, p, c] · s[o·sStride + c] for o < outer, p < pixels, c < C (sStride 0: one vector for all).
  (func (export "mul_channels") (param $x i32) (param $s i32) (param $out i32)
    (param $outer i32) (param $pixels i32) (param $C i32) (param $sStride i32)
    (local $o i32) (local $p i32) (local $c i32) (local $rowBytes i32) (local $sRow i32)
    (local.set $rowBytes (i32.shl (local.get $C) (i32.const 2)))
    (block $done_o (loop $outer_loop
      (br_if $done_o (i32.ge_u (local.get $o) (local.get $outer)))
      (local.set $sRow (i32.add (local.get $s) (i32.shl (i32.mul (local.get $o) (local.get $sStride)) (i32.const 2))))
      (local.set $p (i32.const 0))
      (block $done_p (loop $pixel_loop
        (br_if $done_p (i32.ge_u (local.get $p) (local.get $pixels)))
        (local.set $c (i32.const 0))
        (loop $channel_loop
          (v128.store (i32.add (local.get $out) (local.get $c))
            (f32x4.mul (v128.load (i32.add (local.get $x) (local.get $c))) (v128.load (i32.add (local.get $sRow) (local.get $c)))))
          (local.set $c (i32.add (local.get $c) (i32.const 16)))
          (br_if $channel_loop (i32.lt_u (local.get $c) (local.get $rowBytes))))
        (local.set $x (i32.add (local.get $x) (local.get $rowBytes)))
        (local.set $out (i32.add (local.get $out) (local.get $rowBytes)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $pixel_loop)))
      (local.set $o (i32.add (local.get $o) (i32.const 1)))
      (br $outer_loop))))

  ;; out[o, p, c] = x[o, p, c] − s[o·sStride + c] (the same walk as mul_channels).
  (func (export "sub_channels") (param $x i32) (param $s i32) (param $out i32)
    (param $outer i32) (param $pixels i32) (param $C i32) (param $sStride i32)
    (local $o i32) (local $p i32) (local $c i32) (local $rowBytes i32) (local $sRow i32)
    (local.set $rowBytes (i32.shl (local.get $C) (i32.const 2)))
    (block $done_o (loop $outer_loop
      (br_if $done_o (i32.ge_u (local.get $o) (local.get $outer)))
      (local.set $sRow (i32.add (local.get $s) (i32.shl (i32.mul (local.get $o) (local.get $sStride)) (i32.const 2))))
      (local.set $p (i32.const 0))
      (block $done_p (loop $pixel_loop
        (br_if $done_p (i32.ge_u (local.get $p) (local.get $pixels)))
        (local.set $c (i32.const 0))
        (loop $channel_loop
          (v128.store (i32.add (local.get $out) (local.get $c))
            (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $c))) (v128.load (i32.add (local.get $sRow) (local.get $c)))))
          (local.set $c (i32.add (local.get $c) (i32.const 16)))
          (br_if $channel_loop (i32.lt_u (local.get $c) (local.get $rowBytes))))
        (local.set $x (i32.add (local.get $x) (local.get $rowBytes)))
        (local.set $out (i32.add (local.get $out) (local.get $rowBytes)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $pixel_loop)))
      (local.set $o (i32.add (local.get $o) (i32.const 1)))
      (br $outer_loop))))

  ;; out[o, p, c] = x[o, p, c] + s[o·sStride + c] (the same walk as mul_channels): a convolution's bias.
  (func (export "add_channels") (param $x i32) (param $s i32) (param $out i32)
    (param $outer i32) (param $pixels i32) (param $C i32) (param $sStride i32)
    (local $o i32) (local $p i32) (local $c i32) (local $rowBytes i32) (local $sRow i32)
    (local.set $rowBytes (i32.shl (local.get $C) (i32.const 2)))
    (block $done_o (loop $outer_loop
      (br_if $done_o (i32.ge_u (local.get $o) (local.get $outer)))
      (local.set $sRow (i32.add (local.get $s) (i32.shl (i32.mul (local.get $o) (local.get $sStride)) (i32.const 2))))
      (local.set $p (i32.const 0))
      (block $done_p (loop $pixel_loop
        (br_if $done_p (i32.ge_u (local.get $p) (local.get $pixels)))
        (local.set $c (i32.const 0))
        (loop $channel_loop
          (v128.store (i32.add (local.get $out) (local.get $c))
            (f32x4.add (v128.load (i32.add (local.get $x) (local.get $c))) (v128.load (i32.add (local.get $sRow) (local.get $c)))))
          (local.set $c (i32.add (local.get $c) (i32.const 16)))
          (br_if $channel_loop (i32.lt_u (local.get $c) (local.get $rowBytes))))
        (local.set $x (i32.add (local.get $x) (local.get $rowBytes)))
        (local.set $out (i32.add (local.get $out) (local.get $rowBytes)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $pixel_loop)))
      (local.set $o (i32.add (local.get $o) (i32.const 1)))
      (br $outer_loop))))

  ;; acc[o, i] (f64, zeroed by the caller) += Σ_m x[o, m, i] for o < outer, m < middle, i < inner.
  ;; Blocks of 32 rows are summed in f32x4 registers (16 channels at a time, rows in L1), then added to
  ;; the double accumulators: the order of a float32 sum only matters within a block.
  (func (export "sum_middle") (param $x i32) (param $acc i32) (param $outer i32) (param $middle i32) (param $inner i32)
    (local $o i32) (local $m0 i32) (local $rows i32) (local $c i32) (local $p i32) (local $i i32)
    (local $rowBytes i32) (local $block i32) (local $accRow i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local.set $rowBytes (i32.shl (local.get $inner) (i32.const 2)))
    (block $done_o (loop $outer_loop
      (br_if $done_o (i32.ge_u (local.get $o) (local.get $outer)))
      (local.set $accRow (i32.add (local.get $acc) (i32.shl (i32.mul (local.get $o) (local.get $inner)) (i32.const 3))))
      (local.set $m0 (i32.const 0))
      (block $done_m (loop $block_loop
        (br_if $done_m (i32.ge_u (local.get $m0) (local.get $middle)))
        (local.set $rows (i32.sub (local.get $middle) (local.get $m0)))
        (if (i32.gt_u (local.get $rows) (i32.const 32)) (then (local.set $rows (i32.const 32))))
        (local.set $block (i32.add (local.get $x) (i32.mul (i32.add (i32.mul (local.get $o) (local.get $middle)) (local.get $m0)) (local.get $rowBytes))))
        (local.set $c (i32.const 0))
        (block $done_c16 (loop $c16_loop
          (br_if $done_c16 (i32.gt_u (i32.add (local.get $c) (i32.const 16)) (local.get $inner)))
          (local.set $a0 (v128.const i64x2 0 0)) (local.set $a1 (v128.const i64x2 0 0))
          (local.set $a2 (v128.const i64x2 0 0)) (local.set $a3 (v128.const i64x2 0 0))
          (local.set $p (i32.add (local.get $block) (i32.shl (local.get $c) (i32.const 2))))
          (local.set $i (local.get $rows))
          (loop $row16
            (local.set $a0 (f32x4.add (local.get $a0) (v128.load (local.get $p))))
            (local.set $a1 (f32x4.add (local.get $a1) (v128.load offset=16 (local.get $p))))
            (local.set $a2 (f32x4.add (local.get $a2) (v128.load offset=32 (local.get $p))))
            (local.set $a3 (f32x4.add (local.get $a3) (v128.load offset=48 (local.get $p))))
            (local.set $p (i32.add (local.get $p) (local.get $rowBytes)))
            (local.set $i (i32.sub (local.get $i) (i32.const 1)))
            (br_if $row16 (local.get $i)))
          (local.set $p (i32.add (local.get $accRow) (i32.shl (local.get $c) (i32.const 3))))
          (call $add_to_f64 (local.get $p) (local.get $a0))
          (call $add_to_f64 (i32.add (local.get $p) (i32.const 32)) (local.get $a1))
          (call $add_to_f64 (i32.add (local.get $p) (i32.const 64)) (local.get $a2))
          (call $add_to_f64 (i32.add (local.get $p) (i32.const 96)) (local.get $a3))
          (local.set $c (i32.add (local.get $c) (i32.const 16)))
          (br $c16_loop)))
        (block $done_c4 (loop $c4_loop
          (br_if $done_c4 (i32.ge_u (local.get $c) (local.get $inner)))
          (local.set $a0 (v128.const i64x2 0 0))
          (local.set $p (i32.add (local.get $block) (i32.shl (local.get $c) (i32.const 2))))
          (local.set $i (local.get $rows))
          (loop $row4
            (local.set $a0 (f32x4.add (local.get $a0) (v128.load (local.get $p))))
            (local.set $p (i32.add (local.get $p) (local.get $rowBytes)))
            (local.set $i (i32.sub (local.get $i) (i32.const 1)))
            (br_if $row4 (local.get $i)))
          (call $add_to_f64 (i32.add (local.get $accRow) (i32.shl (local.get $c) (i32.const 3))) (local.get $a0))
          (local.set $c (i32.add (local.get $c) (i32.const 4)))
          (br $c4_loop)))
        (local.set $m0 (i32.add (local.get $m0) (local.get $rows)))
        (br $block_loop)))
      (local.set $o (i32.add (local.get $o) (i32.const 1)))
      (br $outer_loop))))

  ;; acc[0..4] (f64) += v (f32x4).
  (func $add_to_f64 (param $acc i32) (param $v v128)
    (v128.store (local.get $acc)
      (f64x2.add (v128.load (local.get $acc)) (f64x2.promote_low_f32x4 (local.get $v))))
    (v128.store offset=16 (local.get $acc)
      (f64x2.add (v128.load offset=16 (local.get $acc))
        (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))))
)
