import heapq
import bisect

scores = [42, 7, 99, 15, 63, 88, 3]
print(heapq.nlargest(3, scores), heapq.nsmallest(2, scores))
h = []
for task in [(3, "write"), (1, "plan"), (2, "code")]:
    heapq.heappush(h, task)
print([heapq.heappop(h)[1] for _ in range(len(h))])
grades = [60, 70, 80, 90]
print([("FDCBA")[bisect.bisect(grades, s)] for s in [55, 70, 85, 99]])
xs = [1, 3, 5]
bisect.insort(xs, 4)
print(xs)
