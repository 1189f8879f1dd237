/*
 * long fl_clone3(struct clone_args *args, size_t size, int (*fn)(void *), void *arg)
 *
 * See clone3_x86_64.S for why this is assembly. SVC preserves every register but x0, so fn (x2)
 * and arg (x3) are still there in the child, which runs on the new stack.
 */
    .text
    .globl fl_clone3
    .hidden fl_clone3
    .type fl_clone3, %function
fl_clone3:
    .cfi_startproc
    mov     x8, #435            /* SYS_clone3 */
    svc     #0
    cbz     x0, 1f
    ret                         /* parent: PID or -errno */
1:
    .cfi_undefined x30
    mov     x29, #0
    mov     x30, #0
    mov     x0, x3
    blr     x2
    mov     x8, #93             /* SYS_exit */
    svc     #0
    brk     #0
    .cfi_endproc
    .size fl_clone3, .-fl_clone3

    .section .note.GNU-stack,"",%progbits
