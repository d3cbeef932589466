from functools import reduce, partial, cmp_to_key
import operator

print(reduce(operator.mul, range(1, 8)), reduce(lambda a, b: a + b, ["x", "y", "z"], ""))
pow2 = partial(pow, 2)
print([pow2(n) for n in range(5)])

def compare(a, b):
    return (len(a) - len(b)) or ((a > b) - (a < b))

print(sorted(["ccc", "a", "bb", "aa"], key=cmp_to_key(compare)))
print(sorted([("b", 2), ("a", 2), ("c", 1)], key=operator.itemgetter(1, 0)))
