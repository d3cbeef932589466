import json

items = [lookup(id=i) for i in range(1, 8)]
with open("items.json", "w") as f:
    json.dump(items, f)
with open("items.json") as f:
    loaded = json.load(f)
by_tag = {}
for it in loaded:
    for tag in it["tags"]:
        by_tag.setdefault(tag, []).append(it["id"])
print(by_tag)
print(max(loaded, key=lambda it: it["price"])["name"])
