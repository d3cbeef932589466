from itertools import pairwise
from collections import deque

prices = [10, 12, 11, 15, 14, 18]
print([b - a for a, b in pairwise(prices)])
window, avgs = deque(maxlen=3), []
for p in prices:
    window.append(p)
    if len(window) == 3:
        avgs.append(round(sum(window) / 3, 2))
print(avgs)
print(max(range(len(prices) - 1), key=lambda i: prices[i + 1] - prices[i]))
