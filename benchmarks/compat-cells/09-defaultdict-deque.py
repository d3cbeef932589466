from collections import defaultdict, deque, OrderedDict

orders = [("ada", 3), ("bob", 1), ("ada", 5), ("cy", 2), ("bob", 4)]
by_customer = defaultdict(list)
for name, qty in orders:
    by_customer[name].append(qty)
print(dict(by_customer))
q = deque(range(5), maxlen=5)
q.rotate(2)
q.append(9)
print(list(q))
od = OrderedDict(a=1, b=2, c=3)
od.move_to_end("a")
print(list(od))
