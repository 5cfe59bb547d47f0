;; 2-D convolutions (NHWC, dilation 1) in WebAssembly SIMD with relaxed fused multiply-add,
;; used by conv-kernels.ts when the output channels are a multiple of 8:
;;
;;   forward:          y[n, oy, ox, o] = b[o] + sum over ky, kx, c of xp[n, oy*sh + ky, ox*sw + kx, c] w[ky, kx, c, o]
;;   weight gradient:  dw[ky, kx, c, o] = sum over n, oy, ox of x[n, oy*sh + ky - top, ox*sw + kx - left, c] dy[n, oy, ox, o]
;;
;; (xp: the input with its zero padding written out). Both inner loops keep a block of 4 x 8
;; results (forward: 4 output pixels by 8 channels; weight gradient: 4 input by 8 output channels)
;; in eight registers and per iteration load 2 vectors of 8 channels, broadcast 4 scalars and do 8
;; fused multiply-adds (f32x4.relaxed_madd: one instruction where the CPU has FMA, a multiply and
;; an add where it has not). Work goes one output row (n, oy) at a time, so the rows of x, dy and
;; y involved stay in the L1 cache while every tap and block of channels passes over them.
;;
;; Pointers are byte offsets into this module's memory; float32 data 16-byte aligned. Regenerate
;; the embedded binary with `npm run build:wasm`.
(module
  (import "env" "memory" (memory 1))

  ;; The input x [images, h, w, ci] with its zero padding written out, into xp [images, hp, wp, ci]
  ;; (xpBytes in all): rows r < rows of each image, their first copyBytes, go to row r + top,
  ;; leftBytes into the row. xRow and xpRow are the row sizes in bytes.
  (func (export "pad_input")
    (param $x i32) (param $xp i32) (param $xpBytes i32) (param $images i32) (param $rows i32) (param $h i32) (param $hp i32)
    (param $xRow i32) (param $xpRow i32) (param $copyBytes i32) (param $top i32) (param $leftBytes i32)
    (local $img i32) (local $r i32)
    (memory.fill (local.get $xp) (i32.const 0) (local.get $xpBytes))
    (block $imagesDone
      (loop $images
        (br_if $imagesDone (i32.ge_u (local.get $img) (local.get $images)))
        (local.set $r (i32.const 0))
        (block $rowsDone
          (loop $rowsLoop
            (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rows)))
            (memory.copy
              (i32.add (i32.add (local.get $xp)
                (i32.mul (i32.add (i32.add (i32.mul (local.get $img) (local.get $hp)) (local.get $r)) (local.get $top)) (local.get $xpRow)))
                (local.get $leftBytes))
              (i32.add (local.get $x) (i32.mul (i32.add (i32.mul (local.get $img) (local.get $h)) (local.get $r)) (local.get $xRow)))
              (local.get $copyBytes))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $rowsLoop)))
        (local.set $img (i32.add (local.get $img) (i32.const 1)))
        (br $images))))

  ;; Depth to space with a crop, for the phase-split input gradient (wasm-kernels.ts). src
  ;; [images, rows, cols, sh, sw, ci] holds the pixel (q sh + py - top, p sw + px - left) of dst at
  ;; (q, p, py, px); dst [images, h, w, ci] receives those that fall inside it. For one row q,
  ;; phase row py and column block p the sw pixels are sw ci consecutive floats on both sides.
  (func (export "interleave_phases")
    (param $src i32) (param $dst i32) (param $images i32) (param $rows i32) (param $cols i32)
    (param $sh i32) (param $sw i32) (param $ci i32) (param $top i32) (param $left i32) (param $h i32) (param $w i32)
    (local $img i32) (local $q i32) (local $py i32) (local $y i32) (local $p i32)
    (local $x0 i32) (local $a i32) (local $b i32) (local $pixel i32) (local $block i32)
    (local $srcRow i32) (local $dstRow i32)
    (local.set $pixel (i32.shl (local.get $ci) (i32.const 2)))
    (local.set $block (i32.mul (i32.mul (local.get $sh) (local.get $sw)) (local.get $pixel)))
    (block $imagesDone
      (loop $imagesLoop
        (br_if $imagesDone (i32.ge_u (local.get $img) (local.get $images)))
        (local.set $q (i32.const 0))
        (block $rowsDone
          (loop $rowsLoop
            (br_if $rowsDone (i32.ge_u (local.get $q) (local.get $rows)))
            (local.set $py (i32.const 0))
            (block $phasesDone
              (loop $phasesLoop
                (br_if $phasesDone (i32.ge_u (local.get $py) (local.get $sh)))
                (local.set $y (i32.sub (i32.add (i32.mul (local.get $q) (local.get $sh)) (local.get $py)) (local.get $top)))
                ;; 0 <= y < h as one unsigned comparison
                (if (i32.lt_u (local.get $y) (local.get $h))
                  (then
                    (local.set $srcRow (i32.add (local.get $src)
                      (i32.add (i32.mul (i32.mul (i32.add (i32.mul (local.get $img) (local.get $rows)) (local.get $q)) (local.get $cols)) (local.get $block))
                        (i32.mul (i32.mul (local.get $py) (local.get $sw)) (local.get $pixel)))))
                    (local.set $dstRow (i32.add (local.get $dst)
                      (i32.mul (i32.mul (i32.add (i32.mul (local.get $img) (local.get $h)) (local.get $y)) (local.get $w)) (local.get $pixel))))
                    (local.set $p (i32.const 0))
                    (block $colsDone
                      (loop $colsLoop
                        (br_if $colsDone (i32.ge_u (local.get $p) (local.get $cols)))
                        (local.set $x0 (i32.sub (i32.mul (local.get $p) (local.get $sw)) (local.get $left)))
                        (local.set $a (select (local.get $x0) (i32.const 0) (i32.gt_s (local.get $x0) (i32.const 0))))
                        (local.set $b (i32.add (local.get $x0) (local.get $sw)))
                        (local.set $b (select (local.get $b) (local.get $w) (i32.lt_s (local.get $b) (local.get $w))))
                        (if (i32.lt_s (local.get $a) (local.get $b))
                          (then
                            (memory.copy
                              (i32.add (local.get $dstRow) (i32.mul (local.get $a) (local.get $pixel)))
                              (i32.add (i32.add (local.get $srcRow) (i32.mul (local.get $p) (local.get $block)))
                                (i32.mul (i32.sub (local.get $a) (local.get $x0)) (local.get $pixel)))
                              (i32.mul (i32.sub (local.get $b) (local.get $a)) (local.get $pixel)))))
                        (local.set $p (i32.add (local.get $p) (i32.const 1)))
                        (br $colsLoop)))))
                (local.set $py (i32.add (local.get $py) (i32.const 1)))
                (br $phasesLoop)))
            (local.set $q (i32.add (local.get $q) (i32.const 1)))
            (br $rowsLoop)))
        (local.set $img (i32.add (local.get $img) (i32.const 1)))
        (br $imagesLoop))))

  ;; Forward convolution of the padded input xp [images, hp, wp, ci] (rows of xpRow bytes, images of
  ;; xpImage bytes) with the filter, plus bias b [co], into y [images, oh, ow, co]. The filter
  ;; w [kh, kw, ci, co] comes in blocks of 8 output channels, wb [co / 8, kh, kw, ci, 8], so that
  ;; the inner loop reads it contiguously. xStep = 4 sw ci and rowStep = sh xpRow: the bytes
  ;; between the inputs of neighbouring output pixels and rows. For one filter row ky, the taps kx
  ;; and channels c of a pixel are span = kw ci consecutive floats of xp.
  (func (export "conv_forward")
    (param $xp i32) (param $w i32) (param $b i32) (param $y i32)
    (param $images i32) (param $oh i32) (param $ow i32) (param $kh i32) (param $span i32)
    (param $xpImage i32) (param $xpRow i32) (param $rowStep i32) (param $xStep i32) (param $co i32)
    (local $cb i32) (local $img i32) (local $oy i32) (local $o i32) (local $ox i32) (local $ky i32) (local $k i32)
    (local $xRow i32) (local $yRow i32) (local $px i32) (local $pw i32) (local $py i32) (local $tapRows i32)
    (local $x1 i32) (local $x2 i32) (local $x3 i32)
    (local $w0 v128) (local $w1 v128) (local $s v128)
    (local $a00 v128) (local $a01 v128) (local $a10 v128) (local $a11 v128)
    (local $a20 v128) (local $a21 v128) (local $a30 v128) (local $a31 v128)
    (local.set $cb (i32.shl (local.get $co) (i32.const 2)))
    (local.set $tapRows (i32.shl (local.get $span) (i32.const 5))) ;; bytes of a filter block per ky
    (local.set $x1 (local.get $xStep))
    (local.set $x2 (i32.shl (local.get $xStep) (i32.const 1)))
    (local.set $x3 (i32.add (local.get $x2) (local.get $xStep)))
    (block $imagesDone
      (loop $images
        (br_if $imagesDone (i32.ge_u (local.get $img) (local.get $images)))
        (local.set $oy (i32.const 0))
        (loop $rows
          (local.set $xRow (i32.add (i32.add (local.get $xp) (i32.mul (local.get $img) (local.get $xpImage)))
            (i32.mul (local.get $oy) (local.get $rowStep))))
          (local.set $yRow (i32.add (local.get $y)
            (i32.mul (i32.mul (i32.add (i32.mul (local.get $img) (local.get $oh)) (local.get $oy)) (local.get $ow)) (local.get $cb))))
          (local.set $o (i32.const 0))
          (loop $outs
            ;; blocks of 4 output pixels; the last block of a row may hold 1-3 and reads past the row
            ;; (the caller leaves slack after xp), storing only its pixels
            (local.set $ox (i32.const 0))
            (block $quadsDone
              (loop $quads
                (br_if $quadsDone (i32.ge_u (local.get $ox) (local.get $ow)))
                (local.set $a00 (v128.load (i32.add (local.get $b) (local.get $o))))
                (local.set $a01 (v128.load offset=16 (i32.add (local.get $b) (local.get $o))))
                (local.set $a10 (local.get $a00)) (local.set $a11 (local.get $a01))
                (local.set $a20 (local.get $a00)) (local.set $a21 (local.get $a01))
                (local.set $a30 (local.get $a00)) (local.set $a31 (local.get $a01))
                (local.set $ky (i32.const 0))
                (loop $taps
                  (local.set $px (i32.add (i32.add (local.get $xRow) (i32.mul (local.get $ky) (local.get $xpRow)))
                    (i32.mul (local.get $ox) (local.get $xStep))))
                  (local.set $pw (i32.add (local.get $w) (i32.mul (i32.add (i32.mul (i32.shr_u (local.get $o) (i32.const 5)) (local.get $kh)) (local.get $ky)) (local.get $tapRows))))
                  (local.set $k (local.get $span))
                  (loop $inner
                    (local.set $w0 (v128.load (local.get $pw)))
                    (local.set $w1 (v128.load offset=16 (local.get $pw)))
                    (local.set $s (v128.load32_splat (local.get $px)))
                    (local.set $a00 (f32x4.relaxed_madd (local.get $s) (local.get $w0) (local.get $a00)))
                    (local.set $a01 (f32x4.relaxed_madd (local.get $s) (local.get $w1) (local.get $a01)))
                    (local.set $s (v128.load32_splat (i32.add (local.get $px) (local.get $x1))))
                    (local.set $a10 (f32x4.relaxed_madd (local.get $s) (local.get $w0) (local.get $a10)))
                    (local.set $a11 (f32x4.relaxed_madd (local.get $s) (local.get $w1) (local.get $a11)))
                    (local.set $s (v128.load32_splat (i32.add (local.get $px) (local.get $x2))))
                    (local.set $a20 (f32x4.relaxed_madd (local.get $s) (local.get $w0) (local.get $a20)))
                    (local.set $a21 (f32x4.relaxed_madd (local.get $s) (local.get $w1) (local.get $a21)))
                    (local.set $s (v128.load32_splat (i32.add (local.get $px) (local.get $x3))))
                    (local.set $a30 (f32x4.relaxed_madd (local.get $s) (local.get $w0) (local.get $a30)))
                    (local.set $a31 (f32x4.relaxed_madd (local.get $s) (local.get $w1) (local.get $a31)))
                    (local.set $px (i32.add (local.get $px) (i32.const 4)))
                    (local.set $pw (i32.add (local.get $pw) (i32.const 32)))
                    (local.set $k (i32.sub (local.get $k) (i32.const 1)))
                    (br_if $inner (local.get $k)))
                  (local.set $ky (i32.add (local.get $ky) (i32.const 1)))
                  (br_if $taps (i32.lt_u (local.get $ky) (local.get $kh))))
                (local.set $py (i32.add (i32.add (local.get $yRow) (i32.mul (local.get $ox) (local.get $cb))) (local.get $o)))
                (v128.store (local.get $py) (local.get $a00))
                (v128.store offset=16 (local.get $py) (local.get $a01))
                (if (i32.gt_u (i32.sub (local.get $ow) (local.get $ox)) (i32.const 1))
                  (then
                    (local.set $py (i32.add (local.get $py) (local.get $cb)))
                    (v128.store (local.get $py) (local.get $a10))
                    (v128.store offset=16 (local.get $py) (local.get $a11))))
                (if (i32.gt_u (i32.sub (local.get $ow) (local.get $ox)) (i32.const 2))
                  (then
                    (local.set $py (i32.add (local.get $py) (local.get $cb)))
                    (v128.store (local.get $py) (local.get $a20))
                    (v128.store offset=16 (local.get $py) (local.get $a21))))
                (if (i32.gt_u (i32.sub (local.get $ow) (local.get $ox)) (i32.const 3))
                  (then
                    (local.set $py (i32.add (local.get $py) (local.get $cb)))
                    (v128.store (local.get $py) (local.get $a30))
                    (v128.store offset=16 (local.get $py) (local.get $a31))))
                (local.set $ox (i32.add (local.get $ox) (i32.const 4)))
                (br $quads)))
            (local.set $o (i32.add (local.get $o) (i32.const 32)))
            (br_if $outs (i32.lt_u (local.get $o) (local.get $cb))))
          (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
          (br_if $rows (i32.lt_u (local.get $oy) (local.get $oh))))
        (local.set $img (i32.add (local.get $img) (i32.const 1)))
        (br $images))))

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
            (local.set $a00 (f32x4.relaxed_madd (local.get $s) (local.get $d0) (local.get $a00)))
            (local.set $a01 (f32x4.relaxed_madd (local.get $s) (local.get $d1) (local.get $a01)))
            (local.set $s (v128.load32_splat offset=4 (local.get $px)))
            (local.set $a10 (f32x4.relaxed_madd (local.get $s) (local.get $d0) (local.get $a10)))
            (local.set $a11 (f32x4.relaxed_madd (local.get $s) (local.get $d1) (local.get $a11)))
            (local.set $s (v128.load32_splat offset=8 (local.get $px)))
            (local.set $a20 (f32x4.relaxed_madd (local.get $s) (local.get $d0) (local.get $a20)))
            (local.set $a21 (f32x4.relaxed_madd (local.get $s) (local.get $d1) (local.get $a21)))
            (local.set $s (v128.load32_splat offset=12 (local.get $px)))
            (local.set $a30 (f32x4.relaxed_madd (local.get $s) (local.get $d0) (local.get $a30)))
            (local.set $a31 (f32x4.relaxed_madd (local.get $s) (local.get $d1) (local.get $a31)))
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
            (local.set $a00 (f32x4.relaxed_madd (local.get $s) (v128.load (local.get $pd)) (local.get $a00)))
            (local.set $a01 (f32x4.relaxed_madd (local.get $s) (v128.load offset=16 (local.get $pd)) (local.get $a01)))
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
