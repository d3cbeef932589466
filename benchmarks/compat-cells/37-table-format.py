rows = [("widget", 4, 3.5), ("gadget", 12, 10.0), ("doohickey", 1, 99.99)]
header = f"{'item':<10}{'qty':>5}{'price':>9}{'total':>10}"
print(header)
print("-" * len(header))
for name, qty, price in rows:
    print(f"{name:<10}{qty:>5}{price:>9.2f}{qty * price:>10.2f}")
print(f"{'sum':<10}{sum(r[1] for r in rows):>5}{'':>9}{sum(r[1] * r[2] for r in rows):>10.2f}")
