;; The element-wise loops of BatchNorm and GELU, and channel copies and sums, in WebAssembly SIMD (4 float32 lanes), used by
;; fused-kernels.ts. JavaScript runs these loops at ~2-10 ns per element on this machine class;
;; 128-bit SIMD runs them at a fraction of that, copies in and out included.
;;
;; BatchNorm layout: a tensor [rows, C] in this module's memory, channels last, C a multiple of 4;
;; `cb` is the row size in bytes (4 C). Pointers are byte offsets, float32 data 16-byte aligned,
;; float64 accumulators 16-byte aligned. Regenerate the embedded binary with `npm run build:wasm`.
(module
  (import "env" "memory" (memory 1))

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
  ;; Like the other sums here: float32 partial sums over blocks of up to 16 rows, kept in
  ;; registers (for each 4 channels), then added into the float64 accumulators.
  (func (export "moments")
    (param $x i32) (param $sum i32) (param $sumSq i32) (param $rows i32) (param $cb i32)
    (local $p i32) (local $end i32) (local $blockEnd i32) (local $k i32) (local $q i32)
    (local $shift v128) (local $d v128) (local $s v128) (local $s2 v128)
    (local.set $p (local.get $x))
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $rows) (local.get $cb))))
    (block $done
      (loop $blocks
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $blockEnd (i32.add (local.get $p) (i32.shl (local.get $cb) (i32.const 4))))
        (if (i32.gt_u (local.get $blockEnd) (local.get $end)) (then (local.set $blockEnd (local.get $end))))
        (local.set $k (i32.const 0))
        (loop $chan
          (local.set $shift (v128.load (i32.add (local.get $x) (local.get $k))))
          (local.set $s (v128.const f32x4 0 0 0 0))
          (local.set $s2 (v128.const f32x4 0 0 0 0))
          (local.set $q (i32.add (local.get $p) (local.get $k)))
          (loop $rowsInBlock
            (local.set $d (f32x4.sub (v128.load (local.get $q)) (local.get $shift)))
            (local.set $s (f32x4.add (local.get $s) (local.get $d)))
            (local.set $s2 (f32x4.relaxed_madd (local.get $d) (local.get $d) (local.get $s2)))
            (local.set $q (i32.add (local.get $q) (local.get $cb)))
            (br_if $rowsInBlock (i32.lt_u (local.get $q) (local.get $blockEnd))))
          ;; float64 accumulators: channel k/4 lives at byte 2 k
          (call $accumulate (i32.add (local.get $sum) (i32.shl (local.get $k) (i32.const 1))) (local.get $s))
          (call $accumulate (i32.add (local.get $sumSq) (i32.shl (local.get $k) (i32.const 1))) (local.get $s2))
          (local.set $k (i32.add (local.get $k) (i32.const 16)))
          (br_if $chan (i32.lt_u (local.get $k) (local.get $cb))))
        (local.set $p (local.get $blockEnd))
        (br $blocks))))

  ;; BatchNorm gradient, pass 1: per channel, float64 sums of dy and of dy * (x - mean[k]),
  ;; added into sumDy[k] and sumDyX[k] (float32 partial sums over blocks of 16 rows, as above).
  (func (export "bn_grad_sums")
    (param $x i32) (param $dy i32) (param $mean i32) (param $sumDy i32) (param $sumDyX i32) (param $rows i32) (param $cb i32)
    (local $p i32) (local $end i32) (local $blockEnd i32) (local $k i32) (local $q i32) (local $toDy i32)
    (local $m v128) (local $g v128) (local $s v128) (local $s2 v128)
    (local.set $p (local.get $x))
    (local.set $toDy (i32.sub (local.get $dy) (local.get $x)))
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $rows) (local.get $cb))))
    (block $done
      (loop $blocks
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $blockEnd (i32.add (local.get $p) (i32.shl (local.get $cb) (i32.const 4))))
        (if (i32.gt_u (local.get $blockEnd) (local.get $end)) (then (local.set $blockEnd (local.get $end))))
        (local.set $k (i32.const 0))
        (loop $chan
          (local.set $m (v128.load (i32.add (local.get $mean) (local.get $k))))
          (local.set $s (v128.const f32x4 0 0 0 0))
          (local.set $s2 (v128.const f32x4 0 0 0 0))
          (local.set $q (i32.add (local.get $p) (local.get $k)))
          (loop $rowsInBlock
            ;; dy sits toDy bytes after x
            (local.set $g (v128.load (i32.add (local.get $q) (local.get $toDy))))
            (local.set $s (f32x4.add (local.get $s) (local.get $g)))
            (local.set $s2 (f32x4.relaxed_madd (local.get $g) (f32x4.sub (v128.load (local.get $q)) (local.get $m)) (local.get $s2)))
            (local.set $q (i32.add (local.get $q) (local.get $cb)))
            (br_if $rowsInBlock (i32.lt_u (local.get $q) (local.get $blockEnd))))
          (call $accumulate (i32.add (local.get $sumDy) (i32.shl (local.get $k) (i32.const 1))) (local.get $s))
          (call $accumulate (i32.add (local.get $sumDyX) (i32.shl (local.get $k) (i32.const 1))) (local.get $s2))
          (local.set $k (i32.add (local.get $k) (i32.const 16)))
          (br_if $chan (i32.lt_u (local.get $k) (local.get $cb))))
        (local.set $p (local.get $blockEnd))
        (br $blocks))))

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

;; GELU over n12 groups of 12 values: y = x Phi(x); with $grad non-zero, its gradient instead:
  ;; out = dy (Phi(x) + x phi(x)). With z = |x| / sqrt 2, Phi(-|x|) = erfc(z) / 2 and
  ;; phi(x) = exp(-z^2) / sqrt(2 pi), and erfc(z) = t P(t) exp(-z^2) with t = 1 / (1 + 0.3275911 z)
  ;; (Abramowitz and Stegun 7.1.26, |error of erf| < 1.5e-7): one exponential serves both.
  ;; exp(-w), w = z^2 clamped to 87 (e^-87 ~ 1.6e-38): 2^n e^r with n = round(-w log2 e),
  ;; |r| <= ln2 / 2, e^r by its degree-6 Taylor polynomial (relative error ~1e-7). Rounding by
  ;; adding 1.5 * 2^23 leaves n in the low mantissa bits of $big, which shifted into the exponent
  ;; field and added to the bits of 1.0 give 2^n (no float-to-int conversion, which x64 lacks for
  ;; 4 lanes). Polynomials by fused multiply-adds.
  ;; The body is written out three times, for three groups of 4 (suffixes 1 and 2): one group is a
  ;; single chain of dependent operations, and V8 neither inlines calls nor interleaves iterations;
  ;; three independent chains per iteration ran 1.7x faster than one (3.2 -> 1.9 ns per value,
  ;; four chains 2.0).
  (func (export "gelu") (param $x i32) (param $dy i32) (param $out i32) (param $n12 i32) (param $grad i32)
    (local $end i32) (local $v v128) (local $z v128) (local $w v128) (local $big v128) (local $n v128)
    (local $r v128) (local $e v128) (local $t v128) (local $half v128) (local $cdf v128)
    (local $v1 v128) (local $z1 v128) (local $w1 v128) (local $big1 v128) (local $n1 v128) (local $r1 v128) (local $e1 v128) (local $t1 v128) (local $half1 v128) (local $cdf1 v128) (local $v2 v128) (local $z2 v128) (local $w2 v128) (local $big2 v128) (local $n2 v128) (local $r2 v128) (local $e2 v128) (local $t2 v128) (local $half2 v128) (local $cdf2 v128)
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $n12) (i32.const 48))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        ;; the first 4 values
        (local.set $v (v128.load (local.get $x)))
        (local.set $z (f32x4.mul (f32x4.abs (local.get $v)) (v128.const f32x4 0.70710678 0.70710678 0.70710678 0.70710678)))
        ;; e = exp(-z^2)
        (local.set $w (f32x4.pmin (v128.const f32x4 87 87 87 87) (f32x4.mul (local.get $z) (local.get $z))))
        (local.set $big (f32x4.add
          (f32x4.mul (local.get $w) (v128.const f32x4 -1.44269504 -1.44269504 -1.44269504 -1.44269504))
          (v128.const f32x4 12582912 12582912 12582912 12582912)))
        (local.set $n (f32x4.sub (local.get $big) (v128.const f32x4 12582912 12582912 12582912 12582912)))
        ;; r = -w - n ln2, with ln2 in two parts (0.693359375 + -2.12194440e-4) to keep r exact
        (local.set $r
          (f32x4.relaxed_madd (local.get $n) (v128.const f32x4 2.12194440e-4 2.12194440e-4 2.12194440e-4 2.12194440e-4)
            (f32x4.relaxed_madd (local.get $n) (v128.const f32x4 -0.693359375 -0.693359375 -0.693359375 -0.693359375) (f32x4.neg (local.get $w)))))
        (local.set $e
          (f32x4.mul
            ;; 1 + r (1 + r (1/2 + r (1/6 + r (1/24 + r (1/120 + r / 720))))), fused multiply-adds
            (f32x4.relaxed_madd (local.get $r)
              (f32x4.relaxed_madd (local.get $r)
                (f32x4.relaxed_madd (local.get $r)
                  (f32x4.relaxed_madd (local.get $r)
                    (f32x4.relaxed_madd (local.get $r)
                      (f32x4.relaxed_madd (local.get $r)
                        (v128.const f32x4 0.0013888889 0.0013888889 0.0013888889 0.0013888889)
                        (v128.const f32x4 0.008333334 0.008333334 0.008333334 0.008333334))
                      (v128.const f32x4 0.041666668 0.041666668 0.041666668 0.041666668))
                    (v128.const f32x4 0.16666667 0.16666667 0.16666667 0.16666667))
                  (v128.const f32x4 0.5 0.5 0.5 0.5))
                (v128.const f32x4 1 1 1 1))
              (v128.const f32x4 1 1 1 1))
            ;; 2^n, n >= -126 after the clamp
            (i32x4.add
              (i32x4.shl (i32x4.sub (local.get $big) (v128.const f32x4 12582912 12582912 12582912 12582912)) (i32.const 23))
              (v128.const f32x4 1 1 1 1))))
        ;; half = Phi(-|x|) = t P(t) e / 2
        (local.set $t (f32x4.div (v128.const f32x4 1 1 1 1)
          (f32x4.add (v128.const f32x4 1 1 1 1) (f32x4.mul (local.get $z) (v128.const f32x4 0.3275911 0.3275911 0.3275911 0.3275911)))))
        (local.set $half (f32x4.mul (f32x4.mul (local.get $e) (v128.const f32x4 0.5 0.5 0.5 0.5))
          (f32x4.mul (local.get $t)
            (f32x4.relaxed_madd (local.get $t)
              (f32x4.relaxed_madd (local.get $t)
                (f32x4.relaxed_madd (local.get $t)
                  (f32x4.relaxed_madd (local.get $t)
                    (v128.const f32x4 1.061405429 1.061405429 1.061405429 1.061405429)
                    (v128.const f32x4 -1.453152027 -1.453152027 -1.453152027 -1.453152027))
                  (v128.const f32x4 1.421413741 1.421413741 1.421413741 1.421413741))
                (v128.const f32x4 -0.284496736 -0.284496736 -0.284496736 -0.284496736))
              (v128.const f32x4 0.254829592 0.254829592 0.254829592 0.254829592)))))
        (local.set $cdf (v128.bitselect
          (f32x4.sub (v128.const f32x4 1 1 1 1) (local.get $half))
          (local.get $half)
          (f32x4.ge (local.get $v) (v128.const f32x4 0 0 0 0))))
        ;; the same for the next 4 values (suffix 1)
        (local.set $v1 (v128.load offset=16 (local.get $x)))
        (local.set $z1 (f32x4.mul (f32x4.abs (local.get $v1)) (v128.const f32x4 0.70710678 0.70710678 0.70710678 0.70710678)))
        (local.set $w1 (f32x4.pmin (v128.const f32x4 87 87 87 87) (f32x4.mul (local.get $z1) (local.get $z1))))
        (local.set $big1 (f32x4.add
          (f32x4.mul (local.get $w1) (v128.const f32x4 -1.44269504 -1.44269504 -1.44269504 -1.44269504))
          (v128.const f32x4 12582912 12582912 12582912 12582912)))
        (local.set $n1 (f32x4.sub (local.get $big1) (v128.const f32x4 12582912 12582912 12582912 12582912)))
        (local.set $r1
          (f32x4.relaxed_madd (local.get $n1) (v128.const f32x4 2.12194440e-4 2.12194440e-4 2.12194440e-4 2.12194440e-4)
            (f32x4.relaxed_madd (local.get $n1) (v128.const f32x4 -0.693359375 -0.693359375 -0.693359375 -0.693359375) (f32x4.neg (local.get $w1)))))
        (local.set $e1
          (f32x4.mul
            (f32x4.relaxed_madd (local.get $r1)
              (f32x4.relaxed_madd (local.get $r1)
                (f32x4.relaxed_madd (local.get $r1)
                  (f32x4.relaxed_madd (local.get $r1)
                    (f32x4.relaxed_madd (local.get $r1)
                      (f32x4.relaxed_madd (local.get $r1)
                        (v128.const f32x4 0.0013888889 0.0013888889 0.0013888889 0.0013888889)
                        (v128.const f32x4 0.008333334 0.008333334 0.008333334 0.008333334))
                      (v128.const f32x4 0.041666668 0.041666668 0.041666668 0.041666668))
                    (v128.const f32x4 0.16666667 0.16666667 0.16666667 0.16666667))
                  (v128.const f32x4 0.5 0.5 0.5 0.5))
                (v128.const f32x4 1 1 1 1))
              (v128.const f32x4 1 1 1 1))
            (i32x4.add
              (i32x4.shl (i32x4.sub (local.get $big1) (v128.const f32x4 12582912 12582912 12582912 12582912)) (i32.const 23))
              (v128.const f32x4 1 1 1 1))))
        (local.set $t1 (f32x4.div (v128.const f32x4 1 1 1 1)
          (f32x4.add (v128.const f32x4 1 1 1 1) (f32x4.mul (local.get $z1) (v128.const f32x4 0.3275911 0.3275911 0.3275911 0.3275911)))))
        (local.set $half1 (f32x4.mul (f32x4.mul (local.get $e1) (v128.const f32x4 0.5 0.5 0.5 0.5))
          (f32x4.mul (local.get $t1)
            (f32x4.relaxed_madd (local.get $t1)
              (f32x4.relaxed_madd (local.get $t1)
                (f32x4.relaxed_madd (local.get $t1)
                  (f32x4.relaxed_madd (local.get $t1)
                    (v128.const f32x4 1.061405429 1.061405429 1.061405429 1.061405429)
                    (v128.const f32x4 -1.453152027 -1.453152027 -1.453152027 -1.453152027))
                  (v128.const f32x4 1.421413741 1.421413741 1.421413741 1.421413741))
                (v128.const f32x4 -0.284496736 -0.284496736 -0.284496736 -0.284496736))
              (v128.const f32x4 0.254829592 0.254829592 0.254829592 0.254829592)))))
        (local.set $cdf1 (v128.bitselect
          (f32x4.sub (v128.const f32x4 1 1 1 1) (local.get $half1))
          (local.get $half1)
          (f32x4.ge (local.get $v1) (v128.const f32x4 0 0 0 0))))
        ;; the same for the next 4 values (suffix 2)
        (local.set $v2 (v128.load offset=32 (local.get $x)))
        (local.set $z2 (f32x4.mul (f32x4.abs (local.get $v2)) (v128.const f32x4 0.70710678 0.70710678 0.70710678 0.70710678)))
        (local.set $w2 (f32x4.pmin (v128.const f32x4 87 87 87 87) (f32x4.mul (local.get $z2) (local.get $z2))))
        (local.set $big2 (f32x4.add
          (f32x4.mul (local.get $w2) (v128.const f32x4 -1.44269504 -1.44269504 -1.44269504 -1.44269504))
          (v128.const f32x4 12582912 12582912 12582912 12582912)))
        (local.set $n2 (f32x4.sub (local.get $big2) (v128.const f32x4 12582912 12582912 12582912 12582912)))
        (local.set $r2
          (f32x4.relaxed_madd (local.get $n2) (v128.const f32x4 2.12194440e-4 2.12194440e-4 2.12194440e-4 2.12194440e-4)
            (f32x4.relaxed_madd (local.get $n2) (v128.const f32x4 -0.693359375 -0.693359375 -0.693359375 -0.693359375) (f32x4.neg (local.get $w2)))))
        (local.set $e2
          (f32x4.mul
            (f32x4.relaxed_madd (local.get $r2)
              (f32x4.relaxed_madd (local.get $r2)
                (f32x4.relaxed_madd (local.get $r2)
                  (f32x4.relaxed_madd (local.get $r2)
                    (f32x4.relaxed_madd (local.get $r2)
                      (f32x4.relaxed_madd (local.get $r2)
                        (v128.const f32x4 0.0013888889 0.0013888889 0.0013888889 0.0013888889)
                        (v128.const f32x4 0.008333334 0.008333334 0.008333334 0.008333334))
                      (v128.const f32x4 0.041666668 0.041666668 0.041666668 0.041666668))
                    (v128.const f32x4 0.16666667 0.16666667 0.16666667 0.16666667))
                  (v128.const f32x4 0.5 0.5 0.5 0.5))
                (v128.const f32x4 1 1 1 1))
              (v128.const f32x4 1 1 1 1))
            (i32x4.add
              (i32x4.shl (i32x4.sub (local.get $big2) (v128.const f32x4 12582912 12582912 12582912 12582912)) (i32.const 23))
              (v128.const f32x4 1 1 1 1))))
        (local.set $t2 (f32x4.div (v128.const f32x4 1 1 1 1)
          (f32x4.add (v128.const f32x4 1 1 1 1) (f32x4.mul (local.get $z2) (v128.const f32x4 0.3275911 0.3275911 0.3275911 0.3275911)))))
        (local.set $half2 (f32x4.mul (f32x4.mul (local.get $e2) (v128.const f32x4 0.5 0.5 0.5 0.5))
          (f32x4.mul (local.get $t2)
            (f32x4.relaxed_madd (local.get $t2)
              (f32x4.relaxed_madd (local.get $t2)
                (f32x4.relaxed_madd (local.get $t2)
                  (f32x4.relaxed_madd (local.get $t2)
                    (v128.const f32x4 1.061405429 1.061405429 1.061405429 1.061405429)
                    (v128.const f32x4 -1.453152027 -1.453152027 -1.453152027 -1.453152027))
                  (v128.const f32x4 1.421413741 1.421413741 1.421413741 1.421413741))
                (v128.const f32x4 -0.284496736 -0.284496736 -0.284496736 -0.284496736))
              (v128.const f32x4 0.254829592 0.254829592 0.254829592 0.254829592)))))
        (local.set $cdf2 (v128.bitselect
          (f32x4.sub (v128.const f32x4 1 1 1 1) (local.get $half2))
          (local.get $half2)
          (f32x4.ge (local.get $v2) (v128.const f32x4 0 0 0 0))))
        (if (i32.eqz (local.get $grad))
          (then
            (v128.store (local.get $out) (f32x4.mul (local.get $v) (local.get $cdf)))
            (v128.store offset=16 (local.get $out) (f32x4.mul (local.get $v1) (local.get $cdf1)))
            (v128.store offset=32 (local.get $out) (f32x4.mul (local.get $v2) (local.get $cdf2)))
          )
          (else
            (v128.store (local.get $out)
              (f32x4.mul (v128.load (local.get $dy))
                (f32x4.add (local.get $cdf) (f32x4.mul (f32x4.mul (local.get $v) (local.get $e)) (v128.const f32x4 0.39894228 0.39894228 0.39894228 0.39894228)))))
            (v128.store offset=16 (local.get $out)
              (f32x4.mul (v128.load offset=16 (local.get $dy))
                (f32x4.add (local.get $cdf1) (f32x4.mul (f32x4.mul (local.get $v1) (local.get $e1)) (v128.const f32x4 0.39894228 0.39894228 0.39894228 0.39894228)))))
            (v128.store offset=32 (local.get $out)
              (f32x4.mul (v128.load offset=32 (local.get $dy))
                (f32x4.add (local.get $cdf2) (f32x4.mul (f32x4.mul (local.get $v2) (local.get $e2)) (v128.const f32x4 0.39894228 0.39894228 0.39894228 0.39894228)))))
            (local.set $dy (i32.add (local.get $dy) (i32.const 48)))))
        (local.set $x (i32.add (local.get $x) (i32.const 48)))
        (local.set $out (i32.add (local.get $out) (i32.const 48)))
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

  ;; Per channel, float64 sums of x[r, k] over all rows, added into sum[k] (float32 partial sums
  ;; over blocks of 16 rows, as above).
  (func (export "channel_sums") (param $x i32) (param $sum i32) (param $rows i32) (param $cb i32)
    (local $end i32) (local $blockEnd i32) (local $k i32) (local $q i32) (local $s v128)
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $rows) (local.get $cb))))
    (block $done
      (loop $blocks
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $blockEnd (i32.add (local.get $x) (i32.shl (local.get $cb) (i32.const 4))))
        (if (i32.gt_u (local.get $blockEnd) (local.get $end)) (then (local.set $blockEnd (local.get $end))))
        (local.set $k (i32.const 0))
        (loop $chan
          (local.set $s (v128.const f32x4 0 0 0 0))
          (local.set $q (i32.add (local.get $x) (local.get $k)))
          (loop $rowsInBlock
            (local.set $s (f32x4.add (local.get $s) (v128.load (local.get $q))))
            (local.set $q (i32.add (local.get $q) (local.get $cb)))
            (br_if $rowsInBlock (i32.lt_u (local.get $q) (local.get $blockEnd))))
          (call $accumulate (i32.add (local.get $sum) (i32.shl (local.get $k) (i32.const 1))) (local.get $s))
          (local.set $k (i32.add (local.get $k) (i32.const 16)))
          (br_if $chan (i32.lt_u (local.get $k) (local.get $cb))))
        (local.set $x (local.get $blockEnd))
        (br $blocks))))
)
