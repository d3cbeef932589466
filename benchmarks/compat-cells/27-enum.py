from enum import Enum, IntEnum, auto

class Status(Enum):
    OPEN = "open"
    CLOSED = "closed"

class Priority(IntEnum):
    LOW = auto()
    HIGH = auto()

print(Status("open"), Status.CLOSED.value, [s.name for s in Status])
print(Priority.HIGH > Priority.LOW, int(Priority.HIGH), sorted([Priority.HIGH, Priority.LOW]))
print(Status.OPEN is Status["OPEN"], isinstance(Status.OPEN, Status))
