from dataclasses import dataclass

@dataclass
class Point:
    x: int
    y: int

def describe(obj):
    match obj:
        case {"type": "user", "name": str(name)}:
            return f"user {name}"
        case [first, *rest]:
            return f"list starting {first} (+{len(rest)})"
        case Point(x=0, y=0):
            return "origin"
        case Point(x=x, y=y) if x == y:
            return f"diagonal {x}"
        case int() | float() as n if n < 0:
            return "negative"
        case _:
            return "other"

for o in [{"type": "user", "name": "ada"}, [1, 2, 3], Point(0, 0), Point(2, 2), -4, "x"]:
    print(describe(o))
