from collections import namedtuple
from typing import NamedTuple

Point = namedtuple("Point", "x y")
p = Point(1, 2)
print(p, p._replace(y=5), p._asdict())

class Employee(NamedTuple):
    name: str
    dept: str
    salary: int = 1000

staff = [Employee("ada", "eng", 3000), Employee("bob", "ops")]
print(max(staff, key=lambda e: e.salary).name, staff[1])
