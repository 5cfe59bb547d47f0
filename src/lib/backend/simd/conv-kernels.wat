;; The weight gradient of a 2-D convolution (NHWC) in WebAssembly SIMD, used by conv-kernels.ts:
;;
;;   dw[ky, kx, c, o] += sum over n, oy, ox of x[n, oy*sh + ky - top, ox*sw + kx - left, c] * dy[n, oy, ox, o]
;;
;; Work is done one output row (n, oy) at a time, so that the row of dy and the rows of x it meets
;; stay in the L1 cache while every filter tap (ky, kx) and every block of channels passes over
;; them. The inner loop keeps a 4 x 8 block of dw (4 input by 8 output channels) in eight
;; registers and adds one pixel's outer product per iteration: 2 loads of dy, 4 broadcasts of x,
;; 8 multiplies and 8 adds.
;;
;; The caller lays out a table of taps (ky, kx) with the range of columns ox for which the tap
;; lands inside x, so no padding test runs per pixel. Pointers are byte offsets into this module's
;; memory; float32 data 16-byte aligned. Regenerate the embedded binary with `npm run build:wasm`.
(module
  (memory (export "memory") 1)

  ;; One tap over one row: dw[c, o] += sum_k x[px + k xStep + 4c] dy[pd + k cb + 4o] for k < count.
  ;; ci any count (blocks of 4, then one at a time); co a multiple of 8; cb = 4 co.
  (func $tapRow
    (param $px0 i32) (param $pd0 i32) (param $pw i32) (param $count i32) (param $xStep i32) (param $ci i32) (param $cb i32)
    (local $c i32) (local $o i32) (local $w0 i32) (local $w1 i32) (local $w2 i32) (local $w3 i32)
    (local $px i32) (local $pd i32) (local $k i32)
    (local $d0 v128) (local $d1 v128) (local $s v128)
    (local $a00 v128) (local $a01 v128) (local $a10 v128) (local $a11 v128)
    (local $a20 v128) (local $a21 v128) (local $a30 v128) (local $a31 v128)
    ;; blocks of 4 input channels
    (block $quadsDone
      (loop $quads
        (br_if $quadsDone (i32.gt_u (i32.add (local.get $c) (i32.const 4)) (local.get $ci)))
        (local.set $o (i32.const 0))
        (loop $outs
          ;; w0 = dw[c, o], rows c+1..c+3 one row (cb bytes) apart
          (local.set $w0 (i32.add (local.get $pw) (i32.add (i32.mul (local.get $c) (local.get $cb)) (local.get $o))))
          (local.set $w1 (i32.add (local.get $w0) (local.get $cb)))
          (local.set $w2 (i32.add (local.get $w1) (local.get $cb)))
          (local.set $w3 (i32.add (local.get $w2) (local.get $cb)))
          (local.set $a00 (v128.load (local.get $w0)))
          (local.set $a01 (v128.load offset=16 (local.get $w0)))
          (local.set $a10 (v128.load (local.get $w1)))
          (local.set $a11 (v128.load offset=16 (local.get $w1)))
          (local.set $a20 (v128.load (local.get $w2)))
          (local.set $a21 (v128.load offset=16 (local.get $w2)))
          (local.set $a30 (v128.load (local.get $w3)))
          (local.set $a31 (v128.load offset=16 (local.get $w3)))
          (local.set $px (i32.add (local.get $px0) (i32.shl (local.get $c) (i32.const 2))))
          (local.set $pd (i32.add (local.get $pd0) (local.get $o)))
          (local.set $k (local.get $count))
          (loop $pixels
            (local.set $d0 (v128.load (local.get $pd)))
            (local.set $d1 (v128.load offset=16 (local.get $pd)))
            (local.set $s (v128.load32_splat (local.get $px)))
            (local.set $a00 (f32x4.add (local.get $a00) (f32x4.mul (local.get $s) (local.get $d0))))
            (local.set $a01 (f32x4.add (local.get $a01) (f32x4.mul (local.get $s) (local.get $d1))))
            (local.set $s (v128.load32_splat offset=4 (local.get $px)))
            (local.set $a10 (f32x4.add (local.get $a10) (f32x4.mul (local.get $s) (local.get $d0))))
            (local.set $a11 (f32x4.add (local.get $a11) (f32x4.mul (local.get $s) (local.get $d1))))
            (local.set $s (v128.load32_splat offset=8 (local.get $px)))
            (local.set $a20 (f32x4.add (local.get $a20) (f32x4.mul (local.get $s) (local.get $d0))))
            (local.set $a21 (f32x4.add (local.get $a21) (f32x4.mul (local.get $s) (local.get $d1))))
            (local.set $s (v128.load32_splat offset=12 (local.get $px)))
            (local.set $a30 (f32x4.add (local.get $a30) (f32x4.mul (local.get $s) (local.get $d0))))
            (local.set $a31 (f32x4.add (local.get $a31) (f32x4.mul (local.get $s) (local.get $d1))))
            (local.set $px (i32.add (local.get $px) (local.get $xStep)))
            (local.set $pd (i32.add (local.get $pd) (local.get $cb)))
            (local.set $k (i32.sub (local.get $k) (i32.const 1)))
            (br_if $pixels (local.get $k)))
          (v128.store (local.get $w0) (local.get $a00))
          (v128.store offset=16 (local.get $w0) (local.get $a01))
          (v128.store (local.get $w1) (local.get $a10))
          (v128.store offset=16 (local.get $w1) (local.get $a11))
          (v128.store (local.get $w2) (local.get $a20))
          (v128.store offset=16 (local.get $w2) (local.get $a21))
          (v128.store (local.get $w3) (local.get $a30))
          (v128.store offset=16 (local.get $w3) (local.get $a31))
          (local.set $o (i32.add (local.get $o) (i32.const 32)))
          (br_if $outs (i32.lt_u (local.get $o) (local.get $cb))))
        (local.set $c (i32.add (local.get $c) (i32.const 4)))
        (br $quads)))
    ;; the remaining input channels, one at a time
    (block $singlesDone
      (loop $singles
        (br_if $singlesDone (i32.ge_u (local.get $c) (local.get $ci)))
        (local.set $o (i32.const 0))
        (loop $outs1
          (local.set $w0 (i32.add (local.get $pw) (i32.add (i32.mul (local.get $c) (local.get $cb)) (local.get $o))))
          (local.set $a00 (v128.load (local.get $w0)))
          (local.set $a01 (v128.load offset=16 (local.get $w0)))
          (local.set $px (i32.add (local.get $px0) (i32.shl (local.get $c) (i32.const 2))))
          (local.set $pd (i32.add (local.get $pd0) (local.get $o)))
          (local.set $k (local.get $count))
          (loop $pixels1
            (local.set $s (v128.load32_splat (local.get $px)))
            (local.set $a00 (f32x4.add (local.get $a00) (f32x4.mul (local.get $s) (v128.load (local.get $pd)))))
            (local.set $a01 (f32x4.add (local.get $a01) (f32x4.mul (local.get $s) (v128.load offset=16 (local.get $pd)))))
            (local.set $px (i32.add (local.get $px) (local.get $xStep)))
            (local.set $pd (i32.add (local.get $pd) (local.get $cb)))
            (local.set $k (i32.sub (local.get $k) (i32.const 1)))
            (br_if $pixels1 (local.get $k)))
          (v128.store (local.get $w0) (local.get $a00))
          (v128.store offset=16 (local.get $w0) (local.get $a01))
          (local.set $o (i32.add (local.get $o) (i32.const 32)))
          (br_if $outs1 (i32.lt_u (local.get $o) (local.get $cb))))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $singles))))

  ;; The whole gradient, added into dw (zeroed by the caller). x is [images, h, w, ci] with rows of
  ;; xRow bytes, dy [images, oh, ow, co] with rows of dyRow bytes. The tap table holds nTaps entries
  ;; of 5 i32: ky, the byte offset of the tap's first column in an x row, that of the first ox in a
  ;; dy row, the number of columns ox, and the byte offset of dw[ky, kx] (each count > 0).
  (func (export "conv_filter_grad")
    (param $x i32) (param $dy i32) (param $dw i32) (param $taps i32) (param $nTaps i32)
    (param $images i32) (param $h i32) (param $oh i32) (param $sh i32) (param $top i32)
    (param $xRow i32) (param $dyRow i32) (param $xStep i32) (param $ci i32) (param $co i32)
    (local $img i32) (local $oy i32) (local $t i32) (local $iy i32) (local $entry i32) (local $pdRow i32)
    (block $imagesDone
      (loop $images
        (br_if $imagesDone (i32.ge_u (local.get $img) (local.get $images)))
        (local.set $oy (i32.const 0))
        (block $rowsDone
          (loop $rows
            (br_if $rowsDone (i32.ge_u (local.get $oy) (local.get $oh)))
            (local.set $pdRow (i32.add (local.get $dy)
              (i32.mul (i32.add (i32.mul (local.get $img) (local.get $oh)) (local.get $oy)) (local.get $dyRow))))
            (local.set $t (i32.const 0))
            (block $tapsDone
              (loop $taps
                (br_if $tapsDone (i32.ge_u (local.get $t) (local.get $nTaps)))
                (local.set $entry (i32.add (local.get $taps) (i32.mul (local.get $t) (i32.const 20))))
                (local.set $iy (i32.sub (i32.add (i32.mul (local.get $oy) (local.get $sh)) (i32.load (local.get $entry))) (local.get $top)))
                ;; unsigned: a negative iy is out of range too
                (if (i32.lt_u (local.get $iy) (local.get $h))
                  (then
                    (call $tapRow
                      (i32.add (i32.add (local.get $x)
                        (i32.mul (i32.add (i32.mul (local.get $img) (local.get $h)) (local.get $iy)) (local.get $xRow)))
                        (i32.load offset=4 (local.get $entry)))
                      (i32.add (local.get $pdRow) (i32.load offset=8 (local.get $entry)))
                      (i32.add (local.get $dw) (i32.load offset=16 (local.get $entry)))
                      (i32.load offset=12 (local.get $entry))
                      (local.get $xStep)
                      (local.get $ci)
                      (i32.shl (local.get $co) (i32.const 2)))))
                (local.set $t (i32.add (local.get $t) (i32.const 1)))
                (br $taps)))
            (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
            (br $rows)))
        (local.set $img (i32.add (local.get $img) (i32.const 1)))
        (br $images))))
)
