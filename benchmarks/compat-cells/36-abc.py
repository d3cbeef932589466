from abc import ABC, abstractmethod

class Notifier(ABC):
    @abstractmethod
    def send(self, msg: str) -> str: ...

    def broadcast(self, msgs):
        return [self.send(m) for m in msgs]

class Email(Notifier):
    def send(self, msg):
        return f"email:{msg}"

try:
    Notifier()
except TypeError as e:
    print("cannot instantiate:", "abstract" in str(e))
print(Email().broadcast(["hi", "bye"]), issubclass(Email, Notifier))
