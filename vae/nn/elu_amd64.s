#include "textflag.h"

// Constants of dmath.Exp32, broadcast from memory.
DATA eluc<>+0(SB)/4, $-87.0
DATA eluc<>+4(SB)/4, $1.442695
DATA eluc<>+8(SB)/4, $0.5
DATA eluc<>+12(SB)/4, $0.693359375
DATA eluc<>+16(SB)/4, $-2.12194440e-4
DATA eluc<>+20(SB)/4, $0.0013888889        // 1/720 as float32 (see eluPoly in elu_amd64.go)
DATA eluc<>+24(SB)/4, $0.008333334         // 1/120
DATA eluc<>+28(SB)/4, $0.041666668         // 1/24
DATA eluc<>+32(SB)/4, $0.16666667          // 1/6
DATA eluc<>+36(SB)/4, $1.0
DATA eluc<>+40(SB)/4, $127
GLOBL eluc<>(SB), RODATA|NOPTR, $44

// func eluAVX2(x, y *float32, n int)
// y[i] = x[i] > 0 ? x[i] : Exp32(x[i]) - 1, for n a multiple of 8, bit-identical to the Go
// code (every step a float32 operation in the same order; no FMA).
TEXT ·eluAVX2(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   done
	VBROADCASTSS eluc<>+0(SB), Y8   // -87
	VBROADCASTSS eluc<>+4(SB), Y9   // log2e
	VBROADCASTSS eluc<>+8(SB), Y10  // 0.5
	VBROADCASTSS eluc<>+12(SB), Y11 // C1
	VBROADCASTSS eluc<>+16(SB), Y12 // C2
	VBROADCASTSS eluc<>+36(SB), Y13 // 1
	VPBROADCASTD eluc<>+40(SB), Y14 // 127 (int)
	VXORPS Y15, Y15, Y15            // 0
loop:
	VMOVUPS (SI), Y0                // x
	VMINPS  Y15, Y0, Y1             // min(x, 0)
	VMAXPS  Y8, Y1, Y1              // e-input: max(min(x,0), -87)
	VMULPS  Y9, Y1, Y2              // t = x*log2e
	VADDPS  Y10, Y2, Y2             // t + 0.5
	VROUNDPS $9, Y2, Y2             // k = floor
	VMULPS  Y11, Y2, Y3             // k*C1
	VSUBPS  Y3, Y1, Y3              // x - k*C1
	VMULPS  Y12, Y2, Y4             // k*C2
	VSUBPS  Y4, Y3, Y3              // r
	VBROADCASTSS eluc<>+20(SB), Y4  // p = 1/720
	VMULPS  Y3, Y4, Y4
	VBROADCASTSS eluc<>+24(SB), Y5
	VADDPS  Y5, Y4, Y4
	VMULPS  Y3, Y4, Y4
	VBROADCASTSS eluc<>+28(SB), Y5
	VADDPS  Y5, Y4, Y4
	VMULPS  Y3, Y4, Y4
	VBROADCASTSS eluc<>+32(SB), Y5
	VADDPS  Y5, Y4, Y4
	VMULPS  Y3, Y4, Y4
	VADDPS  Y10, Y4, Y4             // + 0.5
	VMULPS  Y3, Y4, Y4
	VADDPS  Y13, Y4, Y4             // + 1
	VMULPS  Y3, Y4, Y4
	VADDPS  Y13, Y4, Y4             // + 1
	VCVTTPS2DQ Y2, Y5               // int32(k)
	VPADDD  Y14, Y5, Y5
	VPSLLD  $23, Y5, Y5             // 2**k
	VMULPS  Y5, Y4, Y4              // e**x
	VSUBPS  Y13, Y4, Y4             // e**x - 1
	VCMPPS  $0x0e, Y15, Y0, Y6      // x > 0 (GT_OS)
	VCMPPS  $0x03, Y0, Y0, Y7       // x is NaN (UNORD_Q)
	VORPS   Y7, Y6, Y6
	VBLENDVPS Y6, Y0, Y4, Y4        // x where x > 0 or NaN
	VMOVUPS Y4, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  loop
	VZEROUPPER
done:
	RET

// func eluBackAVX2(y, dy, dx *float32, n int)
// dx[i] += dy[i] * min(y[i]+1, 1), for n a multiple of 8: the ELU derivative from the forward
// output (y+1 = e**x for x <= 0, and y+1 > 1 for x > 0), without a data-dependent branch.
TEXT ·eluBackAVX2(SB), NOSPLIT, $0-32
	MOVQ y+0(FP), SI
	MOVQ dy+8(FP), BX
	MOVQ dx+16(FP), DI
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	JZ   bdone
	VBROADCASTSS eluc<>+36(SB), Y13 // 1
bloop:
	VMOVUPS (SI), Y0
	VADDPS  Y13, Y0, Y0
	VMINPS  Y13, Y0, Y0
	VMULPS  (BX), Y0, Y0
	VADDPS  (DI), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, BX
	ADDQ $32, DI
	DECQ CX
	JNZ  bloop
	VZEROUPPER
bdone:
	RET
