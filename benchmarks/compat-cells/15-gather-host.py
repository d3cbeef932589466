import asyncio

results = await asyncio.gather(*[alookup(id=i) for i in range(1, 6)])
print([r["name"] for r in results])
print(round(sum(r["price"] for r in results), 2))
