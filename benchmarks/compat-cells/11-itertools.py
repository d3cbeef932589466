import itertools as it

rows = [("eng", "ada"), ("eng", "bob"), ("ops", "cy"), ("eng", "dan"), ("ops", "eve")]
for dept, group in it.groupby(sorted(rows), key=lambda r: r[0]):
    print(dept, [name for _, name in group])
print(list(it.islice(it.count(10, 5), 4)), list(it.accumulate([1, 2, 3, 4])))
print(list(it.combinations("abc", 2)), len(list(it.product(range(3), repeat=2))))
print(list(it.chain.from_iterable([[1], [2, 3]])), list(it.zip_longest("ab", "xyz", fillvalue="-")))
