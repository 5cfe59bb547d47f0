;; The element-wise loops of BatchNorm and GELU, and channel copies and sums, in WebAssembly SIMD (4 float32 lanes), used by
;; fused-kernels.ts. JavaScript runs these loops at ~2-10 ns per element on this machine class;
;; 128-bit SIMD runs them at a fraction of that, copies in and out included.
;;
;; BatchNorm layout: a tensor [rows, C] in this module's memory, channels last, C a multiple of 4;
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
        (br $row))))

  ;; exp(-w) for w >= 0, 4 lanes: 2^n e^r with n = round(-w log2 e), |r| <= ln2 / 2, e^r by its
  ;; degree-6 Taylor polynomial (relative error ~1e-7); w is clamped to 87 (e^-87 ~ 1.6e-38).
  ;; Rounding by adding 1.5 * 2^23 leaves n in the low mantissa bits of $big, which become the
  ;; exponent of 2^n directly (no float-to-int conversion, which x64 lacks for 4 lanes).
  (func $expNeg (param $w v128) (result v128)
    (local $big v128) (local $n v128) (local $r v128)
    (local.set $w (f32x4.pmin (v128.const f32x4 87 87 87 87) (local.get $w)))
    (local.set $big (f32x4.add
      (f32x4.mul (local.get $w) (v128.const f32x4 -1.44269504 -1.44269504 -1.44269504 -1.44269504))
      (v128.const f32x4 12582912 12582912 12582912 12582912)))
    (local.set $n (f32x4.sub (local.get $big) (v128.const f32x4 12582912 12582912 12582912 12582912)))
    ;; r = -w - n ln2, with ln2 in two parts (0.693359375 + -2.12194440e-4) to keep r exact
    (local.set $r
      (f32x4.sub
        (f32x4.sub (f32x4.neg (local.get $w)) (f32x4.mul (local.get $n) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375)))
        (f32x4.mul (local.get $n) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))))
    (f32x4.mul
      ;; 1 + r (1 + r (1/2 + r (1/6 + r (1/24 + r (1/120 + r / 720)))))
      (f32x4.add (v128.const f32x4 1 1 1 1) (f32x4.mul (local.get $r)
      (f32x4.add (v128.const f32x4 1 1 1 1) (f32x4.mul (local.get $r)
      (f32x4.add (v128.const f32x4 0.5 0.5 0.5 0.5) (f32x4.mul (local.get $r)
      (f32x4.add (v128.const f32x4 0.16666667 0.16666667 0.16666667 0.16666667) (f32x4.mul (local.get $r)
      (f32x4.add (v128.const f32x4 0.041666668 0.041666668 0.041666668 0.041666668) (f32x4.mul (local.get $r)
      (f32x4.add (v128.const f32x4 0.008333334 0.008333334 0.008333334 0.008333334)
        (f32x4.mul (local.get $r) (v128.const f32x4 0.0013888889 0.0013888889 0.0013888889 0.0013888889)))))))))))))
      ;; 2^n: the bits of $big minus those of 1.5 * 2^23 are n; shifted into the exponent field
      ;; and added to the bits of 1.0. n >= -126 after the clamp.
      (i32x4.add
        (i32x4.shl (i32x4.sub (local.get $big) (v128.const f32x4 12582912 12582912 12582912 12582912)) (i32.const 23))
        (v128.const f32x4 1 1 1 1))))

  ;; erfc(z) exp(z^2) for z >= 0 (Abramowitz and Stegun 7.1.26, |error of erf| < 1.5e-7)
  (func $erfcScaled (param $z v128) (result v128)
    (local $t v128)
    (local.set $t (f32x4.div (v128.const f32x4 1 1 1 1)
      (f32x4.add (v128.const f32x4 1 1 1 1) (f32x4.mul (local.get $z) (v128.const f32x4 0.3275911 0.3275911 0.3275911 0.3275911)))))
    (f32x4.mul (local.get $t)
      (f32x4.add (v128.const f32x4 0.254829592 0.254829592 0.254829592 0.254829592) (f32x4.mul (local.get $t)
      (f32x4.add (v128.const f32x4 -0.284496736 -0.284496736 -0.284496736 -0.284496736) (f32x4.mul (local.get $t)
      (f32x4.add (v128.const f32x4 1.421413741 1.421413741 1.421413741 1.421413741) (f32x4.mul (local.get $t)
      (f32x4.add (v128.const f32x4 -1.453152027 -1.453152027 -1.453152027 -1.453152027)
        (f32x4.mul (local.get $t) (v128.const f32x4 1.061405429 1.061405429 1.061405429 1.061405429)))))))))))

  ;; GELU over n4 groups of 4 values: y = x Phi(x); with $grad non-zero, its gradient instead:
  ;; out = dy (Phi(x) + x phi(x)). Phi(-|x|) = erfc(|x| / sqrt 2) / 2 and phi(x) = exp(-x^2 / 2) /
  ;; sqrt(2 pi) share one exponential.
  (func (export "gelu") (param $x i32) (param $dy i32) (param $out i32) (param $n4 i32) (param $grad i32)
    (local $end i32) (local $v v128) (local $z v128) (local $e v128) (local $half v128) (local $cdf v128)
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n4) (i32.const 4))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $v (v128.load (local.get $x)))
        (local.set $z (f32x4.mul (f32x4.abs (local.get $v)) (v128.const f32x4 0.70710678 0.70710678 0.70710678 0.70710678)))
        (local.set $e (call $expNeg (f32x4.mul (local.get $z) (local.get $z))))
        (local.set $half (f32x4.mul (f32x4.mul (local.get $e) (call $erfcScaled (local.get $z))) (v128.const f32x4 0.5 0.5 0.5 0.5)))
        (local.set $cdf (v128.bitselect
          (f32x4.sub (v128.const f32x4 1 1 1 1) (local.get $half))
          (local.get $half)
          (f32x4.ge (local.get $v) (v128.const f32x4 0 0 0 0))))
        (if (i32.eqz (local.get $grad))
          (then (v128.store (local.get $out) (f32x4.mul (local.get $v) (local.get $cdf))))
          (else
            (v128.store (local.get $out)
              (f32x4.mul (v128.load (local.get $dy))
                (f32x4.add (local.get $cdf)
                  (f32x4.mul (f32x4.mul (local.get $v) (local.get $e))
                    (v128.const f32x4 0.39894228 0.39894228 0.39894228 0.39894228)))))
            (local.set $dy (i32.add (local.get $dy) (i32.const 16)))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br $next))))

  ;; Copies `rows` rows of `bytes` bytes (a multiple of 16) from src to dst, the rows `srcStride`
  ;; and `dstStride` bytes apart: one input's channels into a concatenation along the last axis,
  ;; or one part of a split.
  (func (export "copy_rows")
    (param $src i32) (param $srcStride i32) (param $dst i32) (param $dstStride i32) (param $bytes i32) (param $rows i32)
    (local $r i32) (local $k i32)
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $k (i32.const 0))
        (block $rowDone
          (loop $chunk
            (br_if $rowDone (i32.ge_u (local.get $k) (local.get $bytes)))
            (v128.store (i32.add (local.get $dst) (local.get $k)) (v128.load (i32.add (local.get $src) (local.get $k))))
            (local.set $k (i32.add (local.get $k) (i32.const 16)))
            (br $chunk)))
        (local.set $src (i32.add (local.get $src) (local.get $srcStride)))
        (local.set $dst (i32.add (local.get $dst) (local.get $dstStride)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row))))

  ;; Per channel, float64 sums of x[r, k] over all rows, added into sum[k].
  (func (export "channel_sums") (param $x i32) (param $sum i32) (param $rows i32) (param $cb i32)
    (local $end i32) (local $k i32)
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $rows) (local.get $cb))))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $k (i32.const 0))
        (loop $chan
          (call $accumulate (i32.add (local.get $sum) (i32.shl (local.get $k) (i32.const 1)))
            (v128.load (i32.add (local.get $x) (local.get $k))))
          (local.set $k (i32.add (local.get $k) (i32.const 16)))
          (br_if $chan (i32.lt_u (local.get $k) (local.get $cb))))
        (local.set $x (i32.add (local.get $x) (local.get $cb)))
        (br $row))))
)
