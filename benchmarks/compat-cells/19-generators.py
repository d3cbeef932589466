def chunks(seq, n):
    for i in range(0, len(seq), n):
        yield seq[i:i + n]

def flatten(nested):
    for x in nested:
        if isinstance(x, list):
            yield from flatten(x)
        else:
            yield x

def running_avg():
    total, count, avg = 0, 0, None
    while True:
        value = yield avg
        total += value
        count += 1
        avg = total / count

print(list(chunks(list(range(7)), 3)))
print(list(flatten([1, [2, [3, 4]], 5])))
g = running_avg()
next(g)
print([g.send(v) for v in [10, 20, 60]])
print(sum(x * x for x in range(10) if x % 2))
