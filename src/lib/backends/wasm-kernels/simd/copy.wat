;; Copies of contiguous runs inside the wasm backend's own memory (see module.ts), for Slice and PadV2
;; (slice-pad.ts): one call for a whole tensor instead of a JavaScript loop of copyWithin, one per run
;; (~1.4 ms to pad a [16,128,128,3] image batch that way, 2,048 runs of 1.5 KiB).
(module
  (import "env" "memory" (memory 1 65536 @SHARED@))

  ;; For i < n0, j < n1, k < n2: copies `bytes` bytes from src + i·s0 + j·s1 + k·s2 to dst + i·d0 + j·d1 + k·d2
  ;; (strides in bytes; runs must not overlap).
  (func (export "copy_runs")
    (param $src i32) (param $s0 i32) (param $s1 i32) (param $s2 i32)
    (param $dst i32) (param $d0 i32) (param $d1 i32) (param $d2 i32)
    (param $n0 i32) (param $n1 i32) (param $n2 i32) (param $bytes i32)
    (local $i i32) (local $j i32) (local $k i32) (local $from i32) (local $to i32)
    (block $done_i (loop $loop_i
      (br_if $done_i (i32.ge_u (local.get $i) (local.get $n0)))
      (local.set $j (i32.const 0))
      (block $done_j (loop $loop_j
        (br_if $done_j (i32.ge_u (local.get $j) (local.get $n1)))
        (local.set $from (i32.add (local.get $src) (i32.add (i32.mul (local.get $i) (local.get $s0)) (i32.mul (local.get $j) (local.get $s1)))))
        (local.set $to (i32.add (local.get $dst) (i32.add (i32.mul (local.get $i) (local.get $d0)) (i32.mul (local.get $j) (local.get $d1)))))
        (local.set $k (local.get $n2))
        (block $done_k (loop $loop_k
          (br_if $done_k (i32.eqz (local.get $k)))
          (memory.copy (local.get $to) (local.get $from) (local.get $bytes))
          (local.set $from (i32.add (local.get $from) (local.get $s2)))
          (local.set $to (i32.add (local.get $to) (local.get $d2)))
          (local.set $k (i32.sub (local.get $k) (i32.const 1)))
          (br $loop_k)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $loop_j)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $loop_i))))

  ;; `bytes` zero bytes at dst (a padded tensor's background; tfjs's fill of a shared heap is slower).
  (func (export "zero_bytes") (param $dst i32) (param $bytes i32)
    (memory.fill (local.get $dst) (i32.const 0) (local.get $bytes)))
)
