;; Max-pool gradient in wasm SIMD, on the wasm backend's own memory (see module.ts): the same walk as
;; pool.ts's maxPoolGrad, four channels a lane vector (C a multiple of 4). Each lane keeps its running
;; maximum (strict `>` from −∞: NaN never wins, the first of equal maxima stays) and the byte offset of the
;; pixel holding it; then each output's dy is added at that pixel, outputs in order, so dx is bit for bit
;; the TypeScript loop's.
(module
  (import "env" "memory" (memory 1 65536 @SHARED@))

  ;; dx[base + idx[l] + 4l] += g[l] for each lane l whose idx is not −1 (a window with no maximum).
  (func $scatter (param $base i32) (param $idx v128) (param $g v128)
    (local $a i32)
    (local.set $a (i32x4.extract_lane 0 (local.get $idx)))
    (if (i32.ge_s (local.get $a) (i32.const 0)) (then
      (local.set $a (i32.add (local.get $base) (local.get $a)))
      (f32.store (local.get $a) (f32.add (f32.load (local.get $a)) (f32x4.extract_lane 0 (local.get $g))))))
    (local.set $a (i32x4.extract_lane 1 (local.get $idx)))
    (if (i32.ge_s (local.get $a) (i32.const 0)) (then
      (local.set $a (i32.add (local.get $base) (local.get $a)))
      (f32.store offset=4 (local.get $a) (f32.add (f32.load offset=4 (local.get $a)) (f32x4.extract_lane 1 (local.get $g))))))
    (local.set $a (i32x4.extract_lane 2 (local.get $idx)))
    (if (i32.ge_s (local.get $a) (i32.const 0)) (then
      (local.set $a (i32.add (local.get $base) (local.get $a)))
      (f32.store offset=8 (local.get $a) (f32.add (f32.load offset=8 (local.get $a)) (f32x4.extract_lane 2 (local.get $g))))))
    (local.set $a (i32x4.extract_lane 3 (local.get $idx)))
    (if (i32.ge_s (local.get $a) (i32.const 0)) (then
      (local.set $a (i32.add (local.get $base) (local.get $a)))
      (f32.store offset=12 (local.get $a) (f32.add (f32.load offset=12 (local.get $a)) (f32x4.extract_lane 3 (local.get $g)))))))

  ;; First index k ≥ 0 with start + k·step ≥ 0 (ceil(−start / step), 0 when start ≥ 0).
  (func $first_inside (param $start i32) (param $step i32) (result i32)
    (select (i32.const 0)
      (i32.div_s (i32.sub (i32.sub (local.get $step) (local.get $start)) (i32.const 1)) (local.get $step))
      (i32.ge_s (local.get $start) (i32.const 0))))

  ;; One past the last index k < n with start + k·step < size (ceil((size − start) / step), clamped to [0, n]).
  (func $end_inside (param $start i32) (param $step i32) (param $size i32) (param $n i32) (result i32)
    (local $limit i32) (local $k i32)
    (local.set $limit (i32.sub (local.get $size) (local.get $start)))
    (if (i32.le_s (local.get $limit) (i32.const 0)) (then (return (i32.const 0))))
    (local.set $k (i32.div_s (i32.sub (i32.add (local.get $limit) (local.get $step)) (i32.const 1)) (local.get $step)))
    (select (local.get $n) (local.get $k) (i32.gt_s (local.get $k) (local.get $n))))

  ;; dx[b, ih, iw, c] (zeroed by the caller) += dy[b, oh, ow, c] where x[b, ih, iw, c] is the first maximum
  ;; of output (b, oh, ow)'s window (fH × fW taps, dilation dH × dW, row-major order), channel by channel.
  (func (export "max_pool_grad")
    (param $x i32) (param $dy i32) (param $dx i32)
    (param $batch i32) (param $inH i32) (param $inW i32) (param $C i32) (param $outH i32) (param $outW i32)
    (param $fH i32) (param $fW i32) (param $sH i32) (param $sW i32) (param $dH i32) (param $dW i32)
    (param $padTop i32) (param $padLeft i32)
    (local $b i32) (local $oh i32) (local $ow i32) (local $top i32) (local $left i32)
    (local $kh0 i32) (local $kh1 i32) (local $kw0 i32) (local $kw1 i32) (local $kh i32) (local $kw i32)
    (local $pixelBytes i32) (local $image i32) (local $tapStep i32) (local $rowStep i32) (local $row i32) (local $p i32) (local $c i32) (local $at i32)
    (local $v v128) (local $gt v128) (local $tap v128)
    (local $m0 v128) (local $m1 v128) (local $m2 v128) (local $m3 v128)
    (local $i0 v128) (local $i1 v128) (local $i2 v128) (local $i3 v128)
    (local.set $pixelBytes (i32.shl (local.get $C) (i32.const 2)))
    (local.set $tapStep (i32.mul (local.get $dW) (local.get $pixelBytes)))
    (local.set $rowStep (i32.mul (i32.mul (local.get $dH) (local.get $inW)) (local.get $pixelBytes)))
    (block $done_b (loop $loop_b
      (br_if $done_b (i32.ge_u (local.get $b) (local.get $batch)))
      (local.set $image (i32.mul (i32.mul (i32.mul (local.get $b) (local.get $inH)) (local.get $inW)) (local.get $pixelBytes)))
      (local.set $oh (i32.const 0))
      (block $done_oh (loop $loop_oh
        (br_if $done_oh (i32.ge_u (local.get $oh) (local.get $outH)))
        (local.set $top (i32.sub (i32.mul (local.get $oh) (local.get $sH)) (local.get $padTop)))
        ;; The taps inside the image, once per output instead of a bounds test per tap and channel.
        (local.set $kh0 (call $first_inside (local.get $top) (local.get $dH)))
        (local.set $kh1 (call $end_inside (local.get $top) (local.get $dH) (local.get $inH) (local.get $fH)))
        (local.set $ow (i32.const 0))
        (block $done_ow (loop $loop_ow
          (br_if $done_ow (i32.ge_u (local.get $ow) (local.get $outW)))
          (local.set $left (i32.sub (i32.mul (local.get $ow) (local.get $sW)) (local.get $padLeft)))
          (local.set $kw0 (call $first_inside (local.get $left) (local.get $dW)))
          (local.set $kw1 (call $end_inside (local.get $left) (local.get $dW) (local.get $inW) (local.get $fW)))
          (if (i32.and (i32.lt_s (local.get $kh0) (local.get $kh1)) (i32.lt_s (local.get $kw0) (local.get $kw1))) (then
            ;; Byte offset (from x) of the window's first tap inside the image.
            (local.set $row (i32.add (local.get $image) (i32.mul (local.get $pixelBytes)
              (i32.add (i32.mul (i32.add (local.get $top) (i32.mul (local.get $kh0) (local.get $dH))) (local.get $inW))
                       (i32.add (local.get $left) (i32.mul (local.get $kw0) (local.get $dW)))))))
            (local.set $c (i32.const 0))
            ;; Sixteen channels at a time: four independent compare-select chains.
            (block $done16 (loop $c16
              (br_if $done16 (i32.gt_u (i32.add (local.get $c) (i32.const 64)) (local.get $pixelBytes)))
              (local.set $m0 (v128.const f32x4 -inf -inf -inf -inf)) (local.set $m1 (local.get $m0))
              (local.set $m2 (local.get $m0)) (local.set $m3 (local.get $m0))
              (local.set $i0 (v128.const i32x4 -1 -1 -1 -1)) (local.set $i1 (local.get $i0))
              (local.set $i2 (local.get $i0)) (local.set $i3 (local.get $i0))
              (local.set $p (local.get $row))
              (local.set $kh (local.get $kh0))
              (loop $taps_h
                (local.set $at (local.get $p))
                (local.set $kw (local.get $kw0))
                (loop $taps_w
                  (local.set $tap (i32x4.splat (local.get $at)))
                  (local.set $v (v128.load (i32.add (i32.add (local.get $x) (local.get $at)) (local.get $c))))
                  (local.set $gt (f32x4.gt (local.get $v) (local.get $m0)))
                  (local.set $m0 (v128.bitselect (local.get $v) (local.get $m0) (local.get $gt)))
                  (local.set $i0 (v128.bitselect (local.get $tap) (local.get $i0) (local.get $gt)))
                  (local.set $v (v128.load offset=16 (i32.add (i32.add (local.get $x) (local.get $at)) (local.get $c))))
                  (local.set $gt (f32x4.gt (local.get $v) (local.get $m1)))
                  (local.set $m1 (v128.bitselect (local.get $v) (local.get $m1) (local.get $gt)))
                  (local.set $i1 (v128.bitselect (local.get $tap) (local.get $i1) (local.get $gt)))
                  (local.set $v (v128.load offset=32 (i32.add (i32.add (local.get $x) (local.get $at)) (local.get $c))))
                  (local.set $gt (f32x4.gt (local.get $v) (local.get $m2)))
                  (local.set $m2 (v128.bitselect (local.get $v) (local.get $m2) (local.get $gt)))
                  (local.set $i2 (v128.bitselect (local.get $tap) (local.get $i2) (local.get $gt)))
                  (local.set $v (v128.load offset=48 (i32.add (i32.add (local.get $x) (local.get $at)) (local.get $c))))
                  (local.set $gt (f32x4.gt (local.get $v) (local.get $m3)))
                  (local.set $m3 (v128.bitselect (local.get $v) (local.get $m3) (local.get $gt)))
                  (local.set $i3 (v128.bitselect (local.get $tap) (local.get $i3) (local.get $gt)))
                  (local.set $at (i32.add (local.get $at) (local.get $tapStep)))
                  (local.set $kw (i32.add (local.get $kw) (i32.const 1)))
                  (br_if $taps_w (i32.lt_s (local.get $kw) (local.get $kw1))))
                (local.set $p (i32.add (local.get $p) (local.get $rowStep)))
                (local.set $kh (i32.add (local.get $kh) (i32.const 1)))
                (br_if $taps_h (i32.lt_s (local.get $kh) (local.get $kh1))))
              (local.set $at (i32.add (local.get $dx) (local.get $c)))
              (local.set $p (i32.add (local.get $dy) (local.get $c)))
              (call $scatter (local.get $at) (local.get $i0) (v128.load (local.get $p)))
              (call $scatter (i32.add (local.get $at) (i32.const 16)) (local.get $i1) (v128.load offset=16 (local.get $p)))
              (call $scatter (i32.add (local.get $at) (i32.const 32)) (local.get $i2) (v128.load offset=32 (local.get $p)))
              (call $scatter (i32.add (local.get $at) (i32.const 48)) (local.get $i3) (v128.load offset=48 (local.get $p)))
              (local.set $c (i32.add (local.get $c) (i32.const 64)))
              (br $c16)))
            ;; The last channels, four at a time.
            (block $done4 (loop $c4
              (br_if $done4 (i32.ge_u (local.get $c) (local.get $pixelBytes)))
              (local.set $m0 (v128.const f32x4 -inf -inf -inf -inf))
              (local.set $i0 (v128.const i32x4 -1 -1 -1 -1))
              (local.set $p (local.get $row))
              (local.set $kh (local.get $kh0))
              (loop $taps_h
                (local.set $at (local.get $p))
                (local.set $kw (local.get $kw0))
                (loop $taps_w
                  (local.set $v (v128.load (i32.add (i32.add (local.get $x) (local.get $at)) (local.get $c))))
                  (local.set $gt (f32x4.gt (local.get $v) (local.get $m0)))
                  (local.set $m0 (v128.bitselect (local.get $v) (local.get $m0) (local.get $gt)))
                  (local.set $i0 (v128.bitselect (i32x4.splat (local.get $at)) (local.get $i0) (local.get $gt)))
                  (local.set $at (i32.add (local.get $at) (local.get $tapStep)))
                  (local.set $kw (i32.add (local.get $kw) (i32.const 1)))
                  (br_if $taps_w (i32.lt_s (local.get $kw) (local.get $kw1))))
                (local.set $p (i32.add (local.get $p) (local.get $rowStep)))
                (local.set $kh (i32.add (local.get $kh) (i32.const 1)))
                (br_if $taps_h (i32.lt_s (local.get $kh) (local.get $kh1))))
              (call $scatter (i32.add (local.get $dx) (local.get $c)) (local.get $i0) (v128.load (i32.add (local.get $dy) (local.get $c))))
              (local.set $c (i32.add (local.get $c) (i32.const 16)))
              (br $c4)))))
          (local.set $dy (i32.add (local.get $dy) (local.get $pixelBytes)))
          (local.set $ow (i32.add (local.get $ow) (i32.const 1)))
          (br $loop_ow)))
        (local.set $oh (i32.add (local.get $oh) (i32.const 1)))
        (br $loop_oh)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $loop_b))))
)
