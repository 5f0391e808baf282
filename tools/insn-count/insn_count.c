/*
 * fnp's QEMU TCG plugin: exact count of guest instructions executed between
 * two marker functions.
 *
 * Usage: -plugin libinsn_count.so,start=0xADDR,end=0xADDR -d plugin -D log
 * Every time execution reaches `end` after `start`, one line
 * "fnp-insns <count>" is written to QEMU's log. Counting is per executed
 * instruction (a callback on each), so a translation block left early still
 * counts exactly. Thumb addresses may be given with bit 0 set.
 *
 * Debian's QEMU supports plugins but ships no plugin header, so the few
 * declarations this plugin needs are spelled out below from the documented
 * plugin API (versions 2 to 4 share them).
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_info_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;

enum qemu_plugin_cb_flags {
    QEMU_PLUGIN_CB_NO_REGS,
    QEMU_PLUGIN_CB_R_REGS,
    QEMU_PLUGIN_CB_RW_REGS,
};

typedef void (*tb_trans_cb)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*vcpu_udata_cb)(unsigned int vcpu_index, void *userdata);

extern void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, tb_trans_cb cb);
extern size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
extern struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
extern uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
extern void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn, vcpu_udata_cb cb,
                                                   enum qemu_plugin_cb_flags flags, void *userdata);
extern void qemu_plugin_outs(const char *string);

__attribute__((visibility("default"))) int qemu_plugin_version = 2;

static uint64_t start_addr, end_addr;
static uint64_t count;
static int armed;

static void on_insn(unsigned int vcpu, void *udata) {
    (void)vcpu;
    (void)udata;
    count += (uint64_t)armed;
}

static void on_start(unsigned int vcpu, void *udata) {
    (void)vcpu;
    (void)udata;
    count = 0;
    armed = 1;
}

static void on_end(unsigned int vcpu, void *udata) {
    char line[64];
    (void)vcpu;
    (void)udata;
    if (!armed) {
        return;
    }
    armed = 0;
    snprintf(line, sizeof line, "fnp-insns %" PRIu64 "\n", count);
    qemu_plugin_outs(line);
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
    size_t n = qemu_plugin_tb_n_insns(tb);
    (void)id;
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint64_t at = qemu_plugin_insn_vaddr(insn);
        /* Callbacks run in registration order: `start`'s own first
         * instruction is counted, `end`'s is not. That constant overhead
         * cancels when an empty run's count is subtracted. */
        if (at == start_addr) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_start, QEMU_PLUGIN_CB_NO_REGS, NULL);
        } else if (at == end_addr) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_end, QEMU_PLUGIN_CB_NO_REGS, NULL);
        }
        qemu_plugin_register_vcpu_insn_exec_cb(insn, on_insn, QEMU_PLUGIN_CB_NO_REGS, NULL);
    }
}

static int parse_addr(const char *arg, const char *key, uint64_t *out) {
    size_t len = strlen(key);
    if (strncmp(arg, key, len) != 0 || arg[len] != '=') {
        return 0;
    }
    *out = strtoull(arg + len + 1, NULL, 0) & ~(uint64_t)1;
    return 1;
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id,
                                                               const struct qemu_info_t *info,
                                                               int argc, char **argv) {
    (void)info;
    for (int i = 0; i < argc; i++) {
        if (!parse_addr(argv[i], "start", &start_addr) && !parse_addr(argv[i], "end", &end_addr)) {
            fprintf(stderr, "insn_count: unknown argument %s (want start=ADDR,end=ADDR)\n", argv[i]);
            return -1;
        }
    }
    if (start_addr == 0 || end_addr == 0 || start_addr == end_addr) {
        fprintf(stderr, "insn_count: need distinct start=ADDR and end=ADDR\n");
        return -1;
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    return 0;
}
