/*
 * The entry points of the dlsym and dlvsym hooks (x86-64).
 *
 * glibc resolves dlsym(RTLD_NEXT) and dlsym(RTLD_DEFAULT) relative to
 * the object that called it, found from its return address.  A lookup
 * the shim passes on must therefore reach libc by a jump that leaves the
 * program's return address in place: C cannot promise that, so these
 * few instructions do.  dlsym_route (hook-dlsym.c) decides: it returns
 * NULL with the answer in *answer, or the real function to jump to with
 * the arguments as they came.
 *
 *	void *dlsym_route(void *handle, const char *name,
 *	    const char *version, uintptr_t caller, void **answer,
 *	    int versioned);
 */
	.text

	.globl	dlsym
	.type	dlsym, @function
dlsym:
	.cfi_startproc
	xorl	%r9d, %r9d		/* not versioned */
	jmp	route
	.cfi_endproc
	.size	dlsym, .-dlsym

	.globl	dlvsym
	.type	dlvsym, @function
dlvsym:
	.cfi_startproc
	movl	$1, %r9d		/* versioned: the version in %rdx */
	jmp	route
	.cfi_endproc
	.size	dlvsym, .-dlvsym

	.type	route, @function
route:
	.cfi_startproc
	subq	$40, %rsp		/* the answer, the three arguments */
	.cfi_adjust_cfa_offset 40
	movq	%rdi, 8(%rsp)
	movq	%rsi, 16(%rsp)
	movq	%rdx, 24(%rsp)
	movq	40(%rsp), %rcx		/* the caller: our return address */
	movq	%rsp, %r8
	call	dlsym_route
	testq	%rax, %rax
	jz	1f
	movq	8(%rsp), %rdi
	movq	16(%rsp), %rsi
	movq	24(%rsp), %rdx
	addq	$40, %rsp
	.cfi_adjust_cfa_offset -40
	jmp	*%rax			/* the caller's return address on top */
1:
	.cfi_adjust_cfa_offset 40
	movq	(%rsp), %rax
	addq	$40, %rsp
	.cfi_adjust_cfa_offset -40
	ret
	.cfi_endproc
	.size	route, .-route

	.section .note.GNU-stack, "", @progbits
