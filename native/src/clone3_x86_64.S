/*
 * long fl_clone3(struct clone_args *args, size_t size, int (*fn)(void *), void *arg)
 *
 * clone3 with a caller-supplied stack cannot be called through a C wrapper: the child starts on
 * the new, empty stack and would "return" from syscall() into a frame that is not there. This
 * entry calls fn(arg) on the new stack in the child and passes its result to SYS_exit (the child
 * task only, never exit_group); the parent gets the PID or -errno back.
 *
 * The SYSCALL instruction clobbers only rcx and r11, so fn (rdx) survives; arg moves from rcx to r8.
 */
    .text
    .globl fl_clone3
    .hidden fl_clone3
    .type fl_clone3, @function
fl_clone3:
    .cfi_startproc
    mov     %rcx, %r8
    mov     $435, %eax          /* SYS_clone3 */
    syscall
    test    %rax, %rax
    jz      1f
    ret                         /* parent: PID or -errno */
1:
    .cfi_undefined rip          /* child: nothing to unwind into */
    xor     %ebp, %ebp
    mov     %r8, %rdi
    call    *%rdx               /* the kernel left rsp 16-byte aligned at the stack's top */
    mov     %eax, %edi
    mov     $60, %eax           /* SYS_exit */
    syscall
    hlt
    .cfi_endproc
    .size fl_clone3, .-fl_clone3

    .section .note.GNU-stack,"",@progbits
