from datetime import date

amount = 1234567.891
print(f"{amount:,.2f} | {amount:>15,.1f} | {0.4567:.1%} | {42:08b} | {255:#x}")
name, width = "total", 12
print(f"[{name:^{width}}] [{name!r}] [{3.0:g}] [{1e-7:.2e}]")
print(f"{date(2024, 5, 6):%d.%m.%Y}", f"{'x' * 3=}")
print("{:<6}|{:>6}|".format("ab", "cd"), "%s=%05.1f" % ("v", 3.14159))
