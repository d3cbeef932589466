from functools import total_ordering

@total_ordering
class Version:
    def __init__(self, text):
        self.parts = tuple(int(p) for p in text.split("."))
    def __eq__(self, other):
        return self.parts == other.parts
    def __lt__(self, other):
        return self.parts < other.parts
    def __hash__(self):
        return hash(self.parts)
    def __str__(self):
        return ".".join(map(str, self.parts))

vs = [Version(v) for v in ["1.10.0", "1.2.3", "1.2.10", "0.9"]]
print([str(v) for v in sorted(vs)], str(max(vs)))
print(Version("1.2") >= Version("1.2"), len({Version("1.0"), Version("1.0"), Version("2.0")}))
