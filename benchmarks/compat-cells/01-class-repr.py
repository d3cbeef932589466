class Account:
    def __init__(self, owner, balance=0):
        self.owner = owner
        self.balance = balance

    def deposit(self, amount):
        if amount <= 0:
            raise ValueError("amount must be positive")
        self.balance += amount
        return self.balance

    def __repr__(self):
        return f"Account({self.owner!r}, {self.balance})"

a = Account("ada")
a.deposit(50)
a.deposit(25)
print(a)
try:
    a.deposit(-1)
except ValueError as e:
    print("error:", e)
