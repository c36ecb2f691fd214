;; MobileNetV3's hard-swish and hard-sigmoid (PyTorch's: relu6(x + 3) / 6, times x for hard-swish) and their
;; gradients, and ReLU's gradient, as one pass each, in wasm SIMD on the wasm backend's own memory (see
;; module.ts). Composed from tfjs ops they take 4 kernels forward and ~9 backward (ReLU's gradient 3), each a
;; pass over the whole activation. Every step below is the float32 operation tfjs's composed ops and their
;; gradients perform, in the same order, so the results are the same bits; a NaN input gives NaN forward
;; and backward, as on tfjs's cpu backend (tfjs-backend-wasm's Relu6 and Step turn NaN into 0).
(module
  (import "env" "memory" (memory 1 65536 @SHARED@))

  ;; gate(x) = relu6(x + 3) / 6 and mask(x) = relu6's gradient mask at t = x + 3 (1 where 0 < t ≤ 6, else 0,
  ;; NaN at NaN: tfjs's lessEqual(t, 6) · step(t)) are written out in each loop below rather than called:
  ;; V8 does not inline wasm calls, and a call per vector made hard_swish_grad twice as slow.
  ;;   t = x + 3;  gate = min(max(t, 0), 6) / 6;  mask = bitselect(NaN, (t ≤ 6 & t > 0) & 1.0, t ≠ t)

;; out = x · gate(x). count must be a multiple of 4 (the caller does a tensor's last few elements).
  (func (export "hard_swish") (param $x i32) (param $out i32) (param $count i32)
    (local $end i32) (local $v v128) (local $t v128)
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $count) (i32.const 2))))
    (block $done (loop $each
      (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $v (v128.load (local.get $x)))
      (local.set $t (f32x4.add (local.get $v) (v128.const f32x4 3 3 3 3)))
      (v128.store (local.get $out) (f32x4.mul (local.get $v) (f32x4.div (f32x4.min (f32x4.max (local.get $t) (v128.const f32x4 0 0 0 0)) (v128.const f32x4 6 6 6 6)) (v128.const f32x4 6 6 6 6))))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (local.set $out (i32.add (local.get $out) (i32.const 16)))
      (br $each))))

  ;; dx = dy · gate(x) + ((dy · x) / 6) · mask(x)   (the product rule's two terms, as tfjs adds them)
  (func (export "hard_swish_grad") (param $x i32) (param $dy i32) (param $dx i32) (param $count i32)
    (local $end i32) (local $v v128) (local $g v128) (local $t v128)
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $count) (i32.const 2))))
    (block $done (loop $each
      (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $v (v128.load (local.get $x)))
      (local.set $g (v128.load (local.get $dy)))
      (local.set $t (f32x4.add (local.get $v) (v128.const f32x4 3 3 3 3)))
      (v128.store (local.get $dx)
        (f32x4.add
          (f32x4.mul (local.get $g) (f32x4.div (f32x4.min (f32x4.max (local.get $t) (v128.const f32x4 0 0 0 0)) (v128.const f32x4 6 6 6 6)) (v128.const f32x4 6 6 6 6)))
          (f32x4.mul (f32x4.div (f32x4.mul (local.get $g) (local.get $v)) (v128.const f32x4 6 6 6 6))
          (v128.bitselect
            (v128.const f32x4 nan nan nan nan)
            (v128.and
              (v128.and (f32x4.le (local.get $t) (v128.const f32x4 6 6 6 6)) (f32x4.gt (local.get $t) (v128.const f32x4 0 0 0 0)))
              (v128.const f32x4 1 1 1 1))
            (f32x4.ne (local.get $t) (local.get $t))))))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
      (local.set $dx (i32.add (local.get $dx) (i32.const 16)))
      (br $each))))

  ;; out = gate(x)
  (func (export "hard_sigmoid") (param $x i32) (param $out i32) (param $count i32)
    (local $end i32) (local $v v128) (local $t v128)
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $count) (i32.const 2))))
    (block $done (loop $each
      (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $v (v128.load (local.get $x)))
      (local.set $t (f32x4.add (local.get $v) (v128.const f32x4 3 3 3 3)))
      (v128.store (local.get $out) (f32x4.div (f32x4.min (f32x4.max (local.get $t) (v128.const f32x4 0 0 0 0)) (v128.const f32x4 6 6 6 6)) (v128.const f32x4 6 6 6 6)))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (local.set $out (i32.add (local.get $out) (i32.const 16)))
      (br $each))))

  ;; dx = (dy / 6) · mask(x)
  (func (export "hard_sigmoid_grad") (param $x i32) (param $dy i32) (param $dx i32) (param $count i32)
    (local $end i32) (local $v v128) (local $t v128)
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $count) (i32.const 2))))
    (block $done (loop $each
      (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $v (v128.load (local.get $x)))
      (local.set $t (f32x4.add (local.get $v) (v128.const f32x4 3 3 3 3)))
      (v128.store (local.get $dx)
        (f32x4.mul (f32x4.div (v128.load (local.get $dy)) (v128.const f32x4 6 6 6 6))
          (v128.bitselect
            (v128.const f32x4 nan nan nan nan)
            (v128.and
              (v128.and (f32x4.le (local.get $t) (v128.const f32x4 6 6 6 6)) (f32x4.gt (local.get $t) (v128.const f32x4 0 0 0 0)))
              (v128.const f32x4 1 1 1 1))
            (f32x4.ne (local.get $t) (local.get $t)))))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
      (local.set $dx (i32.add (local.get $dx) (i32.const 16)))
      (br $each))))

  ;; dx = dy · step(x): ReLU's gradient as tfjs composes it (Step, Cast, Multiply: three passes), with step 1
  ;; where x > 0, else 0, NaN at NaN.
  (func (export "relu_grad") (param $x i32) (param $dy i32) (param $dx i32) (param $count i32)
    (local $end i32) (local $v v128)
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $count) (i32.const 2))))
    (block $done (loop $each
      (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $v (v128.load (local.get $x)))
      (v128.store (local.get $dx)
        (f32x4.mul (v128.load (local.get $dy))
          (v128.bitselect
            (v128.const f32x4 nan nan nan nan)
            (v128.and (f32x4.gt (local.get $v) (v128.const f32x4 0 0 0 0)) (v128.const f32x4 1 1 1 1))
            (f32x4.ne (local.get $v) (local.get $v)))))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
      (local.set $dx (i32.add (local.get $dx) (i32.const 16)))
      (br $each))))
)
