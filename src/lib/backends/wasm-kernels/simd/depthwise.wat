;; Depthwise convolutions in wasm SIMD, forward and both gradients, on the wasm backend's own memory (see
;; module.ts). Channel multiplier 1 and C a multiple of 4 (MobileNet's case; the TypeScript loops and XNNPACK
;; take the rest). All three walk the same pairs of rows: for every image b, output row oh and filter tap (kh, kw),
;; the output columns whose input column is inside the image (computed once per tap, no bounds test per
;; element), then one row function runs along them sixteen channels at a time.
(module
  (import "env" "memory" (memory 1 65536 @SHARED@))

  ;; Filter gradient along one row: acc[c] (f64) += Σ_{i < n} x[xs + i·xStep][c] · dy[ys + i·yStep][c],
  ;; summed in float32 registers along the row and added to the doubles once (four float32 partial sums
  ;; promoted and added to double accumulators).
  (func $filter_row (param $xs i32) (param $ys i32) (param $acc i32) (param $n i32) (param $xStep i32) (param $yStep i32) (param $C i32)
    (local $c i32) (local $xi i32) (local $yi i32) (local $i i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (block $done16 (loop $c16
      (br_if $done16 (i32.gt_u (i32.add (local.get $c) (i32.const 16)) (local.get $C)))
      (local.set $a0 (v128.const i64x2 0 0)) (local.set $a1 (v128.const i64x2 0 0))
      (local.set $a2 (v128.const i64x2 0 0)) (local.set $a3 (v128.const i64x2 0 0))
      (local.set $xi (i32.add (local.get $xs) (i32.shl (local.get $c) (i32.const 2))))
      (local.set $yi (i32.add (local.get $ys) (i32.shl (local.get $c) (i32.const 2))))
      (local.set $i (local.get $n))
      (loop $row
        (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (v128.load (local.get $xi)) (v128.load (local.get $yi)))))
        (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (v128.load offset=16 (local.get $xi)) (v128.load offset=16 (local.get $yi)))))
        (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (v128.load offset=32 (local.get $xi)) (v128.load offset=32 (local.get $yi)))))
        (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (v128.load offset=48 (local.get $xi)) (v128.load offset=48 (local.get $yi)))))
        (local.set $xi (i32.add (local.get $xi) (local.get $xStep)))
        (local.set $yi (i32.add (local.get $yi) (local.get $yStep)))
        (local.set $i (i32.sub (local.get $i) (i32.const 1)))
        (br_if $row (local.get $i)))
      (local.set $xi (i32.add (local.get $acc) (i32.shl (local.get $c) (i32.const 3))))
      ;; acc[c..c+16] (f64) += a0..a3, written out: V8 does not inline wasm calls.
      (v128.store (local.get $xi)
        (f64x2.add (v128.load (local.get $xi)) (f64x2.promote_low_f32x4 (local.get $a0))))
      (v128.store offset=16 (local.get $xi)
        (f64x2.add (v128.load offset=16 (local.get $xi))
          (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $a0) (local.get $a0)))))
      (v128.store offset=32 (local.get $xi)
        (f64x2.add (v128.load offset=32 (local.get $xi)) (f64x2.promote_low_f32x4 (local.get $a1))))
      (v128.store offset=48 (local.get $xi)
        (f64x2.add (v128.load offset=48 (local.get $xi))
          (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $a1) (local.get $a1)))))
      (v128.store offset=64 (local.get $xi)
        (f64x2.add (v128.load offset=64 (local.get $xi)) (f64x2.promote_low_f32x4 (local.get $a2))))
      (v128.store offset=80 (local.get $xi)
        (f64x2.add (v128.load offset=80 (local.get $xi))
          (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $a2) (local.get $a2)))))
      (v128.store offset=96 (local.get $xi)
        (f64x2.add (v128.load offset=96 (local.get $xi)) (f64x2.promote_low_f32x4 (local.get $a3))))
      (v128.store offset=112 (local.get $xi)
        (f64x2.add (v128.load offset=112 (local.get $xi))
          (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $a3) (local.get $a3)))))
      (local.set $c (i32.add (local.get $c) (i32.const 16)))
      (br $c16)))
    (block $done4 (loop $c4
      (br_if $done4 (i32.ge_u (local.get $c) (local.get $C)))
      (local.set $a0 (v128.const i64x2 0 0))
      (local.set $xi (i32.add (local.get $xs) (i32.shl (local.get $c) (i32.const 2))))
      (local.set $yi (i32.add (local.get $ys) (i32.shl (local.get $c) (i32.const 2))))
      (local.set $i (local.get $n))
      (loop $row
        (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (v128.load (local.get $xi)) (v128.load (local.get $yi)))))
        (local.set $xi (i32.add (local.get $xi) (local.get $xStep)))
        (local.set $yi (i32.add (local.get $yi) (local.get $yStep)))
        (local.set $i (i32.sub (local.get $i) (i32.const 1)))
        (br_if $row (local.get $i)))
      (local.set $xi (i32.add (local.get $acc) (i32.shl (local.get $c) (i32.const 3))))
      (v128.store (local.get $xi)
        (f64x2.add (v128.load (local.get $xi)) (f64x2.promote_low_f32x4 (local.get $a0))))
      (v128.store offset=16 (local.get $xi)
        (f64x2.add (v128.load offset=16 (local.get $xi))
          (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $a0) (local.get $a0)))))
      (local.set $c (i32.add (local.get $c) (i32.const 4)))
      (br $c4))))

  ;; One tap along one row: dst[ds + i·dStep][c] += src[ss + i·sStep][c] · filter[c] for i < n, with
  ;; sixteen channels of the tap held in registers (the input gradient: dx ← dy; the forward pass: y ← x).
  (func $tap_row (param $ds i32) (param $ss i32) (param $filter i32) (param $n i32) (param $dStep i32) (param $sStep i32) (param $C i32)
    (local $c i32) (local $di i32) (local $si i32) (local $i i32)
    (local $f0 v128) (local $f1 v128) (local $f2 v128) (local $f3 v128)
    (block $done16 (loop $c16
      (br_if $done16 (i32.gt_u (i32.add (local.get $c) (i32.const 16)) (local.get $C)))
      (local.set $di (i32.add (local.get $filter) (i32.shl (local.get $c) (i32.const 2))))
      (local.set $f0 (v128.load (local.get $di))) (local.set $f1 (v128.load offset=16 (local.get $di)))
      (local.set $f2 (v128.load offset=32 (local.get $di))) (local.set $f3 (v128.load offset=48 (local.get $di)))
      (local.set $di (i32.add (local.get $ds) (i32.shl (local.get $c) (i32.const 2))))
      (local.set $si (i32.add (local.get $ss) (i32.shl (local.get $c) (i32.const 2))))
      (local.set $i (local.get $n))
      (loop $row
        (v128.store (local.get $di) (f32x4.add (v128.load (local.get $di)) (f32x4.mul (v128.load (local.get $si)) (local.get $f0))))
        (v128.store offset=16 (local.get $di) (f32x4.add (v128.load offset=16 (local.get $di)) (f32x4.mul (v128.load offset=16 (local.get $si)) (local.get $f1))))
        (v128.store offset=32 (local.get $di) (f32x4.add (v128.load offset=32 (local.get $di)) (f32x4.mul (v128.load offset=32 (local.get $si)) (local.get $f2))))
        (v128.store offset=48 (local.get $di) (f32x4.add (v128.load offset=48 (local.get $di)) (f32x4.mul (v128.load offset=48 (local.get $si)) (local.get $f3))))
        (local.set $di (i32.add (local.get $di) (local.get $dStep)))
        (local.set $si (i32.add (local.get $si) (local.get $sStep)))
        (local.set $i (i32.sub (local.get $i) (i32.const 1)))
        (br_if $row (local.get $i)))
      (local.set $c (i32.add (local.get $c) (i32.const 16)))
      (br $c16)))
    (block $done4 (loop $c4
      (br_if $done4 (i32.ge_u (local.get $c) (local.get $C)))
      (local.set $f0 (v128.load (i32.add (local.get $filter) (i32.shl (local.get $c) (i32.const 2)))))
      (local.set $di (i32.add (local.get $ds) (i32.shl (local.get $c) (i32.const 2))))
      (local.set $si (i32.add (local.get $ss) (i32.shl (local.get $c) (i32.const 2))))
      (local.set $i (local.get $n))
      (loop $row
        (v128.store (local.get $di) (f32x4.add (v128.load (local.get $di)) (f32x4.mul (v128.load (local.get $si)) (local.get $f0))))
        (local.set $di (i32.add (local.get $di) (local.get $dStep)))
        (local.set $si (i32.add (local.get $si) (local.get $sStep)))
        (local.set $i (i32.sub (local.get $i) (i32.const 1)))
        (br_if $row (local.get $i)))
      (local.set $c (i32.add (local.get $c) (i32.const 4)))
      (br $c4))))

  ;; Walks every (b, oh, kh, kw) row pair of the convolution x (or dx) ⋆ filter → dy and runs on it, by
  ;; $mode: 0 $filter_row (tap points at f64 accumulators); 1 $tap_row, x ← dy (tap points at the
  ;; filter); 2 $tap_row the other way, dy ← x: the forward pass, each output summed in tap order.
  ;; Image b's taps are at tap + (b / groupImages)·tapStride (the filter gradient's groups of images).
  (func $walk (param $mode i32) (param $x i32) (param $dy i32) (param $tap i32)
    (param $batch i32) (param $inH i32) (param $inW i32) (param $C i32) (param $outH i32) (param $outW i32)
    (param $fH i32) (param $fW i32) (param $sH i32) (param $sW i32) (param $dH i32) (param $dW i32)
    (param $padTop i32) (param $padLeft i32) (param $groupImages i32) (param $tapStride i32)
    (local $b i32) (local $oh i32) (local $kh i32) (local $kw i32) (local $ih i32) (local $offset i32)
    (local $owStart i32) (local $owEnd i32) (local $start i32) (local $limit i32)
    (local $xs i32) (local $ys i32) (local $tapRow i32) (local $xStep i32) (local $yStep i32) (local $n i32) (local $imageTap i32)
    (local.set $xStep (i32.mul (local.get $sW) (i32.shl (local.get $C) (i32.const 2))))
    (local.set $yStep (i32.shl (local.get $C) (i32.const 2)))
    (block $done_b (loop $loop_b
      (br_if $done_b (i32.ge_u (local.get $b) (local.get $batch)))
      (local.set $imageTap (i32.add (local.get $tap) (i32.mul (i32.div_u (local.get $b) (local.get $groupImages)) (local.get $tapStride))))
      (local.set $oh (i32.const 0))
      (block $done_oh (loop $loop_oh
        (br_if $done_oh (i32.ge_u (local.get $oh) (local.get $outH)))
        (local.set $kh (i32.const 0))
        (block $done_kh (loop $loop_kh
          (br_if $done_kh (i32.ge_u (local.get $kh) (local.get $fH)))
          (local.set $ih (i32.add (i32.sub (i32.mul (local.get $oh) (local.get $sH)) (local.get $padTop))
                                  (i32.mul (local.get $kh) (local.get $dH))))
          (if (i32.and (i32.ge_s (local.get $ih) (i32.const 0)) (i32.lt_s (local.get $ih) (local.get $inH))) (then
            (local.set $kw (i32.const 0))
            (block $done_kw (loop $loop_kw
              (br_if $done_kw (i32.ge_u (local.get $kw) (local.get $fW)))
              (local.set $offset (i32.mul (local.get $kw) (local.get $dW)))
              ;; owStart = first ow with ow·sW − padLeft + offset ≥ 0; owEnd = one past the last < inW.
              (local.set $start (i32.sub (local.get $padLeft) (local.get $offset)))
              (local.set $owStart (select (i32.const 0)
                (i32.div_s (i32.sub (i32.add (local.get $start) (local.get $sW)) (i32.const 1)) (local.get $sW))
                (i32.le_s (local.get $start) (i32.const 0))))
              (local.set $limit (i32.sub (i32.add (local.get $inW) (local.get $padLeft)) (local.get $offset)))
              (local.set $owEnd (select (i32.const 0)
                (i32.div_s (i32.sub (i32.add (local.get $limit) (local.get $sW)) (i32.const 1)) (local.get $sW))
                (i32.le_s (local.get $limit) (i32.const 0))))
              (if (i32.gt_s (local.get $owEnd) (local.get $outW)) (then (local.set $owEnd (local.get $outW))))
              (local.set $n (i32.sub (local.get $owEnd) (local.get $owStart)))
              (if (i32.gt_s (local.get $n) (i32.const 0)) (then
                (local.set $xs (i32.add (local.get $x) (i32.shl (i32.mul
                  (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $inH)) (local.get $ih)) (local.get $inW))
                           (i32.add (i32.sub (i32.mul (local.get $owStart) (local.get $sW)) (local.get $padLeft)) (local.get $offset)))
                  (local.get $C)) (i32.const 2))))
                (local.set $ys (i32.add (local.get $dy) (i32.shl (i32.mul
                  (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $outH)) (local.get $oh)) (local.get $outW)) (local.get $owStart))
                  (local.get $C)) (i32.const 2))))
                (local.set $tapRow (i32.mul (i32.add (i32.mul (local.get $kh) (local.get $fW)) (local.get $kw)) (local.get $C)))
                (if (i32.eqz (local.get $mode))
                  (then (call $filter_row (local.get $xs) (local.get $ys) (i32.add (local.get $imageTap) (i32.shl (local.get $tapRow) (i32.const 3)))
                    (local.get $n) (local.get $xStep) (local.get $yStep) (local.get $C)))
                  (else (if (i32.eq (local.get $mode) (i32.const 1))
                    (then (call $tap_row (local.get $xs) (local.get $ys) (i32.add (local.get $imageTap) (i32.shl (local.get $tapRow) (i32.const 2)))
                      (local.get $n) (local.get $xStep) (local.get $yStep) (local.get $C)))
                    (else (call $tap_row (local.get $ys) (local.get $xs) (i32.add (local.get $imageTap) (i32.shl (local.get $tapRow) (i32.const 2)))
                      (local.get $n) (local.get $yStep) (local.get $xStep) (local.get $C))))))))
              (local.set $kw (i32.add (local.get $kw) (i32.const 1)))
              (br $loop_kw)))))
          (local.set $kh (i32.add (local.get $kh) (i32.const 1)))
          (br $loop_kh)))
        (local.set $oh (i32.add (local.get $oh) (i32.const 1)))
        (br $loop_oh)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $loop_b))))

;; acc[g][(kh·fW + kw)·C + c] (f64, zeroed by the caller) += Σ_{b, oh, ow} x[b, ih, iw, c] · dy[b, oh, ow, c]
  ;; over the images b of group g = b / groupImages, each group's accumulators accStride bytes after the
  ;; last's: with groups fixed by the batch alone, threads dividing them sum every group as one thread would.
  (func (export "depthwise_filter_grad")
    (param $x i32) (param $dy i32) (param $acc i32)
    (param $batch i32) (param $inH i32) (param $inW i32) (param $C i32) (param $outH i32) (param $outW i32)
    (param $fH i32) (param $fW i32) (param $sH i32) (param $sW i32) (param $dH i32) (param $dW i32)
    (param $padTop i32) (param $padLeft i32) (param $groupImages i32) (param $accStride i32)
    (call $walk (i32.const 0) (local.get $x) (local.get $dy) (local.get $acc)
      (local.get $batch) (local.get $inH) (local.get $inW) (local.get $C) (local.get $outH) (local.get $outW)
      (local.get $fH) (local.get $fW) (local.get $sH) (local.get $sW) (local.get $dH) (local.get $dW)
      (local.get $padTop) (local.get $padLeft) (local.get $groupImages) (local.get $accStride)))

  ;; dx[b, ih, iw, c] = Σ dy[b, oh, ow, c] · filter[kh, kw, c] over the taps reaching it (dx zeroed here first,
  ;; so that threads dividing the images each zero their own)
  (func (export "depthwise_input_grad")
    (param $dy i32) (param $filter i32) (param $dx i32)
    (param $batch i32) (param $inH i32) (param $inW i32) (param $C i32) (param $outH i32) (param $outW i32)
    (param $fH i32) (param $fW i32) (param $sH i32) (param $sW i32) (param $dH i32) (param $dW i32)
    (param $padTop i32) (param $padLeft i32)
    (memory.fill (local.get $dx) (i32.const 0)
      (i32.shl (i32.mul (i32.mul (local.get $batch) (local.get $inH)) (i32.mul (local.get $inW) (local.get $C))) (i32.const 2)))
    (call $walk (i32.const 1) (local.get $dx) (local.get $dy) (local.get $filter)
      (local.get $batch) (local.get $inH) (local.get $inW) (local.get $C) (local.get $outH) (local.get $outW)
      (local.get $fH) (local.get $fW) (local.get $sH) (local.get $sW) (local.get $dH) (local.get $dW)
      (local.get $padTop) (local.get $padLeft) (i32.const 1) (i32.const 0)))

  ;; y[b, oh, ow, c] = Σ x[b, ih, iw, c] · filter[kh, kw, c] over the taps inside x (y zeroed here first)
  (func (export "depthwise_forward")
    (param $x i32) (param $filter i32) (param $y i32)
    (param $batch i32) (param $inH i32) (param $inW i32) (param $C i32) (param $outH i32) (param $outW i32)
    (param $fH i32) (param $fW i32) (param $sH i32) (param $sW i32) (param $dH i32) (param $dW i32)
    (param $padTop i32) (param $padLeft i32)
    (memory.fill (local.get $y) (i32.const 0)
      (i32.shl (i32.mul (i32.mul (local.get $batch) (local.get $outH)) (i32.mul (local.get $outW) (local.get $C))) (i32.const 2)))
    (call $walk (i32.const 2) (local.get $x) (local.get $y) (local.get $filter)
      (local.get $batch) (local.get $inH) (local.get $inW) (local.get $C) (local.get $outH) (local.get $outW)
      (local.get $fH) (local.get $fW) (local.get $sH) (local.get $sW) (local.get $dH) (local.get $dW)
      (local.get $padTop) (local.get $padLeft) (i32.const 1) (i32.const 0)))

  ;; out[i] (f32) = acc[0·size + i] + acc[1·size + i] + … + acc[(groups − 1)·size + i], the groups' doubles
  ;; added in order and rounded once (the filter gradient's groups); size a multiple of 4.
  (func (export "sum_groups") (param $acc i32) (param $groups i32) (param $size i32) (param $out i32)
    (local $end i32) (local $g i32) (local $at i32) (local $stride i32) (local $lo v128) (local $hi v128)
    (local.set $stride (i32.shl (local.get $size) (i32.const 3)))
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $size) (i32.const 2))))
    (block $done (loop $each
      (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
      (local.set $lo (v128.load (local.get $acc)))
      (local.set $hi (v128.load offset=16 (local.get $acc)))
      (local.set $at (i32.add (local.get $acc) (local.get $stride)))
      (local.set $g (i32.const 1))
      (block $summed (loop $group
        (br_if $summed (i32.ge_u (local.get $g) (local.get $groups)))
        (local.set $lo (f64x2.add (local.get $lo) (v128.load (local.get $at))))
        (local.set $hi (f64x2.add (local.get $hi) (v128.load offset=16 (local.get $at))))
        (local.set $at (i32.add (local.get $at) (local.get $stride)))
        (local.set $g (i32.add (local.get $g) (i32.const 1)))
        (br $group)))
      (v128.store (local.get $out)
        (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
          (f32x4.demote_f64x2_zero (local.get $lo)) (f32x4.demote_f64x2_zero (local.get $hi))))
      (local.set $acc (i32.add (local.get $acc) (i32.const 32)))
      (local.set $out (i32.add (local.get $out) (i32.const 16)))
      (br $each))))
)
