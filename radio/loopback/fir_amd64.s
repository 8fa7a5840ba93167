#include "textflag.h"

// Kernel of firCorr: y[k] = sum_m g[m]*x[k+m], complex64, for AVX2 with FMA.
//
// Vectorised over outputs: a YMM register holds 4 consecutive complex samples
// interleaved (re, im). For each tap m, real(g[m]) and imag(g[m]) are broadcast and
//	accR += gr * x[k+m .. k+m+3]	(gr*xr, gr*xi)
//	accI += gi * x[k+m .. k+m+3]	(gi*xr, gi*xi)
// and at the end y = accR -/+ swap(accI) = (gr*xr - gi*xi, gr*xi + gi*xr), which is
// VADDSUBPS of accR and VPERMILPS $0xB1 of accI. Blocks of 16 outputs keep 8
// independent accumulators in flight (two FMA pipes of latency 4); the remainder
// goes by 8, by 4 and finally by a masked block of 1 to 3 outputs, whose masked loads
// never touch memory past x's end.
//
// Registers: DI y, SI x[k], R8 g, R9 len(g), BX outputs left,
// R10 x[k+m], R11 g[m], CX taps left, Y8/Y9 broadcast gr/gi, Y10-Y13 x.

// FINISH stores (accR, accI) as 4 complex outputs at off(DI).
#define FINISH(accR, accI, off) \
	VPERMILPS   $0xB1, accI, accI \
	VADDSUBPS   accI, accR, accR  \
	VMOVUPS     accR, off(DI)

// func firCorrAVX2(y, x, g []complex64)
TEXT ·firCorrAVX2(SB), NOSPLIT, $0-72
	MOVQ y_base+0(FP), DI
	MOVQ y_len+8(FP), BX
	MOVQ x_base+24(FP), SI
	MOVQ g_base+48(FP), R8
	MOVQ g_len+56(FP), R9
	TESTQ R9, R9
	JZ   done

loop16:
	CMPQ BX, $16
	JLT  block8
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	MOVQ SI, R10
	MOVQ R8, R11
	MOVQ R9, CX

tap16:
	VBROADCASTSS (R11), Y8
	VBROADCASTSS 4(R11), Y9
	VMOVUPS      (R10), Y10
	VMOVUPS      32(R10), Y11
	VMOVUPS      64(R10), Y12
	VMOVUPS      96(R10), Y13
	VFMADD231PS  Y10, Y8, Y0
	VFMADD231PS  Y10, Y9, Y4
	VFMADD231PS  Y11, Y8, Y1
	VFMADD231PS  Y11, Y9, Y5
	VFMADD231PS  Y12, Y8, Y2
	VFMADD231PS  Y12, Y9, Y6
	VFMADD231PS  Y13, Y8, Y3
	VFMADD231PS  Y13, Y9, Y7
	ADDQ         $8, R10
	ADDQ         $8, R11
	DECQ         CX
	JNZ          tap16

	FINISH(Y0, Y4, 0)
	FINISH(Y1, Y5, 32)
	FINISH(Y2, Y6, 64)
	FINISH(Y3, Y7, 96)
	ADDQ $128, SI
	ADDQ $128, DI
	SUBQ $16, BX
	JMP  loop16

block8:
	CMPQ BX, $8
	JLT  block4
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	MOVQ   SI, R10
	MOVQ   R8, R11
	MOVQ   R9, CX

tap8:
	VBROADCASTSS (R11), Y8
	VBROADCASTSS 4(R11), Y9
	VMOVUPS      (R10), Y10
	VMOVUPS      32(R10), Y11
	VFMADD231PS  Y10, Y8, Y0
	VFMADD231PS  Y10, Y9, Y4
	VFMADD231PS  Y11, Y8, Y1
	VFMADD231PS  Y11, Y9, Y5
	ADDQ         $8, R10
	ADDQ         $8, R11
	DECQ         CX
	JNZ          tap8

	FINISH(Y0, Y4, 0)
	FINISH(Y1, Y5, 32)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $8, BX

block4:
	CMPQ BX, $4
	JLT  tail
	VXORPS Y0, Y0, Y0
	VXORPS Y4, Y4, Y4
	MOVQ   SI, R10
	MOVQ   R8, R11
	MOVQ   R9, CX

tap4:
	VBROADCASTSS (R11), Y8
	VBROADCASTSS 4(R11), Y9
	VMOVUPS      (R10), Y10
	VFMADD231PS  Y10, Y8, Y0
	VFMADD231PS  Y10, Y9, Y4
	ADDQ         $8, R10
	ADDQ         $8, R11
	DECQ         CX
	JNZ          tap4

	FINISH(Y0, Y4, 0)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $4, BX

tail:
	TESTQ BX, BX
	JZ    done
	// 1 to 3 outputs: lanes past the last output are masked off on load and store.
	LEAQ    firTailMask<>(SB), AX
	SHLQ    $5, BX
	VMOVDQU (AX)(BX*1), Y15
	VXORPS  Y0, Y0, Y0
	VXORPS  Y4, Y4, Y4
	MOVQ    SI, R10
	MOVQ    R8, R11
	MOVQ    R9, CX

tapT:
	VBROADCASTSS (R11), Y8
	VBROADCASTSS 4(R11), Y9
	VMASKMOVPS   (R10), Y15, Y10
	VFMADD231PS  Y10, Y8, Y0
	VFMADD231PS  Y10, Y9, Y4
	ADDQ         $8, R10
	ADDQ         $8, R11
	DECQ         CX
	JNZ          tapT

	VPERMILPS  $0xB1, Y4, Y4
	VADDSUBPS  Y4, Y0, Y0
	VMASKMOVPS Y0, Y15, (DI)

done:
	VZEROUPPER
	RET

// firTailMask<>+32*r selects the first r complex64 lanes (2r float32) of a YMM, r = 0..3.
DATA firTailMask<>+0x00(SB)/8, $0x0000000000000000
DATA firTailMask<>+0x08(SB)/8, $0x0000000000000000
DATA firTailMask<>+0x10(SB)/8, $0x0000000000000000
DATA firTailMask<>+0x18(SB)/8, $0x0000000000000000
DATA firTailMask<>+0x20(SB)/8, $0xffffffffffffffff
DATA firTailMask<>+0x28(SB)/8, $0x0000000000000000
DATA firTailMask<>+0x30(SB)/8, $0x0000000000000000
DATA firTailMask<>+0x38(SB)/8, $0x0000000000000000
DATA firTailMask<>+0x40(SB)/8, $0xffffffffffffffff
DATA firTailMask<>+0x48(SB)/8, $0xffffffffffffffff
DATA firTailMask<>+0x50(SB)/8, $0x0000000000000000
DATA firTailMask<>+0x58(SB)/8, $0x0000000000000000
DATA firTailMask<>+0x60(SB)/8, $0xffffffffffffffff
DATA firTailMask<>+0x68(SB)/8, $0xffffffffffffffff
DATA firTailMask<>+0x70(SB)/8, $0xffffffffffffffff
DATA firTailMask<>+0x78(SB)/8, $0x0000000000000000
GLOBL firTailMask<>(SB), RODATA|NOPTR, $128

// func firCorrAVX512(y, x, g []complex64)
//
// The same method with ZMM registers (8 complex each) and AVX-512F, which has 32 of
// them. The kernel is bound by loads more than by FMAs (x loads of 64 bytes mostly split
// cache lines), so it first takes passes of 64 outputs: per tap 2 broadcasts and 8 loads
// feed 16 FMAs (measured on AMD EPYC at 64 outputs and 44 taps, passes of 32 outputs
// gave 9% less throughput and passes of 16 outputs 24% less).
// The rest goes in passes of 16 outputs, the last one fewer under the masks K1 and K2
// (masked-off lanes are neither loaded nor stored, so nothing past x or y is touched).
// There even and odd taps go to separate accumulators, so that a pass of only 16
// outputs (the clock interpolator's block) still keeps 8 FMA chains in flight. There is
// no 512-bit VADDSUBPS; its part is played by VFMADDSUB213PS with a vector of ones,
// exact because x*1 is x.
//
// Registers: DI y, SI x[k], R8 g, R9 len(g), BX outputs left, R10 x[k+m], R11 g[m],
// R12 taps (or tap pairs) left, Z31 ones.
// Passes of 64: Z0-Z7 accR, Z8-Z15 accI, Z16/Z17 broadcast gr/gi, Z18-Z25 x.
// Passes of 16: Z0-Z3 accR0, accR1, accI0, accI1 over even taps, Z4-Z7 over odd taps;
// Z8-Z11 broadcast gr, gi of two taps; Z12-Z15 x.
TEXT ·firCorrAVX512(SB), NOSPLIT, $0-72
	MOVQ y_base+0(FP), DI
	MOVQ y_len+8(FP), BX
	MOVQ x_base+24(FP), SI
	MOVQ g_base+48(FP), R8
	MOVQ g_len+56(FP), R9
	TESTQ R9, R9
	JZ   done512
	TESTQ BX, BX
	JLE  done512
	VBROADCASTSS firOne<>(SB), Z31

pass64:
	CMPQ BX, $64
	JLT  pass16
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	MOVQ   SI, R10
	MOVQ   R8, R11
	MOVQ   R9, R12

tap64:
	VBROADCASTSS (R11), Z16
	VBROADCASTSS 4(R11), Z17
	VMOVUPS      (R10), Z18
	VMOVUPS      64(R10), Z19
	VMOVUPS      128(R10), Z20
	VMOVUPS      192(R10), Z21
	VMOVUPS      256(R10), Z22
	VMOVUPS      320(R10), Z23
	VMOVUPS      384(R10), Z24
	VMOVUPS      448(R10), Z25
	VFMADD231PS  Z18, Z16, Z0
	VFMADD231PS  Z18, Z17, Z8
	VFMADD231PS  Z19, Z16, Z1
	VFMADD231PS  Z19, Z17, Z9
	VFMADD231PS  Z20, Z16, Z2
	VFMADD231PS  Z20, Z17, Z10
	VFMADD231PS  Z21, Z16, Z3
	VFMADD231PS  Z21, Z17, Z11
	VFMADD231PS  Z22, Z16, Z4
	VFMADD231PS  Z22, Z17, Z12
	VFMADD231PS  Z23, Z16, Z5
	VFMADD231PS  Z23, Z17, Z13
	VFMADD231PS  Z24, Z16, Z6
	VFMADD231PS  Z24, Z17, Z14
	VFMADD231PS  Z25, Z16, Z7
	VFMADD231PS  Z25, Z17, Z15
	ADDQ         $8, R10
	ADDQ         $8, R11
	DECQ         R12
	JNZ          tap64

	VPERMILPS      $0xB1, Z8, Z8
	VPERMILPS      $0xB1, Z9, Z9
	VPERMILPS      $0xB1, Z10, Z10
	VPERMILPS      $0xB1, Z11, Z11
	VPERMILPS      $0xB1, Z12, Z12
	VPERMILPS      $0xB1, Z13, Z13
	VPERMILPS      $0xB1, Z14, Z14
	VPERMILPS      $0xB1, Z15, Z15
	VFMADDSUB213PS Z8, Z31, Z0
	VFMADDSUB213PS Z9, Z31, Z1
	VFMADDSUB213PS Z10, Z31, Z2
	VFMADDSUB213PS Z11, Z31, Z3
	VFMADDSUB213PS Z12, Z31, Z4
	VFMADDSUB213PS Z13, Z31, Z5
	VFMADDSUB213PS Z14, Z31, Z6
	VFMADDSUB213PS Z15, Z31, Z7
	VMOVUPS        Z0, (DI)
	VMOVUPS        Z1, 64(DI)
	VMOVUPS        Z2, 128(DI)
	VMOVUPS        Z3, 192(DI)
	VMOVUPS        Z4, 256(DI)
	VMOVUPS        Z5, 320(DI)
	VMOVUPS        Z6, 384(DI)
	VMOVUPS        Z7, 448(DI)
	ADDQ           $512, SI
	ADDQ           $512, DI
	SUBQ           $64, BX
	JZ             done512
	JMP            pass64

pass16:
	// K1, K2 select the first c1 = min(left, 8) and c2 = min(left, 16) - c1 outputs of
	// the pass's two ZMM (two float32 lanes per output).
	MOVQ    $16, DX
	CMPQ    BX, DX
	CMOVQLT BX, DX
	MOVQ    $8, CX
	CMPQ    DX, CX
	CMOVQLT DX, CX
	SUBQ    CX, DX
	SHLQ    $1, CX
	MOVL    $1, AX
	SHLL    CX, AX
	DECL    AX
	KMOVW   AX, K1
	MOVQ    DX, CX
	SHLQ    $1, CX
	MOVL    $1, AX
	SHLL    CX, AX
	DECL    AX
	KMOVW   AX, K2

	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	MOVQ   SI, R10
	MOVQ   R8, R11
	MOVQ   R9, R12
	SHRQ   $1, R12
	JZ     odd16

pair16:
	VBROADCASTSS (R11), Z8
	VBROADCASTSS 4(R11), Z9
	VBROADCASTSS 8(R11), Z10
	VBROADCASTSS 12(R11), Z11
	VMOVUPS.Z    (R10), K1, Z12
	VMOVUPS.Z    64(R10), K2, Z13
	VMOVUPS.Z    8(R10), K1, Z14
	VMOVUPS.Z    72(R10), K2, Z15
	VFMADD231PS  Z12, Z8, Z0
	VFMADD231PS  Z12, Z9, Z2
	VFMADD231PS  Z13, Z8, Z1
	VFMADD231PS  Z13, Z9, Z3
	VFMADD231PS  Z14, Z10, Z4
	VFMADD231PS  Z14, Z11, Z6
	VFMADD231PS  Z15, Z10, Z5
	VFMADD231PS  Z15, Z11, Z7
	ADDQ         $16, R10
	ADDQ         $16, R11
	DECQ         R12
	JNZ          pair16

odd16:
	TESTQ $1, R9
	JZ    sum16
	VBROADCASTSS (R11), Z8
	VBROADCASTSS 4(R11), Z9
	VMOVUPS.Z    (R10), K1, Z12
	VMOVUPS.Z    64(R10), K2, Z13
	VFMADD231PS  Z12, Z8, Z0
	VFMADD231PS  Z12, Z9, Z2
	VFMADD231PS  Z13, Z8, Z1
	VFMADD231PS  Z13, Z9, Z3

sum16:
	VADDPS         Z4, Z0, Z0
	VADDPS         Z5, Z1, Z1
	VADDPS         Z6, Z2, Z2
	VADDPS         Z7, Z3, Z3
	VPERMILPS      $0xB1, Z2, Z2
	VPERMILPS      $0xB1, Z3, Z3
	VFMADDSUB213PS Z2, Z31, Z0
	VFMADDSUB213PS Z3, Z31, Z1
	VMOVUPS        Z0, K1, (DI)
	VMOVUPS        Z1, K2, 64(DI)
	ADDQ           $128, SI
	ADDQ           $128, DI
	SUBQ           $16, BX
	JG             pass16

done512:
	VZEROUPPER
	RET

DATA firOne<>+0(SB)/4, $0x3f800000
GLOBL firOne<>(SB), RODATA|NOPTR, $4
