;; Per-channel element-wise loops of BatchNorm in WebAssembly SIMD (4 float32 lanes), used by
;; fused-kernels.ts. JavaScript runs these loops at ~2-3 ns per element on this machine class;
;; 128-bit SIMD runs them at a fraction of that, copies in and out included.
;;
;; Layout: a tensor [rows, C] in this module's memory, channels last, C a multiple of 4;
;; `cb` is the row size in bytes (4 C). Pointers are byte offsets, float32 data 16-byte aligned,
;; float64 accumulators 16-byte aligned. Regenerate the embedded binary with `npm run build:wasm`.
(module
  (memory (export "memory") 1)

  ;; y[r, k] = x[r, k] * scale[k] + shift[k]
  (func (export "affine")
    (param $x i32) (param $y i32) (param $scale i32) (param $shift i32) (param $rows i32) (param $cb i32)
    (local $end i32) (local $k i32)
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $rows) (local.get $cb))))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $k (i32.const 0))
        (loop $chan
          (v128.store (i32.add (local.get $y) (local.get $k))
            (f32x4.add
              (f32x4.mul
                (v128.load (i32.add (local.get $x) (local.get $k)))
                (v128.load (i32.add (local.get $scale) (local.get $k))))
              (v128.load (i32.add (local.get $shift) (local.get $k)))))
          (local.set $k (i32.add (local.get $k) (i32.const 16)))
          (br_if $chan (i32.lt_u (local.get $k) (local.get $cb))))
        (local.set $x (i32.add (local.get $x) (local.get $cb)))
        (local.set $y (i32.add (local.get $y) (local.get $cb)))
        (br $row))))

  ;; Adds a float32x4 `v`, widened to float64, into the two float64x2 at `at`.
  (func $accumulate (param $at i32) (param $v v128)
    (v128.store (local.get $at)
      (f64x2.add (v128.load (local.get $at)) (f64x2.promote_low_f32x4 (local.get $v))))
    (v128.store offset=16 (local.get $at)
      (f64x2.add (v128.load offset=16 (local.get $at))
        (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))))

  ;; Per channel, float64 sums of d = x[r, k] - x[0, k] and of d * d over all rows, added into
  ;; sum[k] and sumSq[k] (the shift by the first row keeps E[d^2] - E[d]^2 from cancelling).
  (func (export "moments")
    (param $x i32) (param $sum i32) (param $sumSq i32) (param $rows i32) (param $cb i32)
    (local $p i32) (local $end i32) (local $k i32) (local $d v128)
    (local.set $p (local.get $x))
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $rows) (local.get $cb))))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $k (i32.const 0))
        (loop $chan
          (local.set $d
            (f32x4.sub
              (v128.load (i32.add (local.get $p) (local.get $k)))
              (v128.load (i32.add (local.get $x) (local.get $k)))))
          ;; float64 accumulators: channel k/4 lives at byte 2 k
          (call $accumulate (i32.add (local.get $sum) (i32.shl (local.get $k) (i32.const 1))) (local.get $d))
          (call $accumulate (i32.add (local.get $sumSq) (i32.shl (local.get $k) (i32.const 1)))
            (f32x4.mul (local.get $d) (local.get $d)))
          (local.set $k (i32.add (local.get $k) (i32.const 16)))
          (br_if $chan (i32.lt_u (local.get $k) (local.get $cb))))
        (local.set $p (i32.add (local.get $p) (local.get $cb)))
        (br $row))))

  ;; BatchNorm gradient, pass 1: per channel, float64 sums of dy and of dy * (x - mean[k]),
  ;; added into sumDy[k] and sumDyX[k].
  (func (export "bn_grad_sums")
    (param $x i32) (param $dy i32) (param $mean i32) (param $sumDy i32) (param $sumDyX i32) (param $rows i32) (param $cb i32)
    (local $end i32) (local $k i32) (local $g v128)
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $rows) (local.get $cb))))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $k (i32.const 0))
        (loop $chan
          (local.set $g (v128.load (i32.add (local.get $dy) (local.get $k))))
          (call $accumulate (i32.add (local.get $sumDy) (i32.shl (local.get $k) (i32.const 1))) (local.get $g))
          (call $accumulate (i32.add (local.get $sumDyX) (i32.shl (local.get $k) (i32.const 1)))
            (f32x4.mul (local.get $g)
              (f32x4.sub
                (v128.load (i32.add (local.get $x) (local.get $k)))
                (v128.load (i32.add (local.get $mean) (local.get $k))))))
          (local.set $k (i32.add (local.get $k) (i32.const 16)))
          (br_if $chan (i32.lt_u (local.get $k) (local.get $cb))))
        (local.set $x (i32.add (local.get $x) (local.get $cb)))
        (local.set $dy (i32.add (local.get $dy) (local.get $cb)))
        (br $row))))

  ;; BatchNorm gradient, pass 2: dx[r, k] = a[k] * dy[r, k] + b[k] * x[r, k] + d[k]
  (func (export "bn_grad_dx")
    (param $x i32) (param $dy i32) (param $dx i32) (param $a i32) (param $b i32) (param $d i32) (param $rows i32) (param $cb i32)
    (local $end i32) (local $k i32)
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $rows) (local.get $cb))))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $k (i32.const 0))
        (loop $chan
          (v128.store (i32.add (local.get $dx) (local.get $k))
            (f32x4.add
              (f32x4.add
                (f32x4.mul
                  (v128.load (i32.add (local.get $a) (local.get $k)))
                  (v128.load (i32.add (local.get $dy) (local.get $k))))
                (f32x4.mul
                  (v128.load (i32.add (local.get $b) (local.get $k)))
                  (v128.load (i32.add (local.get $x) (local.get $k)))))
              (v128.load (i32.add (local.get $d) (local.get $k)))))
          (local.set $k (i32.add (local.get $k) (i32.const 16)))
          (br_if $chan (i32.lt_u (local.get $k) (local.get $cb))))
        (local.set $x (i32.add (local.get $x) (local.get $cb)))
        (local.set $dy (i32.add (local.get $dy) (local.get $cb)))
        (local.set $dx (i32.add (local.get $dx) (local.get $cb)))
        (br $row)))))
