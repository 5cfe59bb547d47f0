;; Stride-1 convolutions (NHWC) by Winograd's minimal filtering, in WebAssembly SIMD with relaxed
;; fused multiply-add; used by winograd.ts for 3x3 filters, F(2x2, 3x3), and 2x2, F(3x3, 2x2).
;;
;; Each tile of output pixels (2x2, or 3x3 for a 2x2 filter) comes from a 4x4 block d of the
;; zero-padded input:
;;
;;   Y = A^T [ sum over c of (G g_c,o G^T) * (B^T d_c B) ] A        (* element-wise, 4x4)
;;
;;   F(2x2, 3x3):  B^T = | 1  0 -1  0 |     G = | 1    0    0   |     A^T = | 1  1  1  0 |
;;                       | 0  1  1  0 |         | 1/2  1/2  1/2 |           | 0  1 -1 -1 |
;;                       | 0 -1  1  0 |         | 1/2 -1/2  1/2 |
;;                       | 0  1  0 -1 |         | 0    0    1   |
;;
;;   F(3x3, 2x2):  the same B^T; G and A^T with wino_filter2 and $outputTiles3.
;;
;; so a tile costs 16 multiply-adds per input and output channel where the direct conv needs 36
;; (2.25x fewer). The sum over c is, for each of the 16 positions xi of the 4x4 block, a matrix
;; product V_xi [tiles, ci] x U_xi [ci, co], where V = B^T d B (the transformed input) and
;; U = G g G^T (the transformed filter). B, A and G hold only 0, +-1 and +-1/2: the transforms
;; are additions, and the rounding error stays close to a direct conv's (the tests bound both).
;;
;; Work goes a chunk of tiles at a time (transform the input, 16 products, transform back), so the
;; chunk's V and M stay in the L1/L2 cache. Pointers are byte offsets into this module's memory;
;; float32 data 16-byte aligned. Regenerate the embedded binary with `npm run build:wasm`.
(module
  (import "env" "memory" (memory 1))

  ;; U [16, co / 8, ci, 8] = G g G^T of the filter w [3, 3, ci, co]: the 4x4 position xi = 4r + s
  ;; of (input channel c, output channel o) at U[xi, o / 8, c, o % 8]. ci any count, co a
  ;; multiple of 8; four output channels per iteration.
  (func (export "wino_filter") (param $w i32) (param $u i32) (param $ci i32) (param $co i32)
    (local $c i32) (local $o i32) (local $src i32) (local $tap i32) (local $dst i32) (local $xi i32)
    (local $half v128)
    (local $g00 v128) (local $g01 v128) (local $g02 v128)
    (local $g10 v128) (local $g11 v128) (local $g12 v128)
    (local $g20 v128) (local $g21 v128) (local $g22 v128)
    (local $t10 v128) (local $t11 v128) (local $t12 v128)
    (local $t20 v128) (local $t21 v128) (local $t22 v128)
    (local.set $half (f32x4.splat (f32.const 0.5)))
    (local.set $tap (i32.shl (i32.mul (local.get $ci) (local.get $co)) (i32.const 2)))
    (local.set $xi (local.get $tap)) ;; bytes between positions xi in U (ci co floats too)
    (block $done
      (loop $channels
        (br_if $done (i32.ge_u (local.get $c) (local.get $ci)))
        (local.set $o (i32.const 0))
        (loop $outs
          (local.set $src (i32.add (local.get $w) (i32.shl (i32.add (i32.mul (local.get $c) (local.get $co)) (local.get $o)) (i32.const 2))))
          (local.set $g00 (v128.load (local.get $src)))
          (local.set $g01 (v128.load (i32.add (local.get $src) (local.get $tap))))
          (local.set $g02 (v128.load (i32.add (local.get $src) (i32.mul (local.get $tap) (i32.const 2)))))
          (local.set $g10 (v128.load (i32.add (local.get $src) (i32.mul (local.get $tap) (i32.const 3)))))
          (local.set $g11 (v128.load (i32.add (local.get $src) (i32.mul (local.get $tap) (i32.const 4)))))
          (local.set $g12 (v128.load (i32.add (local.get $src) (i32.mul (local.get $tap) (i32.const 5)))))
          (local.set $g20 (v128.load (i32.add (local.get $src) (i32.mul (local.get $tap) (i32.const 6)))))
          (local.set $g21 (v128.load (i32.add (local.get $src) (i32.mul (local.get $tap) (i32.const 7)))))
          (local.set $g22 (v128.load (i32.add (local.get $src) (i32.mul (local.get $tap) (i32.const 8)))))
          ;; rows 1 and 2 of G g (rows 0 and 3 are g's rows 0 and 2)
          (local.set $t10 (f32x4.mul (local.get $half) (f32x4.add (f32x4.add (local.get $g00) (local.get $g10)) (local.get $g20))))
          (local.set $t11 (f32x4.mul (local.get $half) (f32x4.add (f32x4.add (local.get $g01) (local.get $g11)) (local.get $g21))))
          (local.set $t12 (f32x4.mul (local.get $half) (f32x4.add (f32x4.add (local.get $g02) (local.get $g12)) (local.get $g22))))
          (local.set $t20 (f32x4.mul (local.get $half) (f32x4.add (f32x4.sub (local.get $g00) (local.get $g10)) (local.get $g20))))
          (local.set $t21 (f32x4.mul (local.get $half) (f32x4.add (f32x4.sub (local.get $g01) (local.get $g11)) (local.get $g21))))
          (local.set $t22 (f32x4.mul (local.get $half) (f32x4.add (f32x4.sub (local.get $g02) (local.get $g12)) (local.get $g22))))
          ;; U[xi, o / 8, c, o % 8 .. o % 8 + 3]; row r of (G g) G^T goes to xi = 4r .. 4r + 3
          (local.set $dst (i32.add (i32.add (local.get $u)
            (i32.shl (i32.add (i32.mul (i32.shr_u (local.get $o) (i32.const 3)) (local.get $ci)) (local.get $c)) (i32.const 5)))
            (i32.shl (i32.and (local.get $o) (i32.const 4)) (i32.const 2))))
          (call $filterRow (local.get $dst) (local.get $xi) (local.get $g00) (local.get $g01) (local.get $g02))
          (call $filterRow (i32.add (local.get $dst) (i32.shl (local.get $xi) (i32.const 2)))
            (local.get $xi) (local.get $t10) (local.get $t11) (local.get $t12))
          (call $filterRow (i32.add (local.get $dst) (i32.shl (local.get $xi) (i32.const 3)))
            (local.get $xi) (local.get $t20) (local.get $t21) (local.get $t22))
          (call $filterRow (i32.add (local.get $dst) (i32.mul (local.get $xi) (i32.const 12)))
            (local.get $xi) (local.get $g20) (local.get $g21) (local.get $g22))
          (local.set $o (i32.add (local.get $o) (i32.const 4)))
          (br_if $outs (i32.lt_u (local.get $o) (local.get $co))))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $channels))))

  ;; One row (a, b, c) of G g times G^T: a, (a + b + c) / 2, (a - b + c) / 2, c, stride bytes apart.
  (func $filterRow (param $dst i32) (param $stride i32) (param $a v128) (param $b v128) (param $c v128)
    (local $half v128)
    (local.set $half (f32x4.splat (f32.const 0.5)))
    (v128.store (local.get $dst) (local.get $a))
    (local.set $dst (i32.add (local.get $dst) (local.get $stride)))
    (v128.store (local.get $dst) (f32x4.mul (local.get $half) (f32x4.add (f32x4.add (local.get $a) (local.get $b)) (local.get $c))))
    (local.set $dst (i32.add (local.get $dst) (local.get $stride)))
    (v128.store (local.get $dst) (f32x4.mul (local.get $half) (f32x4.add (f32x4.sub (local.get $a) (local.get $b)) (local.get $c))))
    (local.set $dst (i32.add (local.get $dst) (local.get $stride)))
    (v128.store (local.get $dst) (local.get $c)))

  ;; U [16, co / 8, ci, 8] = G g G^T of a 2x2 filter w [2, 2, ci, co], for F(3x3, 2x2), with
  ;; G = | 1    0   |   (the last row negated from the textbook's, as the input transform is that
  ;;     | 1/2  1/2 |    of F(2x2, 3x3), whose last row of B^T is the textbook F(3x3, 2x2)'s negated)
  ;;     | 1/2 -1/2 |
  ;;     | 0   -1   |
  (func (export "wino_filter2") (param $w i32) (param $u i32) (param $ci i32) (param $co i32)
    (local $c i32) (local $o i32) (local $src i32) (local $tap i32) (local $dst i32)
    (local $half v128)
    (local $g00 v128) (local $g01 v128) (local $g10 v128) (local $g11 v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $half (f32x4.splat (f32.const 0.5)))
    (local.set $tap (i32.shl (i32.mul (local.get $ci) (local.get $co)) (i32.const 2))) ;; also the bytes between positions xi in U
    (block $done
      (loop $channels
        (br_if $done (i32.ge_u (local.get $c) (local.get $ci)))
        (local.set $o (i32.const 0))
        (loop $outs
          (local.set $src (i32.add (local.get $w) (i32.shl (i32.add (i32.mul (local.get $c) (local.get $co)) (local.get $o)) (i32.const 2))))
          (local.set $g00 (v128.load (local.get $src)))
          (local.set $g01 (v128.load (i32.add (local.get $src) (local.get $tap))))
          (local.set $g10 (v128.load (i32.add (local.get $src) (i32.shl (local.get $tap) (i32.const 1)))))
          (local.set $g11 (v128.load (i32.add (local.get $src) (i32.mul (local.get $tap) (i32.const 3)))))
          (local.set $dst (i32.add (i32.add (local.get $u)
            (i32.shl (i32.add (i32.mul (i32.shr_u (local.get $o) (i32.const 3)) (local.get $ci)) (local.get $c)) (i32.const 5)))
            (i32.shl (i32.and (local.get $o) (i32.const 4)) (i32.const 2))))
          ;; rows of G g: (g00, g01), ((g0 + g1) / 2), ((g0 - g1) / 2), -(g10, g11); each times G^T
          (call $filterRow2 (local.get $dst) (local.get $tap) (local.get $g00) (local.get $g01))
          (call $filterRow2 (i32.add (local.get $dst) (i32.shl (local.get $tap) (i32.const 2))) (local.get $tap)
            (f32x4.mul (local.get $half) (f32x4.add (local.get $g00) (local.get $g10)))
            (f32x4.mul (local.get $half) (f32x4.add (local.get $g01) (local.get $g11))))
          (call $filterRow2 (i32.add (local.get $dst) (i32.shl (local.get $tap) (i32.const 3))) (local.get $tap)
            (f32x4.mul (local.get $half) (f32x4.sub (local.get $g00) (local.get $g10)))
            (f32x4.mul (local.get $half) (f32x4.sub (local.get $g01) (local.get $g11))))
          (call $filterRow2 (i32.add (local.get $dst) (i32.mul (local.get $tap) (i32.const 12))) (local.get $tap)
            (f32x4.neg (local.get $g10)) (f32x4.neg (local.get $g11)))
          (local.set $o (i32.add (local.get $o) (i32.const 4)))
          (br_if $outs (i32.lt_u (local.get $o) (local.get $co))))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $channels))))

  ;; One row (a, b) of G g times G^T: a, (a + b) / 2, (a - b) / 2, -b, stride bytes apart.
  (func $filterRow2 (param $dst i32) (param $stride i32) (param $a v128) (param $b v128)
    (local $half v128)
    (local.set $half (f32x4.splat (f32.const 0.5)))
    (v128.store (local.get $dst) (local.get $a))
    (local.set $dst (i32.add (local.get $dst) (local.get $stride)))
    (v128.store (local.get $dst) (f32x4.mul (local.get $half) (f32x4.add (local.get $a) (local.get $b))))
    (local.set $dst (i32.add (local.get $dst) (local.get $stride)))
    (v128.store (local.get $dst) (f32x4.mul (local.get $half) (f32x4.sub (local.get $a) (local.get $b))))
    (local.set $dst (i32.add (local.get $dst) (local.get $stride)))
    (v128.store (local.get $dst) (f32x4.neg (local.get $b))))

  ;; V[xi, k, c] = (B^T d B)[xi] for the tiles k < count of a chunk starting at tile $first, with
  ;; d the 4x4 input block of tile (img, ty, tx) at xp[img, step ty .., step tx .., c] (step: the
  ;; output pixels per tile side, 2 or 3). xiBytes: bytes between positions xi in V. ci a multiple
  ;; of 4, four channels per iteration.
  (func $inputTiles
    (param $xp i32) (param $v i32) (param $first i32) (param $count i32) (param $xiBytes i32) (param $step i32)
    (param $tilesW i32) (param $tilesPerImage i32) (param $xpImage i32) (param $xpRow i32) (param $ci i32)
    (local $k i32) (local $t i32) (local $img i32) (local $r i32) (local $base i32) (local $c i32) (local $cb i32)
    (local $p i32) (local $dst i32) (local $col i32) (local $x4 i32) (local $q i32) (local $s1 i32) (local $s2 i32) (local $s3 i32)
    (local $d00 v128) (local $d01 v128) (local $d02 v128) (local $d03 v128)
    (local $d10 v128) (local $d11 v128) (local $d12 v128) (local $d13 v128)
    (local $d20 v128) (local $d21 v128) (local $d22 v128) (local $d23 v128)
    (local $d30 v128) (local $d31 v128) (local $d32 v128) (local $d33 v128)
    (local $e0 v128) (local $e1 v128) (local $e2 v128) (local $e3 v128)
    (local.set $cb (i32.shl (local.get $ci) (i32.const 2)))
    (local.set $x4 (i32.shl (local.get $xiBytes) (i32.const 2)))
    (local.set $s1 (local.get $xiBytes))
    (local.set $s2 (i32.shl (local.get $xiBytes) (i32.const 1)))
    (local.set $s3 (i32.add (local.get $s2) (local.get $xiBytes)))
    (block $done
      (loop $tiles
        (br_if $done (i32.ge_u (local.get $k) (local.get $count)))
        (local.set $t (i32.add (local.get $first) (local.get $k)))
        (local.set $img (i32.div_u (local.get $t) (local.get $tilesPerImage)))
        (local.set $r (i32.rem_u (local.get $t) (local.get $tilesPerImage)))
        (local.set $base (i32.add (i32.add (local.get $xp) (i32.mul (local.get $img) (local.get $xpImage)))
          (i32.add
            (i32.mul (i32.mul (i32.div_u (local.get $r) (local.get $tilesW)) (local.get $step)) (local.get $xpRow))
            (i32.mul (i32.mul (i32.rem_u (local.get $r) (local.get $tilesW)) (local.get $step)) (local.get $cb)))))
        (local.set $c (i32.const 0))
        (loop $channels
          (local.set $p (i32.add (local.get $base) (local.get $c)))
          (local.set $col (local.get $cb))
          (local.set $d00 (v128.load (local.get $p)))
          (local.set $d01 (v128.load (i32.add (local.get $p) (local.get $col))))
          (local.set $d02 (v128.load (i32.add (local.get $p) (i32.shl (local.get $col) (i32.const 1)))))
          (local.set $d03 (v128.load (i32.add (local.get $p) (i32.mul (local.get $col) (i32.const 3)))))
          (local.set $p (i32.add (local.get $p) (local.get $xpRow)))
          (local.set $d10 (v128.load (local.get $p)))
          (local.set $d11 (v128.load (i32.add (local.get $p) (local.get $col))))
          (local.set $d12 (v128.load (i32.add (local.get $p) (i32.shl (local.get $col) (i32.const 1)))))
          (local.set $d13 (v128.load (i32.add (local.get $p) (i32.mul (local.get $col) (i32.const 3)))))
          (local.set $p (i32.add (local.get $p) (local.get $xpRow)))
          (local.set $d20 (v128.load (local.get $p)))
          (local.set $d21 (v128.load (i32.add (local.get $p) (local.get $col))))
          (local.set $d22 (v128.load (i32.add (local.get $p) (i32.shl (local.get $col) (i32.const 1)))))
          (local.set $d23 (v128.load (i32.add (local.get $p) (i32.mul (local.get $col) (i32.const 3)))))
          (local.set $p (i32.add (local.get $p) (local.get $xpRow)))
          (local.set $d30 (v128.load (local.get $p)))
          (local.set $d31 (v128.load (i32.add (local.get $p) (local.get $col))))
          (local.set $d32 (v128.load (i32.add (local.get $p) (i32.shl (local.get $col) (i32.const 1)))))
          (local.set $d33 (v128.load (i32.add (local.get $p) (i32.mul (local.get $col) (i32.const 3)))))
          ;; row r of B^T d (e0..e3), then times B: a - c, b + c, c - b, b - d into V[4r + s] at dst + 4r xiBytes + s xiBytes
          (local.set $dst (i32.add (i32.add (local.get $v) (i32.mul (local.get $k) (local.get $cb))) (local.get $c)))
          ;; r = 0: d0 - d2
          (local.set $e0 (f32x4.sub (local.get $d00) (local.get $d20)))
          (local.set $e1 (f32x4.sub (local.get $d01) (local.get $d21)))
          (local.set $e2 (f32x4.sub (local.get $d02) (local.get $d22)))
          (local.set $e3 (f32x4.sub (local.get $d03) (local.get $d23)))
          (local.set $q (local.get $dst))
          (v128.store (local.get $q) (f32x4.sub (local.get $e0) (local.get $e2)))
          (v128.store (i32.add (local.get $q) (local.get $s1)) (f32x4.add (local.get $e1) (local.get $e2)))
          (v128.store (i32.add (local.get $q) (local.get $s2)) (f32x4.sub (local.get $e2) (local.get $e1)))
          (v128.store (i32.add (local.get $q) (local.get $s3)) (f32x4.sub (local.get $e1) (local.get $e3)))
          ;; r = 1: d1 + d2
          (local.set $e0 (f32x4.add (local.get $d10) (local.get $d20)))
          (local.set $e1 (f32x4.add (local.get $d11) (local.get $d21)))
          (local.set $e2 (f32x4.add (local.get $d12) (local.get $d22)))
          (local.set $e3 (f32x4.add (local.get $d13) (local.get $d23)))
          (local.set $q (i32.add (local.get $dst) (local.get $x4)))
          (v128.store (local.get $q) (f32x4.sub (local.get $e0) (local.get $e2)))
          (v128.store (i32.add (local.get $q) (local.get $s1)) (f32x4.add (local.get $e1) (local.get $e2)))
          (v128.store (i32.add (local.get $q) (local.get $s2)) (f32x4.sub (local.get $e2) (local.get $e1)))
          (v128.store (i32.add (local.get $q) (local.get $s3)) (f32x4.sub (local.get $e1) (local.get $e3)))
          ;; r = 2: d2 - d1
          (local.set $e0 (f32x4.sub (local.get $d20) (local.get $d10)))
          (local.set $e1 (f32x4.sub (local.get $d21) (local.get $d11)))
          (local.set $e2 (f32x4.sub (local.get $d22) (local.get $d12)))
          (local.set $e3 (f32x4.sub (local.get $d23) (local.get $d13)))
          (local.set $q (i32.add (local.get $dst) (i32.shl (local.get $x4) (i32.const 1))))
          (v128.store (local.get $q) (f32x4.sub (local.get $e0) (local.get $e2)))
          (v128.store (i32.add (local.get $q) (local.get $s1)) (f32x4.add (local.get $e1) (local.get $e2)))
          (v128.store (i32.add (local.get $q) (local.get $s2)) (f32x4.sub (local.get $e2) (local.get $e1)))
          (v128.store (i32.add (local.get $q) (local.get $s3)) (f32x4.sub (local.get $e1) (local.get $e3)))
          ;; r = 3: d1 - d3
          (local.set $e0 (f32x4.sub (local.get $d10) (local.get $d30)))
          (local.set $e1 (f32x4.sub (local.get $d11) (local.get $d31)))
          (local.set $e2 (f32x4.sub (local.get $d12) (local.get $d32)))
          (local.set $e3 (f32x4.sub (local.get $d13) (local.get $d33)))
          (local.set $q (i32.add (local.get $dst) (i32.mul (local.get $x4) (i32.const 3))))
          (v128.store (local.get $q) (f32x4.sub (local.get $e0) (local.get $e2)))
          (v128.store (i32.add (local.get $q) (local.get $s1)) (f32x4.add (local.get $e1) (local.get $e2)))
          (v128.store (i32.add (local.get $q) (local.get $s2)) (f32x4.sub (local.get $e2) (local.get $e1)))
          (v128.store (i32.add (local.get $q) (local.get $s3)) (f32x4.sub (local.get $e1) (local.get $e3)))
          (local.set $c (i32.add (local.get $c) (i32.const 16)))
          (br_if $channels (i32.lt_u (local.get $c) (local.get $cb))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $tiles))))

  ;; m [rows, co] = v [rows, ci] x u, u in blocks of 8 output channels [co / 8, ci, 8]; rows a
  ;; multiple of 4 (4 rows by 8 channels in eight registers, as conv-kernels.wat's forward conv).
  (func $product (param $v i32) (param $u i32) (param $m i32) (param $rows i32) (param $ci i32) (param $co i32)
    (local $cb i32) (local $ob i32) (local $r i32) (local $px i32) (local $pw i32) (local $py i32) (local $k i32)
    (local $x1 i32) (local $x2 i32) (local $x3 i32)
    (local $w0 v128) (local $w1 v128) (local $s v128)
    (local $a00 v128) (local $a01 v128) (local $a10 v128) (local $a11 v128)
    (local $a20 v128) (local $a21 v128) (local $a30 v128) (local $a31 v128)
    (local.set $cb (i32.shl (local.get $co) (i32.const 2)))
    (local.set $x1 (i32.shl (local.get $ci) (i32.const 2)))
    (local.set $x2 (i32.shl (local.get $ci) (i32.const 3)))
    (local.set $x3 (i32.add (local.get $x2) (local.get $x1)))
    (loop $outs
      (local.set $r (i32.const 0))
      (loop $quads
        (local.set $a00 (v128.const i64x2 0 0)) (local.set $a01 (v128.const i64x2 0 0))
        (local.set $a10 (v128.const i64x2 0 0)) (local.set $a11 (v128.const i64x2 0 0))
        (local.set $a20 (v128.const i64x2 0 0)) (local.set $a21 (v128.const i64x2 0 0))
        (local.set $a30 (v128.const i64x2 0 0)) (local.set $a31 (v128.const i64x2 0 0))
        (local.set $px (i32.add (local.get $v) (i32.mul (local.get $r) (local.get $x1))))
        (local.set $pw (i32.add (local.get $u) (i32.mul (local.get $ob) (local.get $ci)))) ;; block ob / 32 of ci x 32 bytes
        (local.set $k (local.get $ci))
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
        (local.set $py (i32.add (i32.add (local.get $m) (i32.mul (local.get $r) (local.get $cb))) (local.get $ob)))
        (v128.store (local.get $py) (local.get $a00))
        (v128.store offset=16 (local.get $py) (local.get $a01))
        (local.set $py (i32.add (local.get $py) (local.get $cb)))
        (v128.store (local.get $py) (local.get $a10))
        (v128.store offset=16 (local.get $py) (local.get $a11))
        (local.set $py (i32.add (local.get $py) (local.get $cb)))
        (v128.store (local.get $py) (local.get $a20))
        (v128.store offset=16 (local.get $py) (local.get $a21))
        (local.set $py (i32.add (local.get $py) (local.get $cb)))
        (v128.store (local.get $py) (local.get $a30))
        (v128.store offset=16 (local.get $py) (local.get $a31))
        (local.set $r (i32.add (local.get $r) (i32.const 4)))
        (br_if $quads (i32.lt_u (local.get $r) (local.get $rows))))
      (local.set $ob (i32.add (local.get $ob) (i32.const 32)))
      (br_if $outs (i32.lt_u (local.get $ob) (local.get $cb)))))

  ;; y[img, 2 ty + a, 2 tx + b, o] = b[o] + (A^T M A)[a, b] for the tiles k < count of the chunk,
  ;; M[xi] = m + xi xiBytes + k co floats; outputs past oh or ow (odd sizes) are not stored.
  (func $outputTiles
    (param $m i32) (param $bias i32) (param $y i32) (param $first i32) (param $count i32) (param $xiBytes i32)
    (param $tilesW i32) (param $tilesPerImage i32) (param $oh i32) (param $ow i32) (param $co i32)
    (local $k i32) (local $t i32) (local $img i32) (local $r i32) (local $oy i32) (local $ox i32)
    (local $cb i32) (local $o i32) (local $p i32) (local $py i32) (local $row1 i32) (local $col1 i32)
    (local $f00 v128) (local $f01 v128) (local $f02 v128) (local $f03 v128)
    (local $f10 v128) (local $f11 v128) (local $f12 v128) (local $f13 v128)
    (local $m0 v128) (local $m1 v128) (local $m2 v128) (local $m3 v128) (local $b v128)
    (local $q i32) (local $row i32) (local $row2 i32) (local $row3 i32)
    (local.set $cb (i32.shl (local.get $co) (i32.const 2)))
    (local.set $row (i32.shl (local.get $xiBytes) (i32.const 2)))
    (local.set $row2 (i32.shl (local.get $row) (i32.const 1)))
    (local.set $row3 (i32.add (local.get $row2) (local.get $row)))
    (block $done
      (loop $tiles
        (br_if $done (i32.ge_u (local.get $k) (local.get $count)))
        (local.set $t (i32.add (local.get $first) (local.get $k)))
        (local.set $img (i32.div_u (local.get $t) (local.get $tilesPerImage)))
        (local.set $r (i32.rem_u (local.get $t) (local.get $tilesPerImage)))
        (local.set $oy (i32.shl (i32.div_u (local.get $r) (local.get $tilesW)) (i32.const 1)))
        (local.set $ox (i32.shl (i32.rem_u (local.get $r) (local.get $tilesW)) (i32.const 1)))
        (local.set $row1 (i32.lt_u (i32.add (local.get $oy) (i32.const 1)) (local.get $oh)))
        (local.set $col1 (i32.lt_u (i32.add (local.get $ox) (i32.const 1)) (local.get $ow)))
        (local.set $o (i32.const 0))
        (loop $outs
          ;; A^T M: f0 = M0 + M1 + M2, f1 = M1 - M2 - M3 (rows of M, 4 xiBytes apart; column s at p + s xiBytes)
          (local.set $p (i32.add (i32.add (local.get $m) (i32.mul (local.get $k) (local.get $cb))) (local.get $o)))
          (local.set $q (local.get $p))
          (local.set $m0 (v128.load (local.get $q)))
          (local.set $m1 (v128.load (i32.add (local.get $q) (local.get $row))))
          (local.set $m2 (v128.load (i32.add (local.get $q) (local.get $row2))))
          (local.set $m3 (v128.load (i32.add (local.get $q) (local.get $row3))))
          (local.set $f00 (f32x4.add (f32x4.add (local.get $m0) (local.get $m1)) (local.get $m2)))
          (local.set $f10 (f32x4.sub (f32x4.sub (local.get $m1) (local.get $m2)) (local.get $m3)))
          (local.set $q (i32.add (local.get $p) (local.get $xiBytes)))
          (local.set $m0 (v128.load (local.get $q)))
          (local.set $m1 (v128.load (i32.add (local.get $q) (local.get $row))))
          (local.set $m2 (v128.load (i32.add (local.get $q) (local.get $row2))))
          (local.set $m3 (v128.load (i32.add (local.get $q) (local.get $row3))))
          (local.set $f01 (f32x4.add (f32x4.add (local.get $m0) (local.get $m1)) (local.get $m2)))
          (local.set $f11 (f32x4.sub (f32x4.sub (local.get $m1) (local.get $m2)) (local.get $m3)))
          (local.set $q (i32.add (local.get $p) (i32.shl (local.get $xiBytes) (i32.const 1))))
          (local.set $m0 (v128.load (local.get $q)))
          (local.set $m1 (v128.load (i32.add (local.get $q) (local.get $row))))
          (local.set $m2 (v128.load (i32.add (local.get $q) (local.get $row2))))
          (local.set $m3 (v128.load (i32.add (local.get $q) (local.get $row3))))
          (local.set $f02 (f32x4.add (f32x4.add (local.get $m0) (local.get $m1)) (local.get $m2)))
          (local.set $f12 (f32x4.sub (f32x4.sub (local.get $m1) (local.get $m2)) (local.get $m3)))
          (local.set $q (i32.add (local.get $p) (i32.mul (local.get $xiBytes) (i32.const 3))))
          (local.set $m0 (v128.load (local.get $q)))
          (local.set $m1 (v128.load (i32.add (local.get $q) (local.get $row))))
          (local.set $m2 (v128.load (i32.add (local.get $q) (local.get $row2))))
          (local.set $m3 (v128.load (i32.add (local.get $q) (local.get $row3))))
          (local.set $f03 (f32x4.add (f32x4.add (local.get $m0) (local.get $m1)) (local.get $m2)))
          (local.set $f13 (f32x4.sub (f32x4.sub (local.get $m1) (local.get $m2)) (local.get $m3)))
          ;; times A, plus the bias
          (local.set $b (v128.load (i32.add (local.get $bias) (local.get $o))))
          (local.set $py (i32.add (i32.add (local.get $y)
            (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $img) (local.get $oh)) (local.get $oy)) (local.get $ow)) (local.get $ox)) (local.get $cb)))
            (local.get $o)))
          (v128.store (local.get $py)
            (f32x4.add (f32x4.add (f32x4.add (local.get $f00) (local.get $f01)) (local.get $f02)) (local.get $b)))
          (if (local.get $col1) (then
            (v128.store (i32.add (local.get $py) (local.get $cb))
              (f32x4.add (f32x4.sub (f32x4.sub (local.get $f01) (local.get $f02)) (local.get $f03)) (local.get $b)))))
          (if (local.get $row1) (then
            (local.set $py (i32.add (local.get $py) (i32.mul (local.get $ow) (local.get $cb))))
            (v128.store (local.get $py)
              (f32x4.add (f32x4.add (f32x4.add (local.get $f10) (local.get $f11)) (local.get $f12)) (local.get $b)))
            (if (local.get $col1) (then
              (v128.store (i32.add (local.get $py) (local.get $cb))
                (f32x4.add (f32x4.sub (f32x4.sub (local.get $f11) (local.get $f12)) (local.get $f13)) (local.get $b)))))))
          (local.set $o (i32.add (local.get $o) (i32.const 16)))
          (br_if $outs (i32.lt_u (local.get $o) (local.get $cb))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $tiles))))

  ;; As $outputTiles for F(3x3, 2x2): y[img, 3 ty + a, 3 tx + b, o] = b[o] + (A^T M A)[a, b] with
  ;; A^T = | 1  1  1  0 |
  ;;       | 0  1 -1  0 |
  ;;       | 0  1  1  1 |
  (func $outputTiles3
    (param $m i32) (param $bias i32) (param $y i32) (param $first i32) (param $count i32) (param $xiBytes i32)
    (param $tilesW i32) (param $tilesPerImage i32) (param $oh i32) (param $ow i32) (param $co i32)
    (local $k i32) (local $t i32) (local $img i32) (local $r i32) (local $oy i32) (local $ox i32)
    (local $cb i32) (local $o i32) (local $p i32) (local $py i32) (local $py0 i32) (local $py1 i32)
    (local $hasRow1 i32) (local $hasRow2 i32) (local $hasCol1 i32) (local $hasCol2 i32)
    (local $f00 v128) (local $f01 v128) (local $f02 v128) (local $f03 v128)
    (local $f10 v128) (local $f11 v128) (local $f12 v128) (local $f13 v128)
    (local $f20 v128) (local $f21 v128) (local $f22 v128) (local $f23 v128)
    (local $m0 v128) (local $m1 v128) (local $m2 v128) (local $m3 v128) (local $b v128)
    (local $q i32) (local $row i32) (local $row2 i32) (local $row3 i32)
    (local.set $cb (i32.shl (local.get $co) (i32.const 2)))
    (local.set $row (i32.shl (local.get $xiBytes) (i32.const 2)))
    (local.set $row2 (i32.shl (local.get $row) (i32.const 1)))
    (local.set $row3 (i32.add (local.get $row2) (local.get $row)))
    (block $done
      (loop $tiles
        (br_if $done (i32.ge_u (local.get $k) (local.get $count)))
        (local.set $t (i32.add (local.get $first) (local.get $k)))
        (local.set $img (i32.div_u (local.get $t) (local.get $tilesPerImage)))
        (local.set $r (i32.rem_u (local.get $t) (local.get $tilesPerImage)))
        (local.set $oy (i32.mul (i32.div_u (local.get $r) (local.get $tilesW)) (i32.const 3)))
        (local.set $ox (i32.mul (i32.rem_u (local.get $r) (local.get $tilesW)) (i32.const 3)))
        (local.set $hasRow1 (i32.lt_u (i32.add (local.get $oy) (i32.const 1)) (local.get $oh)))
        (local.set $hasRow2 (i32.lt_u (i32.add (local.get $oy) (i32.const 2)) (local.get $oh)))
        (local.set $hasCol1 (i32.lt_u (i32.add (local.get $ox) (i32.const 1)) (local.get $ow)))
        (local.set $hasCol2 (i32.lt_u (i32.add (local.get $ox) (i32.const 2)) (local.get $ow)))
        (local.set $o (i32.const 0))
        (loop $outs
          ;; A^T M, column s from M[s], M[4 + s], M[8 + s], M[12 + s]: f0 = M0 + M1 + M2, f1 = M1 - M2, f2 = M1 + M2 + M3
          (local.set $p (i32.add (i32.add (local.get $m) (i32.mul (local.get $k) (local.get $cb))) (local.get $o)))
          (local.set $q (local.get $p))
          (local.set $m0 (v128.load (local.get $q)))
          (local.set $m1 (v128.load (i32.add (local.get $q) (local.get $row))))
          (local.set $m2 (v128.load (i32.add (local.get $q) (local.get $row2))))
          (local.set $m3 (v128.load (i32.add (local.get $q) (local.get $row3))))
          (local.set $f00 (f32x4.add (f32x4.add (local.get $m0) (local.get $m1)) (local.get $m2)))
          (local.set $f10 (f32x4.sub (local.get $m1) (local.get $m2)))
          (local.set $f20 (f32x4.add (f32x4.add (local.get $m1) (local.get $m2)) (local.get $m3)))
          (local.set $q (i32.add (local.get $p) (local.get $xiBytes)))
          (local.set $m0 (v128.load (local.get $q)))
          (local.set $m1 (v128.load (i32.add (local.get $q) (local.get $row))))
          (local.set $m2 (v128.load (i32.add (local.get $q) (local.get $row2))))
          (local.set $m3 (v128.load (i32.add (local.get $q) (local.get $row3))))
          (local.set $f01 (f32x4.add (f32x4.add (local.get $m0) (local.get $m1)) (local.get $m2)))
          (local.set $f11 (f32x4.sub (local.get $m1) (local.get $m2)))
          (local.set $f21 (f32x4.add (f32x4.add (local.get $m1) (local.get $m2)) (local.get $m3)))
          (local.set $q (i32.add (local.get $p) (i32.shl (local.get $xiBytes) (i32.const 1))))
          (local.set $m0 (v128.load (local.get $q)))
          (local.set $m1 (v128.load (i32.add (local.get $q) (local.get $row))))
          (local.set $m2 (v128.load (i32.add (local.get $q) (local.get $row2))))
          (local.set $m3 (v128.load (i32.add (local.get $q) (local.get $row3))))
          (local.set $f02 (f32x4.add (f32x4.add (local.get $m0) (local.get $m1)) (local.get $m2)))
          (local.set $f12 (f32x4.sub (local.get $m1) (local.get $m2)))
          (local.set $f22 (f32x4.add (f32x4.add (local.get $m1) (local.get $m2)) (local.get $m3)))
          (local.set $q (i32.add (local.get $p) (i32.mul (local.get $xiBytes) (i32.const 3))))
          (local.set $m0 (v128.load (local.get $q)))
          (local.set $m1 (v128.load (i32.add (local.get $q) (local.get $row))))
          (local.set $m2 (v128.load (i32.add (local.get $q) (local.get $row2))))
          (local.set $m3 (v128.load (i32.add (local.get $q) (local.get $row3))))
          (local.set $f03 (f32x4.add (f32x4.add (local.get $m0) (local.get $m1)) (local.get $m2)))
          (local.set $f13 (f32x4.sub (local.get $m1) (local.get $m2)))
          (local.set $f23 (f32x4.add (f32x4.add (local.get $m1) (local.get $m2)) (local.get $m3)))
          ;; times A, plus the bias; row a at py
          (local.set $b (v128.load (i32.add (local.get $bias) (local.get $o))))
          (local.set $py (i32.add (i32.add (local.get $y)
            (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $img) (local.get $oh)) (local.get $oy)) (local.get $ow)) (local.get $ox)) (local.get $cb)))
            (local.get $o)))
          (local.set $py0 (local.get $py))
          (v128.store (local.get $py) (f32x4.add (f32x4.add (f32x4.add (local.get $f00) (local.get $f01)) (local.get $f02)) (local.get $b)))
          (if (local.get $hasCol1) (then (v128.store (i32.add (local.get $py) (local.get $cb)) (f32x4.add (f32x4.sub (local.get $f01) (local.get $f02)) (local.get $b)))))
          (if (local.get $hasCol2) (then (v128.store (i32.add (local.get $py) (i32.shl (local.get $cb) (i32.const 1))) (f32x4.add (f32x4.add (f32x4.add (local.get $f01) (local.get $f02)) (local.get $f03)) (local.get $b)))))
          (local.set $py1 (i32.add (local.get $py0) (i32.mul (local.get $ow) (local.get $cb))))
          (if (local.get $hasRow1) (then
            (local.set $py (local.get $py1))
            (v128.store (local.get $py) (f32x4.add (f32x4.add (f32x4.add (local.get $f10) (local.get $f11)) (local.get $f12)) (local.get $b)))
            (if (local.get $hasCol1) (then (v128.store (i32.add (local.get $py) (local.get $cb)) (f32x4.add (f32x4.sub (local.get $f11) (local.get $f12)) (local.get $b)))))
            (if (local.get $hasCol2) (then (v128.store (i32.add (local.get $py) (i32.shl (local.get $cb) (i32.const 1))) (f32x4.add (f32x4.add (f32x4.add (local.get $f11) (local.get $f12)) (local.get $f13)) (local.get $b)))))))
          (if (local.get $hasRow2) (then
            (local.set $py (i32.add (local.get $py1) (i32.mul (local.get $ow) (local.get $cb))))
            (v128.store (local.get $py) (f32x4.add (f32x4.add (f32x4.add (local.get $f20) (local.get $f21)) (local.get $f22)) (local.get $b)))
            (if (local.get $hasCol1) (then (v128.store (i32.add (local.get $py) (local.get $cb)) (f32x4.add (f32x4.sub (local.get $f21) (local.get $f22)) (local.get $b)))))
            (if (local.get $hasCol2) (then (v128.store (i32.add (local.get $py) (i32.shl (local.get $cb) (i32.const 1))) (f32x4.add (f32x4.add (f32x4.add (local.get $f21) (local.get $f22)) (local.get $f23)) (local.get $b)))))))
          (local.set $o (i32.add (local.get $o) (i32.const 16)))
          (br_if $outs (i32.lt_u (local.get $o) (local.get $cb))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $tiles))))

  ;; The convolution for tiles [first, first + count) of the batch (tiles numbered image by image,
  ;; row by row), a chunk of at most `chunk` tiles (a multiple of 4) at a time: F(2x2, 3x3) with
  ;; outputs = 2, F(3x3, 2x2) with outputs = 3. xp: the zero-padded input [images,
  ;; outputs tilesH + 4 - outputs, outputs tilesW + 4 - outputs, ci]; u: wino_filter's (3x3) or
  ;; wino_filter2's (2x2) output; y [images, oh, ow, co];
  ;; v and m: scratch of 16 (chunk ci + 16) and 16 (chunk co + 16) floats. ci a multiple of 4, co of 8.
  (func (export "wino_conv")
    (param $xp i32) (param $u i32) (param $bias i32) (param $y i32) (param $v i32) (param $m i32)
    (param $first i32) (param $count i32) (param $chunk i32) (param $tilesW i32) (param $tilesPerImage i32)
    (param $xpImage i32) (param $xpRow i32) (param $oh i32) (param $ow i32) (param $ci i32) (param $co i32) (param $outputs i32)
    (local $done i32) (local $n i32) (local $xi i32) (local $vXi i32) (local $mXi i32) (local $uXi i32)
    ;; a cache line between the positions' blocks: 16 blocks a power of two apart would all fall
    ;; in the same L1 cache set, and the transforms touch all 16 at once
    (local.set $vXi (i32.add (i32.shl (i32.mul (local.get $chunk) (local.get $ci)) (i32.const 2)) (i32.const 64)))
    (local.set $mXi (i32.add (i32.shl (i32.mul (local.get $chunk) (local.get $co)) (i32.const 2)) (i32.const 64)))
    (local.set $uXi (i32.shl (i32.mul (local.get $ci) (local.get $co)) (i32.const 2)))
    (block $finished
      (loop $chunks
        (br_if $finished (i32.ge_u (local.get $done) (local.get $count)))
        (local.set $n (i32.sub (local.get $count) (local.get $done)))
        (if (i32.gt_u (local.get $n) (local.get $chunk)) (then (local.set $n (local.get $chunk))))
        (call $inputTiles (local.get $xp) (local.get $v) (i32.add (local.get $first) (local.get $done)) (local.get $n)
          (local.get $vXi) (local.get $outputs) (local.get $tilesW) (local.get $tilesPerImage) (local.get $xpImage) (local.get $xpRow) (local.get $ci))
        ;; 16 products, rows rounded up to 4 (the extra rows' results are not used)
        (local.set $xi (i32.const 0))
        (loop $positions
          (call $product
            (i32.add (local.get $v) (i32.mul (local.get $xi) (local.get $vXi)))
            (i32.add (local.get $u) (i32.mul (local.get $xi) (local.get $uXi)))
            (i32.add (local.get $m) (i32.mul (local.get $xi) (local.get $mXi)))
            (i32.and (i32.add (local.get $n) (i32.const 3)) (i32.const -4)) (local.get $ci) (local.get $co))
          (local.set $xi (i32.add (local.get $xi) (i32.const 1)))
          (br_if $positions (i32.lt_u (local.get $xi) (i32.const 16))))
        (if (i32.eq (local.get $outputs) (i32.const 2))
          (then (call $outputTiles (local.get $m) (local.get $bias) (local.get $y) (i32.add (local.get $first) (local.get $done)) (local.get $n)
            (local.get $mXi) (local.get $tilesW) (local.get $tilesPerImage) (local.get $oh) (local.get $ow) (local.get $co)))
          (else (call $outputTiles3 (local.get $m) (local.get $bias) (local.get $y) (i32.add (local.get $first) (local.get $done)) (local.get $n)
            (local.get $mXi) (local.get $tilesW) (local.get $tilesPerImage) (local.get $oh) (local.get $ow) (local.get $co))))
        (local.set $done (i32.add (local.get $done) (local.get $n)))
        (br $chunks))))
)
