# The code the agent injects into a process to skew its clocks (x86-64,
# System V ABI, position independent). gen_hook.sh assembles it into
# hook_amd64.go; the agent never needs an assembler.
#
# The blob starts with the parameters, which the agent rewrites while the
# process runs, then two functions that replace the vDSO's: each reads
# the kernel's clock with the raw syscall, then maps it
#   t' = base + (t - base) * rate / 2^32 + offset
# per family: realtime (REALTIME, REALTIME_COARSE) and monotonic
# (MONOTONIC, MONOTONIC_RAW, MONOTONIC_COARSE, BOOTTIME). Other clocks
# (CPU time, TAI) pass through.
    .intel_syntax noprefix
    .text
params:
rt_base:     .quad 0
rt_offset:   .quad 0
rt_rate:     .quad 0x100000000
mono_base:   .quad 0
mono_offset: .quad 0
mono_rate:   .quad 0x100000000
    .quad 0, 0

# int clock_gettime(clockid_t clk, struct timespec *ts)
clock_gettime_hook:
    mov eax, 228                # SYS_clock_gettime; keeps rdi, rsi
    syscall
    test rax, rax
    jnz 9f                      # an error: return it as the vDSO would
    test rsi, rsi
    jz 9f
    lea r9, [rip + rt_base]
    cmp edi, 0                  # CLOCK_REALTIME
    je 2f
    cmp edi, 5                  # CLOCK_REALTIME_COARSE
    je 2f
    lea r9, [rip + mono_base]
    cmp edi, 1                  # CLOCK_MONOTONIC
    je 2f
    cmp edi, 4                  # CLOCK_MONOTONIC_RAW
    je 2f
    cmp edi, 6                  # CLOCK_MONOTONIC_COARSE
    je 2f
    cmp edi, 7                  # CLOCK_BOOTTIME
    je 2f
    jmp 8f
2:
    mov rax, [rsi]              # t = sec*1e9 + nsec
    imul rax, rax, 1000000000
    add rax, [rsi+8]
    sub rax, [r9]               # t - base
    imul qword ptr [r9+16]      # rdx:rax = (t - base) * rate
    shrd rax, rdx, 32           # / 2^32
    add rax, [r9]               # + base
    add rax, [r9+8]             # + offset
    mov rcx, 1000000000
    cqo
    idiv rcx                    # rax = sec, rdx = nsec
    test rdx, rdx
    jns 3f
    add rdx, rcx
    dec rax
3:
    mov [rsi], rax
    mov [rsi+8], rdx
8:
    xor eax, eax
9:
    ret

# int gettimeofday(struct timeval *tv, struct timezone *tz)
gettimeofday_hook:
    push rdi
    push rsi
    sub rsp, 24
    xor edi, edi                # CLOCK_REALTIME into a timespec on the stack
    mov rsi, rsp
    call clock_gettime_hook
    test rax, rax
    jnz 7f
    mov rdi, [rsp+32]           # tv
    test rdi, rdi
    jz 5f
    mov rax, [rsp]
    mov [rdi], rax
    mov rax, [rsp+8]
    xor edx, edx
    mov rcx, 1000
    div rcx
    mov [rdi+8], rax
5:
    mov rsi, [rsp+24]           # tz: no time zone
    test rsi, rsi
    jz 6f
    mov qword ptr [rsi], 0
6:
    xor eax, eax
7:
    add rsp, 24
    pop rsi
    pop rdi
    ret
