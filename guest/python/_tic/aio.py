"""asyncio for the guest: WASI has no socketpair, so the default loop cannot make its
self-pipe. Nothing here runs on another thread, so the loop needs none."""

import asyncio


class WasiEventLoop(asyncio.SelectorEventLoop):
    def _make_self_pipe(self):
        pass

    def _close_self_pipe(self):
        pass

    def _write_to_self(self):
        pass


class WasiEventLoopPolicy(asyncio.DefaultEventLoopPolicy):
    _loop_factory = WasiEventLoop


def install() -> None:
    asyncio.set_event_loop_policy(WasiEventLoopPolicy())


_loop = None


def run(awaitable):
    """Runs a cell's top-level awaits on the session's one loop (tasks outlive the cell)."""
    global _loop
    if _loop is None or _loop.is_closed():
        _loop = asyncio.new_event_loop()
        asyncio.set_event_loop(_loop)
    return _loop.run_until_complete(awaitable)
