from contextlib import contextmanager, suppress

events = []

@contextmanager
def step(name):
    events.append(f"enter {name}")
    try:
        yield name.upper()
    finally:
        events.append(f"exit {name}")

with step("load") as s1, step("parse") as s2:
    events.append(f"inside {s1}/{s2}")
with suppress(KeyError):
    {}["missing"]
    events.append("not reached")

class Timer:
    def __enter__(self):
        events.append("start")
        return self
    def __exit__(self, *exc):
        events.append(f"stop {exc[0].__name__ if exc[0] else None}")
        return True

with Timer():
    raise RuntimeError("swallowed")
print(events)
