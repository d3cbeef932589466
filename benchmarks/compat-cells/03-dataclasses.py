from dataclasses import dataclass, field, asdict

@dataclass(order=True)
class Item:
    price: float
    name: str = field(compare=False)
    tags: list = field(default_factory=list, compare=False)

items = [Item(3.5, "tea", ["drink"]), Item(1.25, "bun"), Item(2.0, "jam", ["sweet"])]
items.sort()
print([i.name for i in items])
print(asdict(items[-1]))
print(Item(1.0, "x") == Item(1.0, "y"), items[0])
