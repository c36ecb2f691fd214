;; Adam's update of one variable in wasm SIMD, on the wasm backend's own memory (see module.ts).
(module
  (import "env" "memory" (memory 1 65536 @SHARED@))

  ;; For i < count, in float32 and in the order of ConstantsAdam.applyGradients' tensor ops, so that each
  ;; operation rounds as the op-by-op path does and the result is bit-identical to it:
  ;;   outM[i]     = m[i]·β₁ + g[i]·(1 − β₁)
  ;;   outV[i]     = v[i]·β₂ + (g[i]·g[i])·(1 − β₂)
  ;;   outValue[i] = ((outM[i] / (1 − β₁ᵗ)) / (sqrt(outV[i] / (1 − β₂ᵗ)) + ε))·(−lr) + value[i]
  ;; Four elements at a time, then one at a time for the last count % 4. Plain mul and add, never a fused
  ;; multiply-add, which would round once where tfjs rounds twice.
  (func (export "adam_step")
    (param $value i32) (param $m i32) (param $v i32) (param $gradient i32)
    (param $outValue i32) (param $outM i32) (param $outV i32) (param $count i32)
    (param $beta1 f32) (param $oneMinusBeta1 f32) (param $beta2 f32) (param $oneMinusBeta2 f32)
    (param $oneMinusAccBeta1 f32) (param $oneMinusAccBeta2 f32) (param $epsilon f32) (param $negativeLearningRate f32)
    (local $offset i32) (local $end4 i32) (local $end i32)
    (local $b1 v128) (local $omb1 v128) (local $b2 v128) (local $omb2 v128)
    (local $omab1 v128) (local $omab2 v128) (local $eps v128) (local $nlr v128)
    (local $g v128) (local $newM v128) (local $newV v128)
    (local $gs f32) (local $newMs f32) (local $newVs f32)
    (local.set $b1 (f32x4.splat (local.get $beta1)))
    (local.set $omb1 (f32x4.splat (local.get $oneMinusBeta1)))
    (local.set $b2 (f32x4.splat (local.get $beta2)))
    (local.set $omb2 (f32x4.splat (local.get $oneMinusBeta2)))
    (local.set $omab1 (f32x4.splat (local.get $oneMinusAccBeta1)))
    (local.set $omab2 (f32x4.splat (local.get $oneMinusAccBeta2)))
    (local.set $eps (f32x4.splat (local.get $epsilon)))
    (local.set $nlr (f32x4.splat (local.get $negativeLearningRate)))
    ;; Byte offsets: end4 ends the whole groups of four, end the array.
    (local.set $end (i32.shl (local.get $count) (i32.const 2)))
    (local.set $end4 (i32.and (local.get $end) (i32.const -16)))
    (block $done4 (loop $loop4
      (br_if $done4 (i32.ge_u (local.get $offset) (local.get $end4)))
      (local.set $g (v128.load (i32.add (local.get $gradient) (local.get $offset))))
      (local.set $newM (f32x4.add
        (f32x4.mul (v128.load (i32.add (local.get $m) (local.get $offset))) (local.get $b1))
        (f32x4.mul (local.get $g) (local.get $omb1))))
      (local.set $newV (f32x4.add
        (f32x4.mul (v128.load (i32.add (local.get $v) (local.get $offset))) (local.get $b2))
        (f32x4.mul (f32x4.mul (local.get $g) (local.get $g)) (local.get $omb2))))
      (v128.store (i32.add (local.get $outM) (local.get $offset)) (local.get $newM))
      (v128.store (i32.add (local.get $outV) (local.get $offset)) (local.get $newV))
      (v128.store (i32.add (local.get $outValue) (local.get $offset))
        (f32x4.add
          (f32x4.mul
            (f32x4.div
              (f32x4.div (local.get $newM) (local.get $omab1))
              (f32x4.add (f32x4.sqrt (f32x4.div (local.get $newV) (local.get $omab2))) (local.get $eps)))
            (local.get $nlr))
          (v128.load (i32.add (local.get $value) (local.get $offset)))))
      (local.set $offset (i32.add (local.get $offset) (i32.const 16)))
      (br $loop4)))
    (block $done1 (loop $loop1
      (br_if $done1 (i32.ge_u (local.get $offset) (local.get $end)))
      (local.set $gs (f32.load (i32.add (local.get $gradient) (local.get $offset))))
      (local.set $newMs (f32.add
        (f32.mul (f32.load (i32.add (local.get $m) (local.get $offset))) (local.get $beta1))
        (f32.mul (local.get $gs) (local.get $oneMinusBeta1))))
      (local.set $newVs (f32.add
        (f32.mul (f32.load (i32.add (local.get $v) (local.get $offset))) (local.get $beta2))
        (f32.mul (f32.mul (local.get $gs) (local.get $gs)) (local.get $oneMinusBeta2))))
      (f32.store (i32.add (local.get $outM) (local.get $offset)) (local.get $newMs))
      (f32.store (i32.add (local.get $outV) (local.get $offset)) (local.get $newVs))
      (f32.store (i32.add (local.get $outValue) (local.get $offset))
        (f32.add
          (f32.mul
            (f32.div
              (f32.div (local.get $newMs) (local.get $oneMinusAccBeta1))
              (f32.add (f32.sqrt (f32.div (local.get $newVs) (local.get $oneMinusAccBeta2))) (local.get $epsilon)))
            (local.get $negativeLearningRate))
          (f32.load (i32.add (local.get $value) (local.get $offset)))))
      (local.set $offset (i32.add (local.get $offset) (i32.const 4)))
      (br $loop1)))
  )
)
