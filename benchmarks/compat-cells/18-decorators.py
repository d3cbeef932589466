import functools

calls = []

def logged(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        calls.append(fn.__name__)
        return fn(*args, **kwargs)
    return wrapper

@logged
def add(a, b=1):
    """Adds."""
    return a + b

@functools.lru_cache(maxsize=None)
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)

print(add(2), add(2, b=5), add.__name__, add.__doc__, calls)
print(fib(80), fib.cache_info().hits)
