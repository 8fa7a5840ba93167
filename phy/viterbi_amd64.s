#include "textflag.h"

// AVX2 kernels of the Viterbi decoder (viterbi.go describes the trellis, the metric
// and why int16 lanes cannot overflow). Plan 9 operand order: sources first, the
// destination last, so "VPSUBSW Y10, Y2, Y9" is Y9 = Y2 - Y10.

// func vitMaxAbsAVX2(x []float32) float32
//
// Largest finite |x[i]|: the sign bit is cleared, lanes that are not below +Inf (NaN,
// infinities) are zeroed, and four accumulators take the maximum of 32 values per
// iteration.
TEXT ·vitMaxAbsAVX2(SB), NOSPLIT, $0-28
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	MOVL $0x7fffffff, AX
	MOVQ AX, X8
	VPBROADCASTD X8, Y8 // sign mask
	MOVL $0x7f800000, AX
	MOVQ AX, X9
	VPBROADCASTD X9, Y9 // +Inf
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	SHRQ $5, CX
	JZ   maxdone

maxloop:
	VANDPS   (SI), Y8, Y4
	VANDPS   32(SI), Y8, Y5
	VANDPS   64(SI), Y8, Y6
	VANDPS   96(SI), Y8, Y7
	VCMPPS   $1, Y9, Y4, Y10 // |x| < +Inf: false for NaN and infinities
	VCMPPS   $1, Y9, Y5, Y11
	VCMPPS   $1, Y9, Y6, Y12
	VCMPPS   $1, Y9, Y7, Y13
	VANDPS   Y10, Y4, Y4
	VANDPS   Y11, Y5, Y5
	VANDPS   Y12, Y6, Y6
	VANDPS   Y13, Y7, Y7
	VMAXPS   Y4, Y0, Y0
	VMAXPS   Y5, Y1, Y1
	VMAXPS   Y6, Y2, Y2
	VMAXPS   Y7, Y3, Y3
	ADDQ     $128, SI
	DECQ     CX
	JNZ      maxloop

maxdone:
	VMAXPS       Y1, Y0, Y0
	VMAXPS       Y3, Y2, Y2
	VMAXPS       Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VMAXPS       X1, X0, X0
	VPERMILPS    $0x4e, X0, X1
	VMAXPS       X1, X0, X0
	VPERMILPS    $0xb1, X0, X1
	VMAXPS       X1, X0, X0
	VZEROUPPER
	MOVSS        X0, ret+24(FP)
	RET

// func vitQuantizeAVX2(q []int16, x []float32, scale float32)
//
// 16 LLRs per iteration: multiply by scale, zero the NaN lanes (ordered-compare mask),
// clamp to +-511.0 (vitFull), convert with the default rounding (nearest, ties to
// even), pack to int16 (VPACKSSDW works per 128-bit lane, so VPERMQ restores the order).
TEXT ·vitQuantizeAVX2(SB), NOSPLIT, $0-52
	MOVQ         q_base+0(FP), DI
	MOVQ         x_base+24(FP), SI
	MOVQ         x_len+32(FP), CX
	VBROADCASTSS scale+48(FP), Y8
	MOVL         $0x43ff8000, AX // 511.0
	MOVQ         AX, X9
	VPBROADCASTD X9, Y9
	MOVL         $0xc3ff8000, AX // -511.0
	MOVQ         AX, X10
	VPBROADCASTD X10, Y10
	SHRQ         $4, CX
	JZ           qdone

qloop:
	VMULPS    (SI), Y8, Y0
	VMULPS    32(SI), Y8, Y1
	VCMPPS    $7, Y0, Y0, Y2 // ordered: not NaN
	VCMPPS    $7, Y1, Y1, Y3
	VANDPS    Y2, Y0, Y0
	VANDPS    Y3, Y1, Y1
	VMINPS    Y9, Y0, Y0
	VMINPS    Y9, Y1, Y1
	VMAXPS    Y10, Y0, Y0
	VMAXPS    Y10, Y1, Y1
	VCVTPS2DQ Y0, Y0
	VCVTPS2DQ Y1, Y1
	VPACKSSDW Y1, Y0, Y0 // 0-3 8-11 | 4-7 12-15
	VPERMQ    $0xd8, Y0, Y0
	VMOVDQU   Y0, (DI)
	ADDQ      $64, SI
	ADDQ      $32, DI
	DECQ      CX
	JNZ       qloop

qdone:
	VZEROUPPER
	RET

// func vitACSAVX2(dec []uint64, q []int16, m *[64]int16, signs *[64]int16)
//
// The 64 path metrics live in four registers for the whole block, in state order:
// Y0 states 0-15, Y1 16-31 (the butterflies' upper inputs i), Y2 32-47, Y3 48-63 (their
// partners i+32). Y4-Y7 hold the signs of LA (butterflies 0-15, 16-31) and LB.
//
// Per step:
//   - branch values M = sA*LA + sB*LB for butterflies 0-15 (Y10) and 16-31 (Y11);
//   - X = max(A+M, B-M) (new even states 2i), O = max(A-M, B+M) (new odd states
//     2i+1), with the decision masks B-M > A+M and B+M > A-M;
//   - decisions: packing the even masks of both halves to bytes and interleaving them
//     with the odd ones (both per 128-bit lane) leaves states 0-31 in one register and
//     32-63 in the other, in order, so two VPMOVMSKB give the 64-bit word;
//   - metrics: interleaving X and O gives each new state in order within 128-bit
//     lanes, with lanes crossed ([0-7 | 16-23], [8-15 | 24-31]); VPERM2I128 uncrosses
//     them.
//
// Every vitRenorm (8) steps state 0's metric is subtracted from all.
TEXT ·vitACSAVX2(SB), NOSPLIT, $0-64
	MOVQ    dec_base+0(FP), DI
	MOVQ    dec_len+8(FP), CX
	MOVQ    q_base+24(FP), SI
	MOVQ    m+48(FP), AX
	MOVQ    signs+56(FP), BX
	VMOVDQU (AX), Y0
	VMOVDQU 32(AX), Y1
	VMOVDQU 64(AX), Y2
	VMOVDQU 96(AX), Y3
	VMOVDQU (BX), Y4
	VMOVDQU 32(BX), Y5
	VMOVDQU 64(BX), Y6
	VMOVDQU 96(BX), Y7
	MOVQ    $8, R8
	TESTQ   CX, CX
	JZ      acsdone

acsloop:
	// Branch values.
	VPBROADCASTW (SI), Y8  // LA
	VPBROADCASTW 2(SI), Y9 // LB
	VPSIGNW      Y4, Y8, Y10
	VPSIGNW      Y6, Y9, Y11
	VPADDW       Y11, Y10, Y10 // M, butterflies 0-15
	VPSIGNW      Y5, Y8, Y11
	VPSIGNW      Y7, Y9, Y12
	VPADDW       Y12, Y11, Y11 // M, butterflies 16-31

	// Butterflies 0-15: A = Y0, B = Y2.
	VPADDSW  Y10, Y0, Y8  // A+M
	VPSUBSW  Y10, Y2, Y9  // B-M
	VPMAXSW  Y9, Y8, Y12  // X0: states 0, 2, .., 30
	VPCMPGTW Y8, Y9, Y8   // B-M > A+M
	VPSUBSW  Y10, Y0, Y9  // A-M
	VPADDSW  Y10, Y2, Y13 // B+M
	VPMAXSW  Y13, Y9, Y14 // O0: states 1, 3, .., 31
	VPCMPGTW Y9, Y13, Y9  // B+M > A-M

	// Butterflies 16-31: A = Y1, B = Y3.
	VPADDSW  Y11, Y1, Y0
	VPSUBSW  Y11, Y3, Y2
	VPMAXSW  Y2, Y0, Y10  // X1: states 32, .., 62
	VPCMPGTW Y0, Y2, Y0
	VPSUBSW  Y11, Y1, Y2
	VPADDSW  Y11, Y3, Y13
	VPMAXSW  Y13, Y2, Y15 // O1: states 33, .., 63
	VPCMPGTW Y2, Y13, Y2

	// Decisions, bit s for state s.
	VPACKSSWB  Y0, Y8, Y8 // even states: 0-14 32-46 | 16-30 48-62
	VPACKSSWB  Y2, Y9, Y9 // odd states, alike
	VPUNPCKLBW Y9, Y8, Y0 // states 0-15 | 16-31
	VPUNPCKHBW Y9, Y8, Y2 // states 32-47 | 48-63
	VPMOVMSKB  Y0, R9
	VPMOVMSKB  Y2, R10
	MOVL       R9, (DI)
	MOVL       R10, 4(DI)

	// New metrics in state order.
	VPUNPCKLWD Y14, Y12, Y1 // 0-7 | 16-23
	VPUNPCKHWD Y14, Y12, Y3 // 8-15 | 24-31
	VPERM2I128 $0x20, Y3, Y1, Y0
	VPERM2I128 $0x31, Y3, Y1, Y1
	VPUNPCKLWD Y15, Y10, Y11 // 32-39 | 48-55
	VPUNPCKHWD Y15, Y10, Y13 // 40-47 | 56-63
	VPERM2I128 $0x20, Y13, Y11, Y2
	VPERM2I128 $0x31, Y13, Y11, Y3

	ADDQ $4, SI
	ADDQ $8, DI
	DECQ R8
	JNZ  acsnext
	VPBROADCASTW X0, Y8 // state 0
	VPSUBW       Y8, Y0, Y0
	VPSUBW       Y8, Y1, Y1
	VPSUBW       Y8, Y2, Y2
	VPSUBW       Y8, Y3, Y3
	MOVQ         $8, R8

acsnext:
	DECQ CX
	JNZ  acsloop

acsdone:
	VMOVDQU Y0, (AX)
	VMOVDQU Y1, 32(AX)
	VMOVDQU Y2, 64(AX)
	VMOVDQU Y3, 96(AX)
	VZEROUPPER
	RET
