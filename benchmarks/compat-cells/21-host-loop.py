total = 0.0
names = []
for i in range(1, 21):
    item = lookup(id=i)
    if "even" in item["tags"] and item["price"] > 5:
        total += item["price"]
        names.append(item["name"])
print(len(names), names[:3], round(total, 2))
