import csv

rows = [{"name": "ada", "score": 91}, {"name": "bob", "score": 78}, {"name": "cy", "score": 85}]
with open("scores.csv", "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=["name", "score"])
    w.writeheader()
    w.writerows(rows)
with open("scores.csv", newline="") as f:
    back = list(csv.DictReader(f))
print(back[0])
print(sum(int(r["score"]) for r in back) / len(back))
print(open("scores.csv").read().splitlines())
