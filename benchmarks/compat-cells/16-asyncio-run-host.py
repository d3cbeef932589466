import asyncio

async def fetch_all(ids):
    tasks = [alookup(id=i) for i in ids]
    return await asyncio.gather(*tasks)

async def main():
    items = await fetch_all([7, 8, 9])
    odd = [i["id"] for i in items if "odd" in i["tags"]]
    return odd, len(items)

print(asyncio.run(main()))
