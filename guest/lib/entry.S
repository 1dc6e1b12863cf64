/* Entry, interrupt stubs and the ring-3 round trip of the test-guest runtime.
 * Every vCPU enters at _start with RDI = vCPU index, RSI = zero page, RDX = vCPU count and the same
 * RSP (0x8ff0) on all of them, so nothing may be pushed before switching to this vCPU's stack. */

#include "rt.h"

/* The note that tells the VMM this is a Capsule test guest (see docs/test-guests.md). */
	.section .note.capsule, "a"
	.balign 4
	.long 8			/* n_namesz, including the NUL */
	.long 4			/* n_descsz */
	.long 1			/* n_type */
	.asciz "Capsule"
	.balign 4
	.long 1			/* desc: contract version 1 */

	.section .text.entry, "ax"
	.code64
	.globl _start
_start:
	mov	%rsp, %rcx	/* the entry RSP and RFLAGS, for the entry-state guest */
	cmp	$RT_MAX_CPUS, %rdi
	jae	9f
	mov	%rdi, %rax
	inc	%rax
	shl	$RT_KSTACK_SHIFT, %rax
	lea	rt_kstacks(%rax), %rsp
	pushfq			/* only the arithmetic flags have changed since entry */
	pop	%r8
	xor	%ebp, %ebp
	call	rt_main		/* (cpu, zero page, ncpus, entry RSP, RFLAGS); never returns */
9:	cli			/* a vCPU beyond RT_MAX_CPUS has no stack: park it */
	hlt
	jmp	9b

	.text
/* Exception stubs: push a dummy error code where the CPU pushes none, then the vector. */
.macro isr_noerr vec
	.balign 16
	push	$0
	push	$\vec
	jmp	isr_common
.endm
.macro isr_err vec
	.balign 16
	push	$\vec
	jmp	isr_common
.endm

	.balign 16
	.globl rt_isr_stubs
rt_isr_stubs:
	isr_noerr 0
	isr_noerr 1
	isr_noerr 2
	isr_noerr 3
	isr_noerr 4
	isr_noerr 5
	isr_noerr 6
	isr_noerr 7
	isr_err 8
	isr_noerr 9
	isr_err 10
	isr_err 11
	isr_err 12
	isr_err 13
	isr_err 14
	isr_noerr 15
	isr_noerr 16
	isr_err 17
	isr_noerr 18
	isr_noerr 19
	isr_noerr 20
	isr_err 21
	isr_noerr 22
	isr_noerr 23
	isr_noerr 24
	isr_noerr 25
	isr_noerr 26
	isr_noerr 27
	isr_noerr 28
	isr_err 29
	isr_err 30
	isr_noerr 31

/* Stack now: vector, error, RIP, CS, RFLAGS, RSP, SS. A #UD from ring 3 at rt_user_exit is the end
 * of a user call (see below); anything else is printed by rt_exception, which ends the VM. */
isr_common:
	cmpq	$6, (%rsp)
	jne	1f
	cmpq	$rt_user_exit, 16(%rsp)
	jne	1f
	testb	$3, 24(%rsp)
	jnz	rt_user_return
1:	mov	%rsp, %rdi
	and	$-16, %rsp
	call	rt_exception
2:	cli
	hlt
	jmp	2b

/* long rt_user_enter(fn, arg, &tss.rsp0, user stack top)
 * Saves the callee-saved registers, makes the resulting (16-byte aligned) RSP this vCPU's RSP0 and
 * irets to ring 3. Coming back is the catch: on this KVM `int $0x80` from ring 3 raises #UD and
 * `syscall` reaches LSTAR still at CPL 3, while exceptions are delivered properly. So the user side
 * ends with ud2 at rt_user_exit; its #UD lands at RSP0, right below the saved registers, and
 * rt_user_return drops the frame and unwinds. */
	.globl rt_user_enter
rt_user_enter:
	push	%rbp
	push	%rbx
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	push	$0		/* pad: 7 pushes after the call leave RSP 16-byte aligned */
	mov	%rsp, (%rdx)
	push	$RT_USER_DS	/* SS */
	push	%rcx		/* RSP */
	push	$0x2		/* RFLAGS: IF=0, IOPL=0 */
	push	$RT_USER_CS	/* CS */
	push	$rt_user_trampoline
	iretq

rt_user_trampoline:		/* ring 3: rax = fn(arg), then trap back */
	mov	%rdi, %rax
	mov	%rsi, %rdi
	call	*%rax
	.globl rt_user_exit
rt_user_exit:
	ud2

rt_user_return:			/* ring 0 on RSP0; rax holds the result */
	add	$64, %rsp	/* vector, error, the CPU's 5-word frame, the pad */
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbx
	pop	%rbp
	ret

	.section .note.GNU-stack, "", @progbits
