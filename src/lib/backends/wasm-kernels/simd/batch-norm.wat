;; BatchNorm in training (batch statistics) forward and backward as a few SIMD passes over an NHWC tensor,
;; on the wasm backend's own memory (see module.ts). Composed from tfjs ops it is ~10 kernels forward and
;; ~25 backward per layer. The per-channel arithmetic (mean, 1/σ, the gradient's coefficients) is left to
;; the caller in doubles; these loops do the passes. C must be a multiple of 4; vectors are float32 [C].
(module
  (import "env" "memory" (memory 1 65536 @SHARED@))

  ;; acc[0..4] (f64) += v (f32x4).
  (func $add_to_f64 (param $acc i32) (param $v v128)
    (v128.store (local.get $acc)
      (f64x2.add (v128.load (local.get $acc)) (f64x2.promote_low_f32x4 (local.get $v))))
    (v128.store offset=16 (local.get $acc)
      (f64x2.add (v128.load offset=16 (local.get $acc))
        (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))))

  ;; Per channel c over `pixels` rows of C (f64 sums, pointers sumA/sumB), with d = x − m[c]:
  ;; mode 0: sumA += Σ d and sumB += Σ d² (moments about a shift m); mode 1: sumA += Σ dy and
  ;; sumB += Σ dy · d. Blocks of 32 rows are summed in float32 registers, then added to the double sums;
  ;; within a block, channels go four vectors (a cache line) at a time, so that eight independent sums
  ;; keep the adds' latency hidden (one vector at a time waited on its own previous add).
  (func $reduce (param $mode i32) (param $x i32) (param $dy i32) (param $m i32) (param $sumA i32) (param $sumB i32)
    (param $pixels i32) (param $C i32)
    (local $rowBytes i32) (local $p0 i32) (local $rows i32) (local $c i32) (local $i i32) (local $p i32) (local $q i32)
    (local $m0 v128) (local $m1 v128) (local $m2 v128) (local $m3 v128)
    (local $d0 v128) (local $d1 v128) (local $d2 v128) (local $d3 v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128)
    (local.set $rowBytes (i32.shl (local.get $C) (i32.const 2)))
    (block $done (loop $blocks
      (br_if $done (i32.ge_u (local.get $p0) (local.get $pixels)))
      (local.set $rows (i32.sub (local.get $pixels) (local.get $p0)))
      (if (i32.gt_u (local.get $rows) (i32.const 32)) (then (local.set $rows (i32.const 32))))
      (local.set $c (i32.const 0))
      (block $done_c16 (loop $c16
        (br_if $done_c16 (i32.gt_u (i32.add (local.get $c) (i32.const 64)) (local.get $rowBytes)))
        (local.set $m0 (v128.load offset=0 (i32.add (local.get $m) (local.get $c)))) (local.set $m1 (v128.load offset=16 (i32.add (local.get $m) (local.get $c)))) (local.set $m2 (v128.load offset=32 (i32.add (local.get $m) (local.get $c)))) (local.set $m3 (v128.load offset=48 (i32.add (local.get $m) (local.get $c))))
        (local.set $a0 (v128.const i64x2 0 0)) (local.set $b0 (v128.const i64x2 0 0)) (local.set $a1 (v128.const i64x2 0 0)) (local.set $b1 (v128.const i64x2 0 0)) (local.set $a2 (v128.const i64x2 0 0)) (local.set $b2 (v128.const i64x2 0 0)) (local.set $a3 (v128.const i64x2 0 0)) (local.set $b3 (v128.const i64x2 0 0))
        (local.set $p (i32.add (local.get $x) (i32.add (i32.mul (local.get $p0) (local.get $rowBytes)) (local.get $c))))
        (local.set $q (i32.add (local.get $dy) (i32.add (i32.mul (local.get $p0) (local.get $rowBytes)) (local.get $c))))
        (local.set $i (local.get $rows))
        (if (local.get $mode)
          (then (loop $row16_gradient
            (local.set $d0 (v128.load offset=0 (local.get $q)))
            (local.set $a0 (f32x4.add (local.get $a0) (local.get $d0)))
            (local.set $b0 (f32x4.add (local.get $b0)
              (f32x4.mul (local.get $d0) (f32x4.sub (v128.load offset=0 (local.get $p)) (local.get $m0)))))
            (local.set $d1 (v128.load offset=16 (local.get $q)))
            (local.set $a1 (f32x4.add (local.get $a1) (local.get $d1)))
            (local.set $b1 (f32x4.add (local.get $b1)
              (f32x4.mul (local.get $d1) (f32x4.sub (v128.load offset=16 (local.get $p)) (local.get $m1)))))
            (local.set $d2 (v128.load offset=32 (local.get $q)))
            (local.set $a2 (f32x4.add (local.get $a2) (local.get $d2)))
            (local.set $b2 (f32x4.add (local.get $b2)
              (f32x4.mul (local.get $d2) (f32x4.sub (v128.load offset=32 (local.get $p)) (local.get $m2)))))
            (local.set $d3 (v128.load offset=48 (local.get $q)))
            (local.set $a3 (f32x4.add (local.get $a3) (local.get $d3)))
            (local.set $b3 (f32x4.add (local.get $b3)
              (f32x4.mul (local.get $d3) (f32x4.sub (v128.load offset=48 (local.get $p)) (local.get $m3)))))
            (local.set $p (i32.add (local.get $p) (local.get $rowBytes)))
            (local.set $q (i32.add (local.get $q) (local.get $rowBytes)))
            (local.set $i (i32.sub (local.get $i) (i32.const 1)))
            (br_if $row16_gradient (local.get $i))))
          (else (loop $row16_moments
            (local.set $d0 (f32x4.sub (v128.load offset=0 (local.get $p)) (local.get $m0)))
            (local.set $a0 (f32x4.add (local.get $a0) (local.get $d0)))
            (local.set $b0 (f32x4.add (local.get $b0) (f32x4.mul (local.get $d0) (local.get $d0))))
            (local.set $d1 (f32x4.sub (v128.load offset=16 (local.get $p)) (local.get $m1)))
            (local.set $a1 (f32x4.add (local.get $a1) (local.get $d1)))
            (local.set $b1 (f32x4.add (local.get $b1) (f32x4.mul (local.get $d1) (local.get $d1))))
            (local.set $d2 (f32x4.sub (v128.load offset=32 (local.get $p)) (local.get $m2)))
            (local.set $a2 (f32x4.add (local.get $a2) (local.get $d2)))
            (local.set $b2 (f32x4.add (local.get $b2) (f32x4.mul (local.get $d2) (local.get $d2))))
            (local.set $d3 (f32x4.sub (v128.load offset=48 (local.get $p)) (local.get $m3)))
            (local.set $a3 (f32x4.add (local.get $a3) (local.get $d3)))
            (local.set $b3 (f32x4.add (local.get $b3) (f32x4.mul (local.get $d3) (local.get $d3))))
            (local.set $p (i32.add (local.get $p) (local.get $rowBytes)))
            (local.set $i (i32.sub (local.get $i) (i32.const 1)))
            (br_if $row16_moments (local.get $i)))))
          (call $add_to_f64 (i32.add (local.get $sumA) (i32.shl (i32.add (local.get $c) (i32.const 0)) (i32.const 1))) (local.get $a0))
          (call $add_to_f64 (i32.add (local.get $sumB) (i32.shl (i32.add (local.get $c) (i32.const 0)) (i32.const 1))) (local.get $b0))
          (call $add_to_f64 (i32.add (local.get $sumA) (i32.shl (i32.add (local.get $c) (i32.const 16)) (i32.const 1))) (local.get $a1))
          (call $add_to_f64 (i32.add (local.get $sumB) (i32.shl (i32.add (local.get $c) (i32.const 16)) (i32.const 1))) (local.get $b1))
          (call $add_to_f64 (i32.add (local.get $sumA) (i32.shl (i32.add (local.get $c) (i32.const 32)) (i32.const 1))) (local.get $a2))
          (call $add_to_f64 (i32.add (local.get $sumB) (i32.shl (i32.add (local.get $c) (i32.const 32)) (i32.const 1))) (local.get $b2))
          (call $add_to_f64 (i32.add (local.get $sumA) (i32.shl (i32.add (local.get $c) (i32.const 48)) (i32.const 1))) (local.get $a3))
          (call $add_to_f64 (i32.add (local.get $sumB) (i32.shl (i32.add (local.get $c) (i32.const 48)) (i32.const 1))) (local.get $b3))
        (local.set $c (i32.add (local.get $c) (i32.const 64)))
        (br $c16)))
      (block $done_c4 (loop $c4
        (br_if $done_c4 (i32.ge_u (local.get $c) (local.get $rowBytes)))
        (local.set $m0 (v128.load (i32.add (local.get $m) (local.get $c))))
        (local.set $a0 (v128.const i64x2 0 0)) (local.set $b0 (v128.const i64x2 0 0))
        (local.set $p (i32.add (local.get $x) (i32.add (i32.mul (local.get $p0) (local.get $rowBytes)) (local.get $c))))
        (local.set $q (i32.add (local.get $dy) (i32.add (i32.mul (local.get $p0) (local.get $rowBytes)) (local.get $c))))
        (local.set $i (local.get $rows))
        (loop $row4
          (local.set $d0 (f32x4.sub (v128.load (local.get $p)) (local.get $m0)))
          (if (local.get $mode)
            (then
              (local.set $d1 (v128.load (local.get $q)))
              (local.set $a0 (f32x4.add (local.get $a0) (local.get $d1)))
              (local.set $b0 (f32x4.add (local.get $b0) (f32x4.mul (local.get $d1) (local.get $d0)))))
            (else
              (local.set $a0 (f32x4.add (local.get $a0) (local.get $d0)))
              (local.set $b0 (f32x4.add (local.get $b0) (f32x4.mul (local.get $d0) (local.get $d0))))))
          (local.set $p (i32.add (local.get $p) (local.get $rowBytes)))
          (local.set $q (i32.add (local.get $q) (local.get $rowBytes)))
          (local.set $i (i32.sub (local.get $i) (i32.const 1)))
          (br_if $row4 (local.get $i)))
        (call $add_to_f64 (i32.add (local.get $sumA) (i32.shl (local.get $c) (i32.const 1))) (local.get $a0))
        (call $add_to_f64 (i32.add (local.get $sumB) (i32.shl (local.get $c) (i32.const 1))) (local.get $b0))
        (local.set $c (i32.add (local.get $c) (i32.const 16)))
        (br $c4)))
      (local.set $p0 (i32.add (local.get $p0) (local.get $rows)))
      (br $blocks))))

  ;; sum[c] (f64, zeroed) += Σ_p (x[p, c] − shift[c]);  sq[c] (f64, zeroed) += Σ_p (x[p, c] − shift[c])²: the
  ;; batch moments in one pass. With a shift near the mean (the caller's: the first rows' mean) the
  ;; variance sq/N − (sum/N)² loses nothing to cancellation that the two-pass sum about the mean keeps.
  (func (export "bn_shifted_moments") (param $x i32) (param $shift i32) (param $sum i32) (param $sq i32) (param $pixels i32) (param $C i32)
    (call $reduce (i32.const 0) (local.get $x) (i32.const 0) (local.get $shift) (local.get $sum) (local.get $sq) (local.get $pixels) (local.get $C)))

  ;; out[p, c] = (x[p, c] − mean[c]) · scale[c] + shift[c] + (dy ≠ 0: dy[p, c] · dyScale[c])
  ;; Forward: scale = γ/σ, shift = β, dy = 0. Backward: scale = −γ·Σdy(x−m)/(Nσ³), shift = −γ·Σdy/(Nσ), dyScale = γ/σ.
  (func (export "bn_apply") (param $x i32) (param $mean i32) (param $scale i32) (param $shift i32) (param $dy i32) (param $dyScale i32)
    (param $out i32) (param $pixels i32) (param $C i32)
    (call $apply (local.get $x) (local.get $mean) (local.get $scale) (local.get $shift) (local.get $dy) (local.get $dyScale)
      (local.get $out) (local.get $pixels) (local.get $C) (i32.const 0)))

  ;; The forward pass's out = act((x − mean) · scale + shift), act 0: none, 1: ReLU, 2: hard-swish, the
  ;; activation after the BatchNorm done while the value is in a register (batch-norm-training.ts). Each
  ;; activation is the float32 steps of activations.wat's (ReLU: max(y, 0)), so the bits are the same.
  (func (export "bn_forward") (param $x i32) (param $mean i32) (param $scale i32) (param $shift i32) (param $out i32)
    (param $pixels i32) (param $C i32) (param $act i32)
    (call $apply (local.get $x) (local.get $mean) (local.get $scale) (local.get $shift) (i32.const 0) (i32.const 0)
      (local.get $out) (local.get $pixels) (local.get $C) (local.get $act)))

  (func $apply (param $x i32) (param $mean i32) (param $scale i32) (param $shift i32) (param $dy i32) (param $dyScale i32)
    (param $out i32) (param $pixels i32) (param $C i32) (param $act i32)
    (local $rowBytes i32) (local $p i32) (local $c i32) (local $v v128)
    (local.set $rowBytes (i32.shl (local.get $C) (i32.const 2)))
    (block $done (loop $pixel
      (br_if $done (i32.ge_u (local.get $p) (local.get $pixels)))
      (local.set $c (i32.const 0))
      (loop $channels
        (local.set $v (f32x4.add
          (f32x4.mul (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $c))) (v128.load (i32.add (local.get $mean) (local.get $c))))
                     (v128.load (i32.add (local.get $scale) (local.get $c))))
          (v128.load (i32.add (local.get $shift) (local.get $c)))))
        (if (local.get $dy) (then
          (local.set $v (f32x4.add (local.get $v)
            (f32x4.mul (v128.load (i32.add (local.get $dy) (local.get $c))) (v128.load (i32.add (local.get $dyScale) (local.get $c))))))))
        (if (i32.eq (local.get $act) (i32.const 1)) (then
          (local.set $v (f32x4.max (local.get $v) (v128.const f32x4 0 0 0 0)))))
        (if (i32.eq (local.get $act) (i32.const 2)) (then
          (local.set $v (f32x4.mul (local.get $v)
            (f32x4.div (f32x4.min (f32x4.max (f32x4.add (local.get $v) (v128.const f32x4 3 3 3 3)) (v128.const f32x4 0 0 0 0)) (v128.const f32x4 6 6 6 6))
              (v128.const f32x4 6 6 6 6))))))
        (v128.store (i32.add (local.get $out) (local.get $c)) (local.get $v))
        (local.set $c (i32.add (local.get $c) (i32.const 16)))
        (br_if $channels (i32.lt_u (local.get $c) (local.get $rowBytes))))
      (local.set $x (i32.add (local.get $x) (local.get $rowBytes)))
      (local.set $out (i32.add (local.get $out) (local.get $rowBytes)))
      (if (local.get $dy) (then (local.set $dy (i32.add (local.get $dy) (local.get $rowBytes)))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $pixel))))

  ;; The first pass of BatchNorm's gradient over `pixels` rows: sumDy[c] (f64) += Σ dy, sumDyDev[c] (f64) +=
  ;; Σ dy · (x − mean[c]), where dy is dz itself (act 0) or, with the activation after the BatchNorm inside
  ;; (act 1: ReLU, 2: hard-swish), its gradient act′(y) · dz at the BatchNorm output y, recomputed as
  ;; bn_forward computes it (scale = γ/σ, shift = β). Then dy is also written to `out` (the caller's dx, which
  ;; the last pass overwrites in place), 32 rows at a time, summed while they are in cache.
  (func (export "bn_backward_sums") (param $x i32) (param $dz i32) (param $mean i32) (param $scale i32) (param $shift i32) (param $out i32)
    (param $sumDy i32) (param $sumDyDev i32) (param $pixels i32) (param $C i32) (param $act i32)
    (local $rows i32) (local $blockBytes i32)
    (if (i32.eqz (local.get $act)) (then
      (call $reduce (i32.const 1) (local.get $x) (local.get $dz) (local.get $mean) (local.get $sumDy) (local.get $sumDyDev) (local.get $pixels) (local.get $C))
      (return)))
    (block $done (loop $blocks
      (br_if $done (i32.eqz (local.get $pixels)))
      (local.set $rows (local.get $pixels))
      (if (i32.gt_u (local.get $rows) (i32.const 32)) (then (local.set $rows (i32.const 32))))
      (call $act_grad (local.get $x) (local.get $dz) (local.get $mean) (local.get $scale) (local.get $shift) (local.get $out) (local.get $rows) (local.get $C) (local.get $act))
      (call $reduce (i32.const 1) (local.get $x) (local.get $out) (local.get $mean) (local.get $sumDy) (local.get $sumDyDev) (local.get $rows) (local.get $C))
      (local.set $blockBytes (i32.mul (local.get $rows) (i32.shl (local.get $C) (i32.const 2))))
      (local.set $x (i32.add (local.get $x) (local.get $blockBytes)))
      (local.set $dz (i32.add (local.get $dz) (local.get $blockBytes)))
      (local.set $out (i32.add (local.get $out) (local.get $blockBytes)))
      (local.set $pixels (i32.sub (local.get $pixels) (local.get $rows)))
      (br $blocks))))

  ;; out = act′(y) · dz at y = (x − mean) · scale + shift, in activations.wat's float32 steps (relu_grad,
  ;; hard_swish_grad), so the same bits as the activation's own gradient kernel.
  (func $act_grad (param $x i32) (param $dz i32) (param $mean i32) (param $scale i32) (param $shift i32) (param $out i32)
    (param $pixels i32) (param $C i32) (param $act i32)
    (local $rowBytes i32) (local $p i32) (local $c i32) (local $v v128) (local $g v128) (local $t v128)
    (local.set $rowBytes (i32.shl (local.get $C) (i32.const 2)))
    (block $done (loop $pixel
      (br_if $done (i32.ge_u (local.get $p) (local.get $pixels)))
      (local.set $c (i32.const 0))
      (loop $channels
        (local.set $v (f32x4.add
          (f32x4.mul (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $c))) (v128.load (i32.add (local.get $mean) (local.get $c))))
                     (v128.load (i32.add (local.get $scale) (local.get $c))))
          (v128.load (i32.add (local.get $shift) (local.get $c)))))
        (local.set $g (v128.load (i32.add (local.get $dz) (local.get $c))))
        (if (i32.eq (local.get $act) (i32.const 1))
          (then
            (local.set $v (f32x4.mul (local.get $g)
              (v128.bitselect
                (v128.const f32x4 nan nan nan nan)
                (v128.and (f32x4.gt (local.get $v) (v128.const f32x4 0 0 0 0)) (v128.const f32x4 1 1 1 1))
                (f32x4.ne (local.get $v) (local.get $v))))))
          (else
            (local.set $t (f32x4.add (local.get $v) (v128.const f32x4 3 3 3 3)))
            (local.set $v (f32x4.add
              (f32x4.mul (local.get $g) (f32x4.div (f32x4.min (f32x4.max (local.get $t) (v128.const f32x4 0 0 0 0)) (v128.const f32x4 6 6 6 6)) (v128.const f32x4 6 6 6 6)))
              (f32x4.mul (f32x4.div (f32x4.mul (local.get $g) (local.get $v)) (v128.const f32x4 6 6 6 6))
                (v128.bitselect
                  (v128.const f32x4 nan nan nan nan)
                  (v128.and
                    (v128.and (f32x4.le (local.get $t) (v128.const f32x4 6 6 6 6)) (f32x4.gt (local.get $t) (v128.const f32x4 0 0 0 0)))
                    (v128.const f32x4 1 1 1 1))
                  (f32x4.ne (local.get $t) (local.get $t))))))))
        (v128.store (i32.add (local.get $out) (local.get $c)) (local.get $v))
        (local.set $c (i32.add (local.get $c) (i32.const 16)))
        (br_if $channels (i32.lt_u (local.get $c) (local.get $rowBytes))))
      (local.set $x (i32.add (local.get $x) (local.get $rowBytes)))
      (local.set $dz (i32.add (local.get $dz) (local.get $rowBytes)))
      (local.set $out (i32.add (local.get $out) (local.get $rowBytes)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $pixel))))
)
