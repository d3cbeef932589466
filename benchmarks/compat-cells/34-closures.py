def make_counter(start=0):
    count = start
    def inc(step=1):
        nonlocal count
        count += step
        return count
    return inc

c = make_counter(10)
print(c(), c(5), c())
adders = [lambda x, n=n: x + n for n in range(3)]
print([f(10) for f in adders])
ops = {"double": lambda v: v * 2, "neg": lambda v: -v}
print({name: fn(21) for name, fn in ops.items()})
