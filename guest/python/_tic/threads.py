"""Threads for a guest that cannot start one.

WASI CPython has no threads: `Thread.start()` raises "can't start new thread", and so do
`ThreadPoolExecutor`, `asyncio.to_thread` and `loop.run_in_executor`. Cells reach for them
to fan tool calls out, so here they run, one at a time, on the only thread:

- concurrent.futures' ThreadPoolExecutor and ProcessPoolExecutor run each call when it is
  submitted; the future comes back done (result or exception), so `map`, `as_completed`,
  `wait` and `asyncio.to_thread` give what they would, in submission order.
- `Thread.start()` marks the thread started; it runs when it is joined, when the cell
  would otherwise wait for something only another thread could do (a `Condition.wait`
  without an answer yet: `Queue.get`, `Queue.join`, `Event.wait`, ...; the event loop
  with nothing else to do), or at the end of the cell, as Python joins non-daemon threads
  before it exits. A thread that would wait
  with no other thread left to run, and no timeout, gets a RuntimeError there (a thread's
  on stderr, as any thread's uncaught exception; the cell's as its error), not a cell that
  hangs until its time limit; a daemon thread just ends there (a worker on an empty queue
  would wait until Python exits).

Nothing runs in parallel: for tool calls at the same time, `asyncio.gather` over
`tools.aio` calls is the way (the prompt says so). `_thread.start_new_thread` still fails.
"""

import concurrent.futures as _futures
import threading
from concurrent.futures import _base

# The message tic_shim.c gives the TimeoutError of a cell past its time limit: that one
# ends the cell, it is not a call's result to keep in a future.
_INTERRUPTED = "the cell ran past its time limit and was interrupted"

# Threads started and not run yet, in the order they were started.
_pending: list = []
# Threads running now (one runs inside another's wait), innermost last.
_running: list = []


def _is_interrupt(exc: BaseException) -> bool:
    return not isinstance(exc, Exception) or (isinstance(exc, TimeoutError) and str(exc) == _INTERRUPTED)


class ThreadPoolExecutor(_base.Executor):
    """concurrent.futures.ThreadPoolExecutor that runs each call when submitted (see above)."""

    def __init__(self, max_workers=None, thread_name_prefix="", initializer=None, initargs=(), **_):
        if max_workers is not None and max_workers <= 0:
            raise ValueError("max_workers must be greater than 0")
        if initializer is not None and not callable(initializer):
            raise TypeError("initializer must be a callable")
        self._max_workers = max_workers
        self._initializer = initializer
        self._initargs = initargs
        self._broken = None
        self._shutdown = False

    def submit(self, fn, /, *args, **kwargs):
        if self._broken:
            raise _futures.BrokenExecutor(self._broken)
        if self._shutdown:
            raise RuntimeError("cannot schedule new futures after shutdown")
        if self._initializer is not None:
            initializer, self._initializer = self._initializer, None
            try:
                initializer(*self._initargs)
            except BaseException as exc:
                if _is_interrupt(exc):
                    raise
                self._broken = "A thread initializer failed, the thread pool is not usable anymore"
                raise _futures.BrokenExecutor(self._broken) from exc
        future = _base.Future()
        future.set_running_or_notify_cancel()
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            if _is_interrupt(exc):
                raise
            future.set_exception(exc)
        else:
            future.set_result(result)
        return future

    submit.__doc__ = _base.Executor.submit.__doc__

    def shutdown(self, wait=True, *, cancel_futures=False):
        self._shutdown = True


class ProcessPoolExecutor(ThreadPoolExecutor):
    """concurrent.futures.ProcessPoolExecutor that runs each call when submitted (see above)."""

    def __init__(self, max_workers=None, mp_context=None, initializer=None, initargs=(), **_):
        super().__init__(max_workers, "", initializer, initargs)


class _DaemonIdle(BaseException):
    """Ends a daemon thread that would wait forever (not an error: see _condition_wait)."""


def _run(thread) -> None:
    """Runs a started thread to its end, as its own thread would have (uncaught exceptions
    go to threading.excepthook), with current_thread() being it meanwhile."""
    _pending.remove(thread)
    ident = threading.get_ident()
    outer = threading._active.get(ident)
    threading._active[ident] = thread
    _running.append(thread)
    try:
        thread.run()
    except (SystemExit, _DaemonIdle):
        pass
    except BaseException as exc:
        if _is_interrupt(exc):
            raise
        thread._invoke_excepthook(thread)
    finally:
        _running.pop()
        if outer is not None:
            threading._active[ident] = outer
        thread._tic_done = True
        thread._is_stopped = True


def _start(self) -> None:
    if not self._initialized:
        raise RuntimeError("thread.__init__() not called")
    if self._started.is_set():
        raise RuntimeError("threads can only be started once")
    self._started.set()
    _pending.append(self)


def _join(self, timeout=None) -> None:
    if not self._initialized:
        raise RuntimeError("Thread.__init__() not called")
    if not self._started.is_set():
        raise RuntimeError("cannot join thread before it is started")
    if self is threading.current_thread() or self in _running:
        raise RuntimeError("cannot join current thread")
    if self in _pending:
        _run(self)


def _is_alive(self) -> bool:
    return self._started.is_set() and not getattr(self, "_tic_done", False)


_wait = threading.Condition.wait


def _condition_wait(self, timeout=None) -> bool:
    # Only another thread can notify this condition: run the next one that has not run yet,
    # then return as a wake-up would (callers wait in a loop and check again).
    if _pending:
        saved = self._release_save()
        try:
            run_next()
        finally:
            self._acquire_restore(saved)
        return True
    if timeout is None:
        # No thread is left that could answer. A daemon thread would wait until Python
        # exits (a worker on an empty queue): it ends here, quietly. Anything else would
        # wait forever (a deadlock in Python too): an error says so.
        if _running and _running[-1].daemon:
            raise _DaemonIdle
        who = f"thread {_running[-1].name!r}" if _running else "the cell"
        raise RuntimeError(f"{who} would wait forever: threads run one at a time here, and no other thread is left to run")
    return _wait(self, timeout)


def run_next() -> bool:
    """Runs the next started thread that has not run; False when there is none. (The
    event loop calls it before it would block: asyncio.run's end waits for a thread.)"""
    if not _pending:
        return False
    _run(_pending[0])
    return True


def run_pending() -> None:
    """At the end of a cell: the started threads that have not run (non-daemon ones, as
    Python joins those before it exits; daemon threads are dropped, as at exit)."""
    while _pending:
        thread = _pending[0]
        if thread.daemon:
            _pending.pop(0)
            continue
        _run(thread)


def forget_pending() -> None:
    """When a cell starts: threads a failed cell started and never ran are dropped (its
    error is what that cell reported; a later cell does not run them by surprise)."""
    _pending.clear()


def install() -> None:
    threading.Thread.start = _start
    threading.Thread.join = _join
    threading.Thread.is_alive = _is_alive
    threading.Condition.wait = _condition_wait
    # concurrent.futures imports its pools lazily (its module __getattr__); these come first.
    _futures.ThreadPoolExecutor = ThreadPoolExecutor
    _futures.ProcessPoolExecutor = ProcessPoolExecutor
    import concurrent.futures.thread as _thread_module

    _thread_module.ThreadPoolExecutor = ThreadPoolExecutor
