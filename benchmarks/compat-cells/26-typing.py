from typing import Optional, TypedDict, Generic, TypeVar

class Movie(TypedDict):
    title: str
    year: int

T = TypeVar("T")

class Stack(Generic[T]):
    def __init__(self) -> None:
        self.items: list[T] = []

    def push(self, item: T) -> None:
        self.items.append(item)

    def pop(self) -> Optional[T]:
        return self.items.pop() if self.items else None

def newest(movies: list[Movie]) -> Movie:
    return max(movies, key=lambda m: m["year"])

s: Stack[int] = Stack()
s.push(1)
s.push(2)
print(s.pop(), s.pop(), s.pop())
print(newest([{"title": "A", "year": 1999}, {"title": "B", "year": 2004}]))
