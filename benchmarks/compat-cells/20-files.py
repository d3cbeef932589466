import os
from pathlib import Path

out = Path("reports")
out.mkdir(exist_ok=True)
for i in range(3):
    (out / f"day{i}.txt").write_text(f"day {i}\n" * (i + 1))
with open(out / "day0.txt", "a") as f:
    f.write("appended\n")
print(sorted(os.listdir(out)))
print([p.stat().st_size for p in sorted(out.glob("*.txt"))])
print((out / "day0.txt").read_text().splitlines())
print(os.path.exists("reports/day2.txt"), out.joinpath("day1.txt").suffix)
