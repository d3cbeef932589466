with open("log.txt", "w") as f:
    f.write("\n".join(f"line {i}: {'ok' if i % 3 else 'FAIL'}" for i in range(1, 10)))

failures = []
with open("log.txt") as f:
    while (line := f.readline()):
        if (pos := line.find("FAIL")) != -1:
            failures.append((line.split(":")[0], pos))
print(failures)
print(sum(1 for _ in open("log.txt")))
