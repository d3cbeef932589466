/*
 * tooliscode guest shim: the only C of the guest besides CPython itself.
 *
 * Exports (all the host ever calls):
 *   tic_init         run the C constructors, boot the interpreter and pre-import the
 *                    stdlib (0 = ok); the guest without a snapshot starts with this
 *   tic_snapshot_init  the same for Wizer, which runs it at build time, snapshots the
 *                    result and drops the export
 *   tic_alloc/free   guest memory for the host to write a cell's source into
 *   tic_run          run one cell; returns a pointer to its JSON result, whose length
 *                    tic_result_len() gives (valid until the next tic_run)
 *   tic_set_memory_limit / tic_set_output_limit   the session's caps (see below)
 *
 * Imports (module "tic"):
 *   call(req, len) -> n   hand a request to the host; n >= 0 is the reply's length,
 *                         negative is a host failure
 *   reply(dst)            copy the pending reply (n bytes) to dst
 *   poll() -> i32         1 when the host wants the running cell interrupted (timeout),
 *                         2 when the user cancelled it (KeyboardInterrupt);
 *                         CPython's eval loop calls it every so often (see
 *                         guest/patches/cpython-3.11-interrupt.patch)
 * Two calls instead of one so the guest allocates the reply itself and the host never
 * re-enters the guest from inside an import.
 */
#include <Python.h>
#include <errno.h>
#include <stdint.h>
#include <wasi/api.h>
#include <stdlib.h>
#include <string.h>

#define TIC_EXPORT(name) __attribute__((export_name(name)))
#define TIC_IMPORT(name) __attribute__((import_module("tic"), import_name(name)))

TIC_IMPORT("call") int32_t tic_host_call(const char *req, uint32_t len);
TIC_IMPORT("reply") void tic_host_reply(char *dst);
TIC_IMPORT("poll") int32_t tic_host_poll(void);

extern void __wasm_call_ctors(void);

/* ---- randomness and time: deterministic while snapshotting, real otherwise ----
 * Everything random in CPython (hash secret, `random`'s seed) comes through wasi-libc's
 * __wasi_random_get, which link.sh wraps. While Wizer snapshots, a fixed stream makes
 * the snapshot byte-identical from build to build; each session re-seeds `random` from
 * the real source when it starts (see _tic). The str hash secret stays the build's. */
extern uint16_t __real___wasi_random_get(uint8_t *buf, size_t len);
static int snapshotting = 0;
static uint64_t snapshot_rng = 0x746f6f6c6973636fULL;

uint16_t __wrap___wasi_random_get(uint8_t *buf, size_t len) {
    if (!snapshotting) return __real___wasi_random_get(buf, len);
    for (size_t i = 0; i < len; i++) {
        /* splitmix64: not for secrets, only for a reproducible build */
        uint64_t z = (snapshot_rng += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        buf[i] = (uint8_t)(z ^ (z >> 31));
    }
    return 0;
}

static int ctors_done = 0;

/* The clock, likewise: imports record times (logging's start time, for one), and a
 * snapshot must not depend on when it was built. Fixed and advancing 1 us per read. */
extern uint16_t __real___wasi_clock_time_get(uint32_t id, uint64_t precision, uint64_t *out);
static uint64_t snapshot_clock_ns = 0;

uint16_t __wrap___wasi_clock_time_get(uint32_t id, uint64_t precision, uint64_t *out) {
    if (!snapshotting) return __real___wasi_clock_time_get(id, precision, out);
    snapshot_clock_ns += 1000;
    *out = snapshot_clock_ns;
    return 0;
}

/* File metadata, likewise: the stat results Python keeps while importing carry the
 * staging folder's device and inode numbers and its change time, which differ from build
 * to build (utimes can set mtime and atime, never ctime). While snapshotting they are
 * blanked: device and inode 0, both other times equal to the mtime. */
extern uint16_t __real___wasi_fd_filestat_get(__wasi_fd_t fd, __wasi_filestat_t *out);
extern uint16_t __real___wasi_path_filestat_get(__wasi_fd_t fd, __wasi_lookupflags_t flags, const char *path, __wasi_filestat_t *out);

static void stable_filestat(__wasi_filestat_t *st) {
    st->dev = 0;
    st->ino = 0;
    st->atim = st->mtim;
    st->ctim = st->mtim;
}

uint16_t __wrap___wasi_fd_filestat_get(__wasi_fd_t fd, __wasi_filestat_t *out) {
    uint16_t err = __real___wasi_fd_filestat_get(fd, out);
    if (snapshotting && err == 0) stable_filestat(out);
    return err;
}

uint16_t __wrap___wasi_path_filestat_get(__wasi_fd_t fd, __wasi_lookupflags_t flags, const char *path, __wasi_filestat_t *out) {
    uint16_t err = __real___wasi_path_filestat_get(fd, flags, path, out);
    if (snapshotting && err == 0) stable_filestat(out);
    return err;
}

/* C constructors (wasi-libc's preopen table among them) run inside tic_init, never from
 * an `_initialize` export: Wizer would call that before the init function, outside the
 * deterministic clock and randomness above. */
static void tic_initialize_ctors(void) {
    if (!ctors_done) {
        ctors_done = 1;
        __wasm_call_ctors();
    }
}

/* ---- interrupts: how a timeout reaches a cell that never calls the host ----
 * The patched eval loop counts down on every backward jump and call and, at zero, calls
 * _Py_tic_poll; so does PyErr_CheckSignals (time.sleep, long C loops that check for
 * signals). One import call per few thousand bytecodes costs next to nothing. The host
 * answers 1 once per interrupt; the exception is raised from a pending call, which the
 * eval loop runs at its next check, at a point where raising is safe. */
#define TIC_POLL_INTERVAL 4096
int _Py_tic_poll_countdown = TIC_POLL_INTERVAL;

/* Set by _tic around the cell's own code: an interrupt that lands while the runtime
 * itself runs (formatting the last error, say) is dropped, never raised there. */
static int in_cell = 0;

/* What the host's poll answered: 1 a timeout (TimeoutError), 2 a cancel by the user
 * (KeyboardInterrupt: the cell stops, the session and its globals stay). */
static int raise_interrupt(void *arg) {
    if (!in_cell) return 0;
    if ((intptr_t)arg == 2) PyErr_SetString(PyExc_KeyboardInterrupt, "the cell was cancelled");
    else PyErr_SetString(PyExc_TimeoutError, "the cell ran past its time limit and was interrupted");
    return -1;
}

void _Py_tic_poll(void) {
    _Py_tic_poll_countdown = TIC_POLL_INTERVAL;
    if (snapshotting || !Py_IsInitialized()) return;
    int32_t kind = tic_host_poll();
    if (kind) Py_AddPendingCall(raise_interrupt, (void *)(intptr_t)kind);
}

/* ---- memory: a cap on the linear memory, enforced where malloc asks for more ----
 * wasi-libc's dlmalloc grows the heap through sbrk (link.sh wraps it). Refusing the
 * growth makes malloc return NULL, which CPython turns into MemoryError, instead of
 * the memory growing until the host runs out. */
extern void *__real_sbrk(intptr_t increment);
static uint64_t memory_limit = 0;

void *__wrap_sbrk(intptr_t increment) {
    if (memory_limit && increment > 0 &&
        (uint64_t)__builtin_wasm_memory_size(0) * 65536u + (uint64_t)increment > memory_limit) {
        errno = ENOMEM;
        return (void *)-1;
    }
    return __real_sbrk(increment);
}

/* ---- while snapshotting, freed memory is zeroed ----
 * The writer leaves all-zero pages out of the image. Memory freed during the init (the
 * .pyc bytes read while importing, compiler scratch) would otherwise stay there as
 * garbage that every session carries; zeroed, a page holding only free chunks (dlmalloc's
 * few header words aside) costs nothing. Measured: 45 pages (180 kB) fewer. Reallocs
 * that move free inside dlmalloc, unzeroed; wrapping realloc too saved nothing more. */
extern void __real_free(void *ptr);
extern size_t malloc_usable_size(void *ptr);

void __wrap_free(void *ptr) {
    if (snapshotting && ptr) memset(ptr, 0, malloc_usable_size(ptr));
    __real_free(ptr);
}

TIC_EXPORT("tic_set_memory_limit") void tic_set_memory_limit(uint32_t bytes) { memory_limit = bytes; }

/* ---- the cap on a cell's value and error text, in UTF-8 bytes per part ----
 * _tic cuts the value's repr, the error message and the traceback to it before they are
 * ever built in full, so a huge value never reaches the host (nor fails the session).
 * UINT32_MAX (the default) means no cap. */
static uint32_t output_limit = UINT32_MAX;

TIC_EXPORT("tic_set_output_limit") void tic_set_output_limit(uint32_t bytes) { output_limit = bytes; }

/* ---- _tic_host: the builtin module the Python side (_tic) calls ---- */

static PyObject *host_call(PyObject *self, PyObject *arg) {
    (void)self;
    if (!PyBytes_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "_tic_host.call expects bytes");
        return NULL;
    }
    int32_t n = tic_host_call(PyBytes_AS_STRING(arg), (uint32_t)PyBytes_GET_SIZE(arg));
    if (n < 0) {
        PyErr_Format(PyExc_RuntimeError, "host call failed (status %d)", (int)n);
        return NULL;
    }
    PyObject *out = PyBytes_FromStringAndSize(NULL, n);
    if (out == NULL) return NULL;
    if (n > 0) tic_host_reply(PyBytes_AS_STRING(out));
    return out;
}

static PyObject *host_in_cell(PyObject *self, PyObject *arg) {
    (void)self;
    in_cell = PyObject_IsTrue(arg) == 1;
    Py_RETURN_NONE;
}

/* After a sleep: the deadline or a cancel may have cut it short, and the cell must not go
 * on as if it had slept. Takes the host's interrupt, if any, and raises it right here. */
static PyObject *host_check_interrupt(PyObject *self, PyObject *unused) {
    (void)self;
    (void)unused;
    if (!in_cell) Py_RETURN_NONE;
    int32_t kind = tic_host_poll();
    if (kind) return raise_interrupt((void *)(intptr_t)kind), NULL;
    Py_RETURN_NONE;
}

static PyObject *host_output_limit(PyObject *self, PyObject *unused) {
    (void)self;
    (void)unused;
    if (output_limit == UINT32_MAX) Py_RETURN_NONE;
    return PyLong_FromUnsignedLong(output_limit);
}

static PyMethodDef host_methods[] = {
    {"call", host_call, METH_O, "Send a request (bytes) to the host, return its reply (bytes)."},
    {"check_interrupt", host_check_interrupt, METH_NOARGS, "Raise TimeoutError or KeyboardInterrupt if the host asked to interrupt the cell."},
    {"in_cell", host_in_cell, METH_O, "Whether the cell's own code runs now (interrupts are raised only then)."},
    {"output_limit", host_output_limit, METH_NOARGS, "The cap in bytes on a cell's value and error text (None: no cap)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef host_module = {
    PyModuleDef_HEAD_INIT, "_tic_host", "Host calls of the tooliscode guest.", -1, host_methods,
};

static PyObject *PyInit__tic_host(void) { return PyModule_Create(&host_module); }

/* ---- interpreter lifecycle ---- */

static PyObject *tic_module = NULL;  /* _tic, imported once by tic_init */
static PyObject *last_result = NULL; /* keeps the UTF-8 of the last result alive */
static Py_ssize_t last_result_len = 0;

static int fail_status(PyStatus status) {
    if (PyStatus_Exception(status)) {
        fprintf(stderr, "tooliscode guest: %s: %s\n",
                status.func ? status.func : "init", status.err_msg ? status.err_msg : "failed");
        return 1;
    }
    return 0;
}

TIC_EXPORT("tic_init") int tic_init(void) {
    tic_initialize_ctors();
    if (Py_IsInitialized()) return 0;
    if (PyImport_AppendInittab("_tic_host", PyInit__tic_host) < 0) return 1;

    /* UTF-8 mode: the guest has no locale, and cells, files and output are UTF-8. */
    PyPreConfig preconfig;
    PyPreConfig_InitIsolatedConfig(&preconfig);
    preconfig.utf8_mode = 1;
    if (fail_status(Py_PreInitialize(&preconfig))) return 1;

    PyConfig config;
    /* Isolated: no environment variables, no user site, no cwd on sys.path. */
    PyConfig_InitIsolatedConfig(&config);
    config.install_signal_handlers = 0;
    config.write_bytecode = 0;
    config.pathconfig_warnings = 0;
    config.user_site_directory = 0;
    config.module_search_paths_set = 1;
    PyStatus status = PyConfig_SetString(&config, &config.program_name, L"python");
    if (!PyStatus_Exception(status)) status = PyConfig_SetString(&config, &config.home, L"/");
    /* The whole stdlib is one read-only zip: the standard CPython layout for it. */
    if (!PyStatus_Exception(status))
        status = PyWideStringList_Append(&config.module_search_paths, L"/lib/python311.zip");
    if (!PyStatus_Exception(status)) status = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (fail_status(status)) return 1;

    tic_module = PyImport_ImportModule("_tic");
    if (tic_module == NULL) {
        PyErr_Print();
        return 1;
    }
    PyObject *r = PyObject_CallMethod(tic_module, "_init", NULL);
    if (r == NULL) {
        PyErr_Print();
        return 1;
    }
    Py_DECREF(r);
    return 0;
}

/* Wizer's init export must be [] -> []; a trap makes the snapshot build fail loudly. */
TIC_EXPORT("tic_snapshot_init") void tic_snapshot_init(void) {
    snapshotting = 1;
    int failed = tic_init();
    snapshotting = 0;
    if (failed) __builtin_trap();
}

TIC_EXPORT("tic_alloc") void *tic_alloc(uint32_t size) { return malloc(size ? size : 1); }

TIC_EXPORT("tic_free") void tic_free(void *ptr) { free(ptr); }

TIC_EXPORT("tic_result_len") uint32_t tic_result_len(void) { return (uint32_t)last_result_len; }

/* What tic_run returns when run_cell itself failed (a cell that broke _tic, or memory so
 * short that even the source could not be decoded): an error result, not a dead session. */
static const char runtime_failed[] =
    "{\"ok\": false, \"error\": {\"type\": \"RuntimeError\", \"message\": "
    "\"the guest runtime could not run the cell (see stderr); the session goes on\", \"traceback\": \"\"}}";

static const char *failed_result(void) {
    PyErr_Print();
    Py_CLEAR(last_result);
    last_result_len = (Py_ssize_t)(sizeof runtime_failed - 1);
    return runtime_failed;
}

TIC_EXPORT("tic_run") const char *tic_run(const char *src, uint32_t len) {
    Py_CLEAR(last_result);
    last_result_len = 0;
    if (tic_module == NULL) return NULL;
    PyObject *code = PyUnicode_DecodeUTF8(src, (Py_ssize_t)len, "replace");
    if (code == NULL) return failed_result();
    last_result = PyObject_CallMethod(tic_module, "run_cell", "O", code);
    Py_DECREF(code);
    /* run_cell never raises and returns a str; anything else is a cell that replaced it. */
    if (last_result == NULL) return failed_result();
    if (!PyUnicode_Check(last_result)) {
        PyErr_SetString(PyExc_TypeError, "_tic.run_cell did not return a str");
        return failed_result();
    }
    const char *utf8 = PyUnicode_AsUTF8AndSize(last_result, &last_result_len);
    if (utf8 == NULL) return failed_result();
    return utf8;
}
