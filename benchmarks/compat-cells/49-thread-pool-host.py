from concurrent.futures import ThreadPoolExecutor, as_completed

with ThreadPoolExecutor(max_workers=4) as pool:
    items = list(pool.map(lambda i: lookup(id=i), range(1, 9)))
    futures = {pool.submit(lookup, id=i): i for i in (2, 4, 6)}
    prices = {futures[f]: f.result()["price"] for f in as_completed(futures)}
print([item["name"] for item in items][:4], len(items))
print(sorted(prices.items()))
