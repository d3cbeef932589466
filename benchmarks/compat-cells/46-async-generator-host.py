import asyncio

async def items(ids):
    for i in ids:
        yield await alookup(id=i)

async def main():
    names = [it["name"] async for it in items([2, 4, 6])]
    first = None
    async for it in items([5]):
        first = it["price"]
    return names, first

print(await main())
