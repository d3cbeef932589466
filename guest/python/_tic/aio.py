"""asyncio for the guest.

WASI has no socketpair, so the default loop cannot make its self-pipe; nothing here runs
on another thread, so the loop needs none. And the loop's selector is where the guest
waits for the host: an `aio` SDK call starts the tool on the host and returns at once,
and when the loop has nothing else to run it asks the host for the calls that finished
(blocking until one does or the next timer is due). So `asyncio.gather` over N calls
runs them at the same time on the host."""

import asyncio
import selectors

import _tic
import _tic_host
from _tic import threads

_pending: dict = {}  # call id -> future of its decoded reply
_starting: list = []  # JSON of the calls not yet sent to the host
_next_id = 0


class HostSelector(selectors.SelectSelector):
    def select(self, timeout=None):
        if not _pending:
            # A thread the cell started may be what the loop waits for (threads.py): run it
            # rather than block (asyncio.run's end waits for one that shuts the executor down).
            if threads.run_next():
                timeout = 0
            events = super().select(timeout)
            _tic_host.check_interrupt()  # a timeout may have cut the wait short
            return events
        # The calls started since the last wait travel with it: one host round trip starts
        # all the calls of a gather and waits for the first to finish.
        # The requests are JSON already (serialized once, at the call): spliced in as text.
        wait = '{"op": "wait", "timeout": %s, "start": [%s]}' % (
            "null" if timeout is None else repr(max(0.0, float(timeout))),
            ", ".join(_starting),
        )
        _starting.clear()
        reply = _tic._decode(_tic_host.call(wait.encode()))
        if reply.get("timeout"):
            raise TimeoutError(reply.get("message", "the cell ran past its time limit"))
        if reply.get("cancelled"):
            raise KeyboardInterrupt(reply.get("message", "the cell was cancelled"))
        for done in reply.get("done", ()):
            future = _pending.pop(done.get("id"), None)
            if future is not None and not future.done():
                future.set_result(done)
        return []


class WasiEventLoop(asyncio.SelectorEventLoop):
    def __init__(self):
        super().__init__(HostSelector())

    def _make_self_pipe(self):
        pass

    def _close_self_pipe(self):
        pass

    def _write_to_self(self):
        pass


class WasiEventLoopPolicy(asyncio.DefaultEventLoopPolicy):
    _loop_factory = WasiEventLoop

    def get_event_loop(self):
        """The current loop, else the session's one loop: a task a cell creates without
        awaiting (`asyncio.ensure_future`) lands on the loop that later cells' top-level
        awaits run, even after an `asyncio.run` has come and gone."""
        loop = self._local._loop
        if loop is None or loop.is_closed():
            loop = session_loop()
            self.set_event_loop(loop)
        return loop


def install() -> None:
    asyncio.set_event_loop_policy(WasiEventLoopPolicy())


def forget_pending() -> None:
    """A new cell: calls a failed cell left running are no longer awaited."""
    for future in _pending.values():
        if not future.done():
            future.cancel()
    _pending.clear()
    _starting.clear()


async def host_call(request: str):
    """Starts a host call (`request`: its JSON object; sent with the loop's next wait) and
    awaits its decoded reply."""
    global _next_id
    loop = asyncio.get_running_loop()
    if not isinstance(loop, WasiEventLoop):
        raise RuntimeError("tools.aio calls need the guest's event loop (asyncio.run or a top-level await)")
    _next_id += 1
    call_id = _next_id
    _starting.append('{"id": %d, %s' % (call_id, request[1:]))
    future = loop.create_future()
    _pending[call_id] = future
    try:
        return await future
    finally:
        _pending.pop(call_id, None)


_loop = None


def session_loop():
    """The session's event loop, made on first use (and again if a cell closed it)."""
    global _loop
    if _loop is None or _loop.is_closed():
        _loop = asyncio.new_event_loop()
    return _loop


def run(awaitable):
    """Runs a cell's top-level awaits on the current loop, by default the session's one
    loop: tasks outlive the cell, and a later cell can await them."""
    return asyncio.get_event_loop_policy().get_event_loop().run_until_complete(awaitable)
