matrix = [[1, 2, 3], [4, 5, 6]]
transposed = [[row[i] for row in matrix] for i in range(3)]
print(transposed)
squares = {n: n * n for n in range(6) if n % 2 == 0}
print(squares)
print(sorted({len(w) for w in "a bb cc ddd".split()}))
pairs = [(i, c) for i, c in enumerate("abc", start=1)]
print(pairs, dict(zip("xyz", range(3))))
print(sorted(["banana", "Apple", "cherry"], key=str.lower), any(x > 5 for x in [1, 9]), all([]))
